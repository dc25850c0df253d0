#!/usr/bin/env bash
# check-install.sh SRC_DIR BUILD_DIR
#
# Installs BUILD_DIR into a temporary prefix (cmake --install --prefix) and
# uses the result the way a host project does:
#   1. the files: libheliosrepl.so -> .so.1 -> .so.1.x.y with SONAME
#      libheliosrepl.so.1, the static archive, the public headers (and no
#      private ones), the pkg-config file and the CMake package, none of them
#      pointing back into the source or build tree;
#   2. pkg-config: consumer.c built with `pkg-config --cflags --libs
#      heliosrepl`, run against the installed shared library; and linked with
#      the static archive plus the libraries of Requires.private;
#   3. CMake: consumer-cmake/ with find_package(heliosrepl 1.0 REQUIRED),
#      linked with heliosrepl::heliosrepl and heliosrepl::heliosrepl_static.
# Environment: CMAKE (cmake to use), CC (C compiler), HR_CONSUMER_FLAGS (extra
# compile+link flags for the consumers, e.g. -fsanitize=... for a sanitizer
# build), HR_KEEP_TMP=1 to keep the temporary directory.
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 SRC_DIR BUILD_DIR" >&2; exit 2; }
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
here="$src/tests/install"
cmake=${CMAKE:-cmake}
cc=${CC:-cc}
read -r -a extra <<<"${HR_CONSUMER_FLAGS:-}"
cstd=(-std=c99 -Wall -Wextra -Werror -pedantic)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hr-install.XXXXXX")
if [ "${HR_KEEP_TMP:-0}" = 1 ]; then
    echo "keeping $tmp"
else
    trap 'rm -rf "$tmp"' EXIT
fi
prefix="$tmp/prefix"
fails=0

step() { echo "== $*"; }
ok() { echo "ok   $*"; }
fail() {
    echo "FAIL $*" >&2
    fails=$((fails + 1))
}
run_logged() { # description command... : run, show the log on failure
    local log="$tmp/log"
    if "${@:2}" >"$log" 2>&1; then
        return 0
    fi
    fail "$1: $(printf '%q ' "${@:2}")"
    sed 's/^/     /' "$log" >&2
    return 1
}
# needed BINARY: the DT_NEEDED entries
needed() { readelf --dynamic --wide "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' || true; }
# check_shared_run NAME BINARY [ENV...]: links libheliosrepl.so.1, resolves it
# from the install prefix, and runs.
check_shared_run() {
    local name=$1 bin=$2 resolved
    shift 2
    needed "$bin" | grep -qx 'libheliosrepl.so.1' ||
        fail "$name does not need libheliosrepl.so.1: $(needed "$bin" | tr '\n' ' ')"
    resolved=$(env "$@" ldd "$bin" 2>&1 | awk '$1 == "libheliosrepl.so.1" { print $3 }' || true)
    case "$resolved" in
        "$libdir"/*) ok "$name loads $resolved" ;;
        *) fail "$name loads libheliosrepl.so.1 from '${resolved:-nowhere}', not from $libdir" ;;
    esac
    run_logged "run $name" env "$@" "$bin" "$name" && ok "$name runs: $(cat "$tmp/log")"
}
# check_static_run NAME BINARY: no libheliosrepl.so dependency, runs alone.
check_static_run() {
    local name=$1 bin=$2
    if needed "$bin" | grep -q '^libheliosrepl'; then
        fail "$name is linked with the shared library, not the archive"
    fi
    run_logged "run $name" env -u LD_LIBRARY_PATH "$bin" "$name" &&
        ok "$name runs: $(cat "$tmp/log")"
}

# ---------------------------------------------------------------- install
step "cmake --install $build --prefix $prefix"
run_logged "cmake --install" "$cmake" --install "$build" --prefix "$prefix" || exit 1

pc=$(find "$prefix" -path '*/pkgconfig/heliosrepl.pc' | head -n1)
[ -n "$pc" ] || { fail "no heliosrepl.pc installed"; exit 1; }
libdir=$(dirname "$(dirname "$pc")")
ok "libdir ${libdir#"$prefix"/}"

# ---------------------------------------------------------------- files
step "installed files"
so="$libdir/libheliosrepl.so"
if [ -L "$so" ] && [ "$(readlink "$so")" = libheliosrepl.so.1 ]; then
    ok "libheliosrepl.so -> libheliosrepl.so.1"
else
    fail "libheliosrepl.so is not a symlink to libheliosrepl.so.1 ($(ls -l "$so" 2>&1))"
fi
real=$(readlink "$libdir/libheliosrepl.so.1" || true)
if [ -L "$libdir/libheliosrepl.so.1" ] && [[ "$real" =~ ^libheliosrepl\.so\.1\.[0-9]+\.[0-9]+$ ]] &&
    [ -f "$libdir/$real" ] && [ ! -L "$libdir/$real" ]; then
    ok "libheliosrepl.so.1 -> $real"
else
    fail "libheliosrepl.so.1 is not a symlink to a libheliosrepl.so.1.x.y file ($(ls -l "$libdir"/libheliosrepl.so* 2>&1 | tr '\n' ' '))"
fi
realfile=$(find "$libdir" -maxdepth 1 -type f -name 'libheliosrepl.so*' | head -n1)
soname=$(readelf --dynamic --wide "${realfile:-$libdir/libheliosrepl.so.1}" 2>/dev/null |
    sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p' || true)
if [ "$soname" = libheliosrepl.so.1 ]; then ok "SONAME $soname"; else fail "SONAME is '$soname'"; fi
rpath=$(readelf --dynamic --wide "${realfile:-$libdir/libheliosrepl.so.1}" 2>/dev/null |
    sed -n 's/.*(R[UN]*PATH).*\[\(.*\)\]/\1/p' || true)
case "$rpath" in
    *"$build"* | *"$src"*) fail "installed library keeps a build RPATH/RUNPATH: $rpath" ;;
esac
[ -f "$libdir/libheliosrepl.a" ] && ok "libheliosrepl.a" || fail "no libheliosrepl.a"

incdir="$prefix/include/heliosrepl"
for h in "$src"/include/heliosrepl/*.h heliosrepl/version.h; do
    [ -f "$incdir/$(basename "$h")" ] || fail "header $(basename "$h") not installed"
done
stray=$(cd "$prefix/include" 2>/dev/null && find . -type f ! -name '*.h' | sed 's|^\./||' || true)
[ -z "$stray" ] || fail "non-header files installed under include/: $stray"
extra_h=$(cd "$incdir" 2>/dev/null && for h in *.h; do
    [ "$h" = version.h ] || [ -f "$src/include/heliosrepl/$h" ] || echo "$h"
done || true)
[ -z "$extra_h" ] || fail "headers installed that are not public: $extra_h"
ok "headers: $(cd "$incdir" && echo *.h)"

[ -f "$libdir/cmake/heliosrepl/heliosreplConfig.cmake" ] &&
    [ -f "$libdir/cmake/heliosrepl/heliosreplConfigVersion.cmake" ] ||
    fail "CMake package files missing in ${libdir#"$prefix"/}/cmake/heliosrepl"
leaks=$(grep -rlF -e "$build" -e "$src" "$libdir/cmake" "$pc" "$prefix/include" || true)
[ -z "$leaks" ] || fail "installed files refer to the source or build tree: $leaks"

# ---------------------------------------------------------------- pkg-config
step "pkg-config consumer"
# The .pc file names the configure-time prefix (CMAKE_INSTALL_PREFIX); a
# staged install is used by relocating it. libdir and includedir must be
# relative to ${prefix} for that to work, which is checked below.
mkdir -p "$tmp/pc"
sed "s|^prefix=.*|prefix=$prefix|" "$pc" >"$tmp/pc/heliosrepl.pc"
export PKG_CONFIG_PATH="$tmp/pc${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
pc_libdir=$(pkg-config --variable=libdir heliosrepl || true)
pc_incdir=$(pkg-config --variable=includedir heliosrepl || true)
[ "$pc_libdir" = "$libdir" ] || fail "heliosrepl.pc libdir is $pc_libdir, installed in $libdir"
[ "$pc_incdir" = "$prefix/include" ] || fail "heliosrepl.pc includedir is $pc_incdir"
pc_version=$(pkg-config --modversion heliosrepl || true)
ok "heliosrepl.pc version $pc_version"

read -r -a pc_cflags <<<"$(pkg-config --cflags heliosrepl)"
read -r -a pc_libs <<<"$(pkg-config --libs heliosrepl)"
if run_logged "build consumer with pkg-config" \
    "$cc" "${cstd[@]}" "${extra[@]}" "${pc_cflags[@]}" "$here/consumer.c" \
    -o "$tmp/consumer_pc" "${pc_libs[@]}"; then
    check_shared_run pkg-config-shared "$tmp/consumer_pc" LD_LIBRARY_PATH="$libdir"
fi

# Static archive: its own libs with -lheliosrepl pinned to the archive, plus
# the libraries of Requires.private (shared). `pkg-config --static` would ask
# for every dependency's own private libraries too (a fully static link).
mapfile -t pc_requires < <(pkg-config --print-requires-private heliosrepl)
read -r -a pc_dep_libs <<<"$(pkg-config --libs "${pc_requires[@]}")"
pc_static_libs=()
for f in "${pc_libs[@]}"; do
    if [ "$f" = -lheliosrepl ]; then pc_static_libs+=("-l:libheliosrepl.a"); else pc_static_libs+=("$f"); fi
done
if run_logged "build static consumer with pkg-config" \
    "$cc" "${cstd[@]}" "${extra[@]}" "${pc_cflags[@]}" "$here/consumer.c" \
    -o "$tmp/consumer_pc_static" "${pc_static_libs[@]}" "${pc_dep_libs[@]}"; then
    check_static_run pkg-config-static "$tmp/consumer_pc_static"
fi

# ---------------------------------------------------------------- CMake
step "CMake consumer (find_package(heliosrepl 1.0))"
if run_logged "configure consumer-cmake" \
    "$cmake" -S "$here/consumer-cmake" -B "$tmp/cmake-build" \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_C_FLAGS="${extra[*]}" -DCMAKE_EXE_LINKER_FLAGS="${extra[*]}" \
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF; then
    found=$(sed -n 's/^heliosrepl_DIR:PATH=//p' "$tmp/cmake-build/CMakeCache.txt")
    [ "$found" = "$libdir/cmake/heliosrepl" ] ||
        fail "find_package used '$found', not the install in $libdir/cmake/heliosrepl"
    if run_logged "build consumer-cmake" "$cmake" --build "$tmp/cmake-build"; then
        check_shared_run cmake-shared "$tmp/cmake-build/consumer_shared"
        check_static_run cmake-static "$tmp/cmake-build/consumer_static"
    fi
fi

if [ "$fails" -ne 0 ]; then
    echo "$fails install check(s) failed" >&2
    exit 1
fi
echo "install checks passed"
