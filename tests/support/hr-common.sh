# hr-common.sh - helpers shared by the hr-* test-server scripts.
#
# Sourced, never executed. The scripts that source it run with
# `set -euo pipefail`; every function here is written for that mode.
# shellcheck shell=bash

# Messages from postgres/initdb/nats are matched below; keep them in English.
export LC_ALL=C

# Seconds to wait for a server to become ready (override for slow machines).
HR_START_TIMEOUT=${HR_START_TIMEOUT:-60}

# How many random ports to try before giving up on binding a server.
HR_PORT_ATTEMPTS=${HR_PORT_ATTEMPTS:-10}

# Name of the program for messages: the script that sourced us.
HR_PROG=${HR_PROG:-$(basename "$0")}

hr_die() {
    printf '%s: error: %s\n' "$HR_PROG" "$*" >&2
    exit 1
}

hr_note() {
    printf '%s: %s\n' "$HR_PROG" "$*" >&2
}

# hr_check_path DIR: the path ends up inside postgresql.conf between single
# quotes and in a Unix socket name (at most 107 bytes on Linux), so keep it
# to a safe character set and short enough.
hr_check_path() {
    local dir=$1
    [[ $dir =~ ^[A-Za-z0-9/._-]+$ ]] ||
        hr_die "path '$dir' has characters other than A-Z a-z 0-9 / . _ -"
    # "/.s.PGSQL.65535.lock" is 20 bytes; the limit is sizeof(sun_path)-1.
    ((${#dir} + 20 <= 107)) ||
        hr_die "path '$dir' is too long for a Unix socket; use a shorter one"
}

# hr_port_in_use PORT: true if something accepts TCP connections on
# 127.0.0.1:PORT. Uses bash's /dev/tcp; a refused connection fails at once.
hr_port_in_use() {
    # The port is expanded by the inner bash, from its $1.
    # shellcheck disable=SC2016
    timeout 2 bash -c ': <>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

# hr_pick_port: print a random port that nothing listens on right now.
# The range 20000-32767 lies below Linux's default ephemeral range
# (32768-60999), so outgoing connections do not take our ports. A port can
# still be taken between this check and the server's bind (another test
# starting in parallel); callers retry with a new port when the bind fails.
hr_pick_port() {
    local port i
    for ((i = 0; i < 50; i++)); do
        port=$((20000 + RANDOM % 12768))
        if ! hr_port_in_use "$port"; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    hr_die "could not find a free TCP port in 20000-32767"
}

# hr_run_user: print the unprivileged user servers run as when we are root
# (PostgreSQL refuses to run as root): `postgres` if it exists, else a
# system user `hrtest`, created on first use. Prints nothing when not root.
hr_run_user() {
    ((EUID == 0)) || return 0
    if id -u postgres >/dev/null 2>&1; then
        printf 'postgres\n'
        return 0
    fi
    if ! id -u hrtest >/dev/null 2>&1; then
        # Several scripts may get here at once: serialize the creation.
        (
            flock 9
            id -u hrtest >/dev/null 2>&1 ||
                useradd --system --no-create-home --shell /usr/sbin/nologin \
                    hrtest
        ) 9>/tmp/.hr-useradd.lock
    fi
    printf 'hrtest\n'
}

# hr_as USER CMD ARGS...: run CMD as USER (empty USER: as ourselves).
hr_as() {
    local user=$1
    shift
    if [[ -n $user ]]; then
        runuser -u "$user" -- "$@"
    else
        "$@"
    fi
}

# hr_pid_alive PID: true if PID names a live (non-zombie) process.
hr_pid_alive() {
    local state
    [[ $1 =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$1/stat ]] || return 1
    # Field 3 of /proc/PID/stat is the state; it follows the ")" that ends
    # the command name (which may itself contain spaces or parentheses).
    state=$(sed -e 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) ||
        return 1
    [[ -n $state && $state != Z && $state != X ]]
}

# hr_pid_start_time PID: the process start time (field 22 of
# /proc/PID/stat), which together with the pid names a process uniquely.
hr_pid_start_time() {
    sed -e 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20
}

# hr_wait_gone PID SECONDS: wait until PID has exited; false on timeout.
hr_wait_gone() {
    local pid=$1 tenths=$(($2 * 10)) i
    for ((i = 0; i < tenths; i++)); do
        hr_pid_alive "$pid" || return 0
        sleep 0.1
    done
    ! hr_pid_alive "$pid"
}

# hr_pg_bindir: the PostgreSQL 15 binaries (HR_PG_BINDIR overrides).
hr_pg_bindir() {
    if [[ -n ${HR_PG_BINDIR:-} ]]; then
        printf '%s\n' "$HR_PG_BINDIR"
    elif [[ -x /usr/lib/postgresql/15/bin/pg_ctl ]]; then
        printf '%s\n' /usr/lib/postgresql/15/bin
    elif command -v pg_config >/dev/null 2>&1; then
        pg_config --bindir
    else
        hr_die "PostgreSQL binaries not found; set HR_PG_BINDIR"
    fi
}

# hr_dump_log FILE: copy a server log to stderr, framed, for failed starts.
hr_dump_log() {
    local file=$1
    if [[ -s $file ]]; then
        printf '%s: ---- %s ----\n' "$HR_PROG" "$file" >&2
        cat -- "$file" >&2 || true
        printf '%s: ---- end of %s ----\n' "$HR_PROG" "$file" >&2
    fi
}
