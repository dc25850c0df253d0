#!/usr/bin/env bash
# test_harness_parallel.sh WITH_SERVERS
#
# Two with-servers instances, each with `--pg a`, run at the same time:
# both must run CMD against their own server (different ports, different
# directories), truly overlapping (each waits for the other at a barrier),
# and once both are done, no process of theirs (postgres, the watchdog)
# may remain and both temporary directories must be gone.
set -euo pipefail

with_servers=${1:?usage: $0 WITH_SERVERS}
export PATH=/usr/lib/postgresql/15/bin:$PATH

work=$(mktemp -d /tmp/hr-harness-XXXXXX)
trap 'rm -rf -- "$work"' EXIT

fail() {
    printf 'FAIL: %s\n' "$*" >&2
    exit 1
}

# What each instance runs (as CMD): record what it got, meet the other
# instance at a barrier, and ask its server for its port.
cat >"$work/cmd.sh" <<'EOF'
#!/usr/bin/env bash
set -euo pipefail
me=$1 other=$2 out=$3
printf '%s\n' "$HR_TEST_DIR" >"$out/$me.dir"
: >"$out/$me.ready"
for ((i = 0; i < 600; i++)); do
    [[ -e $out/$other.ready ]] && break
    sleep 0.1
done
[[ -e $out/$other.ready ]] || { echo "$me: $other never got ready" >&2; exit 1; }
psql "$HR_TEST_PG_A" -XAtc 'SELECT inet_server_port()' >"$out/$me.port"
[[ $(cat "$out/$me.port") == $(sed 's/.*port=\([0-9]*\).*/\1/' <<<"$HR_TEST_PG_A") ]]
EOF
chmod +x "$work/cmd.sh"

start=$SECONDS
"$with_servers" --pg a -- "$work/cmd.sh" one two "$work" 2>"$work/one.err" &
pid_one=$!
"$with_servers" --pg a -- "$work/cmd.sh" two one "$work" 2>"$work/two.err" &
pid_two=$!
rc_one=0 rc_two=0
wait "$pid_one" || rc_one=$?
wait "$pid_two" || rc_two=$?
printf 'both instances done in %ss\n' "$((SECONDS - start))"
((rc_one == 0)) || { cat "$work/one.err" >&2; fail "instance one exited $rc_one"; }
((rc_two == 0)) || { cat "$work/two.err" >&2; fail "instance two exited $rc_two"; }

port_one=$(cat "$work/one.port") port_two=$(cat "$work/two.port")
dir_one=$(cat "$work/one.dir") dir_two=$(cat "$work/two.dir")
printf 'one: port %s in %s\ntwo: port %s in %s\n' \
    "$port_one" "$dir_one" "$port_two" "$dir_two"
[[ -n $port_one && -n $port_two ]] || fail "a server did not answer"
[[ $port_one != "$port_two" ]] || fail "both instances got port $port_one"
[[ $dir_one != "$dir_two" ]] || fail "both instances got directory $dir_one"

[[ ! -e $dir_one ]] || fail "$dir_one still exists"
[[ ! -e $dir_two ]] || fail "$dir_two still exists"

# No process may still mention either directory (postmasters, backends
# show their data dir; nats and the watchdog take it as an argument). The
# watchdog polls once a second, so give it a moment to notice.
leftovers() {
    local p cmdline
    for p in /proc/[0-9]*; do
        cmdline=$({ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null) || continue
        if [[ $cmdline == *"$dir_one"* || $cmdline == *"$dir_two"* ]]; then
            printf '%s: %s\n' "${p#/proc/}" "$cmdline"
        fi
    done
}
for ((i = 0; i < 50; i++)); do
    [[ -n $(leftovers) ]] || break
    sleep 0.1
done
left=$(leftovers)
[[ -z $left ]] || fail "processes left behind: $left"
printf 'PASS\n'
