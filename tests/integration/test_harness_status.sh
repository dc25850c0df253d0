#!/usr/bin/env bash
# test_harness_status.sh WITH_SERVERS
#
# with-servers passes CMD's exit status through and leaves nothing behind,
# whichever way it ends:
#   1. CMD fails with status 7            -> 7, servers stopped, dir removed
#   2. no servers at all                  -> CMD runs, 0
#   3. with-servers gets SIGTERM          -> 143, CMD terminated, cleaned up
#   4. with-servers gets SIGKILL          -> the watchdog cleans up
#   5. a server fails to start            -> 1, its log on stderr, CMD not run
#   6. bad arguments                      -> 2 (usage)
# Every run uses HR_TEST_TMPDIR=$work/t, which must end up empty.

# The single-quoted scripts below are for the inner bash to expand.
# shellcheck disable=SC2016
set -euo pipefail

with_servers=${1:?usage: $0 WITH_SERVERS}

work=$(mktemp -d /tmp/hr-status-XXXXXX)
chmod 0755 "$work"
mkdir -m 0755 "$work/t"
export HR_TEST_TMPDIR=$work/t
trap 'rm -rf -- "$work"' EXIT

fail() {
    printf 'FAIL: %s\n' "$*" >&2
    exit 1
}

# no_leftovers WHAT: nothing in $work/t, and no process mentions it.
no_leftovers() {
    local what=$1 i p cmdline left
    for ((i = 0; i < 100; i++)); do
        left=
        for p in /proc/[0-9]*; do
            cmdline=$({ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null) || continue
            [[ $cmdline != *"$work/t/"* ]] || left+="${p#/proc/}: $cmdline; "
        done
        [[ -n $left || -n $(ls -A "$work/t") ]] || return 0
        sleep 0.1
    done
    fail "$what: left behind: processes: ${left:-none}; files: $(ls -A "$work/t")"
}

# run_ws EXPECTED_RC WHAT ARGS...: run with-servers, check its status.
run_ws() {
    local expected=$1 what=$2 rc=0
    shift 2
    "$with_servers" "$@" 2>"$work/err" || rc=$?
    if ((rc != expected)); then
        cat "$work/err" >&2
        fail "$what: exit status $rc, expected $expected"
    fi
    no_leftovers "$what"
    printf 'ok: %s\n' "$what"
}

# wait_for FILE: until CMD has written FILE (at most 60 s).
wait_for() {
    local i
    for ((i = 0; i < 600; i++)); do
        [[ -s $1 ]] && return 0
        sleep 0.1
    done
    fail "timed out waiting for $1"
}

# 1. CMD's status comes back, after a real server ran.
run_ws 7 "CMD status" --pg a --nats -- bash -c \
    '[[ -n $HR_TEST_PG_A && -n $HR_TEST_NATS_URL ]] && exit 7'

# 2. No servers.
run_ws 0 "no servers" -- true

# 3. SIGTERM: forwarded to CMD, servers stopped, 143.
rm -f "$work/cmd.pid"
"$with_servers" --pg a --nats -- bash -c \
    'echo $$ >"$0"; exec sleep 300' "$work/cmd.pid" 2>"$work/err" &
ws=$!
wait_for "$work/cmd.pid"
kill -TERM "$ws"
rc=0
wait "$ws" || rc=$?
((rc == 143)) || { cat "$work/err" >&2; fail "SIGTERM: exit status $rc, expected 143"; }
cmd_pid=$(cat "$work/cmd.pid")
[[ ! -e /proc/$cmd_pid ]] || fail "SIGTERM: CMD $cmd_pid still runs"
no_leftovers "SIGTERM"
printf 'ok: SIGTERM\n'

# 4. SIGKILL: no trap runs; the watchdog must stop the servers. CMD
# survives with-servers (nothing can forward a SIGKILL), so end it here.
rm -f "$work/cmd.pid"
"$with_servers" --pg a --nats -- bash -c \
    'echo $$ >"$0"; exec sleep 300' "$work/cmd.pid" 2>"$work/err" &
ws=$!
wait_for "$work/cmd.pid"
kill -KILL "$ws"
{ wait "$ws"; } 2>/dev/null || true # (no "Killed" job message)
kill -TERM "$(cat "$work/cmd.pid")" 2>/dev/null || true
no_leftovers "SIGKILL"
printf 'ok: SIGKILL (watchdog)\n'

# 5. A server that cannot start: its log is shown, CMD never runs.
rm -f "$work/ran"
run_ws 1 "failed start" --pg a --pg-conf hr_no_such_setting=1 -- \
    touch "$work/ran"
[[ ! -e $work/ran ]] || fail "failed start: CMD ran"
grep -q 'unrecognized configuration parameter "hr_no_such_setting"' "$work/err" ||
    { cat "$work/err" >&2; fail "failed start: server log not on stderr"; }

# 6. Usage errors.
run_ws 2 "no CMD" --pg a --
run_ws 1 "duplicate --pg" --pg a --pg A -- true
run_ws 1 "bad --pg name" --pg 'a-b' -- true

printf 'PASS\n'
