# shellcheck shell=bash
# common.sh - shared by scripts/test, scripts/demo and scripts/bench:
# installs the Debian packages that are missing, and configures/builds.

HR_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HR_JOBS=$(nproc 2>/dev/null || echo 2)

hr_say() { printf '==> %s\n' "$*" >&2; }

# hr_install_missing PKG... : apt-get install -y only what dpkg says is missing.
hr_install_missing() {
    local missing=() pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$pkg")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    hr_say "installing missing packages: ${missing[*]}"
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "need root or sudo to install: ${missing[*]}" >&2; return 1; }
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# What building the library needs.
HR_BUILD_PACKAGES=(build-essential cmake pkg-config libpq-dev libzstd-dev
    libsnappy-dev libssl-dev libnats-dev libxxhash-dev libinih-dev libjansson-dev
    libxgboost-dev check)
# What the servers of the demo and the integration tests need.
HR_SERVER_PACKAGES=(postgresql-15 nats-server util-linux procps)
# What the whole test suite needs on top: second compiler + sanitizers,
# ABI tools, bindings' toolchains.
HR_TEST_PACKAGES=(clang libclang-rt-14-dev g++ abigail-tools golang-go python3)

# hr_build DIR [cmake args...] : configure (once) and build into DIR.
hr_build() {
    local dir=$1
    shift
    cmake -S "$HR_ROOT" -B "$dir" "$@" >/dev/null
    cmake --build "$dir" -j "$HR_JOBS" >&2
}
