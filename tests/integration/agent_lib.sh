# shellcheck shell=bash
# agent_lib.sh - shared by the heliosrepl-agent integration tests (run under
# with-servers --pg source --pg target, the agent binary as $1): the demo
# schema, a background workload, agent runs, and the verification that a
# tenant's rows on the target equal the source's.
set -euo pipefail

AGENT=$1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEMO=$HERE/../../examples/demo
SRC=$HR_TEST_PG_SOURCE
DST=$HR_TEST_PG_TARGET
WORK=$HR_TEST_DIR
export PGTZ=UTC PGOPTIONS='-c client_min_messages=warning'

say() { printf '%s %s\n' "$(date +%T.%3N)" "$*" >&2; }
die() {
    say "FAIL: $*"
    for f in "$WORK"/agent-*.log; do
        [[ -s $f ]] || continue
        printf -- '---- tail of %s\n' "$f" >&2
        tail -n 25 "$f" >&2
    done
    exit 1
}
trap 'die "command failed at line $LINENO"' ERR
psql_q() { psql "$1" -X -q -v ON_ERROR_STOP=1 "${@:2}"; }
sql1() { psql "$1" -X -At -v ON_ERROR_STOP=1 -c "$2"; }

setup_demo() {
    psql_q "$SRC" -f "$DEMO/schema.sql" -f "$DEMO/seed.sql" >/dev/null
    psql_q "$DST" -f "$DEMO/schema.sql"
}

# write_config FILE TENANT... : an agent config for these tenants.
write_config() {
    local file=$1
    shift
    local tenants
    tenants=$(printf '%s,' "$@")
    cat >"$file" <<INI
[source]
conninfo = $SRC
[target]
conninfo = $DST
[replication]
tenants = ${tenants%,}
schemas = demo
[agent]
progress_interval = 0
status_interval_ms = 500
INI
}

# A workload of short CALLs until $WORK/stop-work exists (a CALL cut by a
# server restart is just retried).
start_workload() {
    rm -f "$WORK/stop-work"
    (
        seed=1
        while [[ ! -e $WORK/stop-work ]]; do
            psql "$SRC" -X -q -c "CALL demo.workload(2, 0.$seed)" \
                >/dev/null 2>&1 || sleep 0.3
            seed=$((seed % 97 + 1))
        done
    ) &
    WORKLOAD_PID=$!
}

stop_workload() {
    touch "$WORK/stop-work"
    wait "$WORKLOAD_PID" || true
}

# catch_up CONFIG: run the agent until it has applied all the source has.
catch_up() {
    local rc=0
    "$AGENT" -c "$1" --until-caught-up --timeout 120 \
        >>"$WORK/agent-final.log" 2>&1 || rc=$?
    ((rc == 0)) || die "the final agent run exited with $rc"
}

# verify TENANT... : those tenants' rows are equal on both sides (count and
# checksum per table); every other tenant has no row on the target.
verify() {
    psql_q "$SRC" -At -F' ' -f "$DEMO/verify.sql" >"$WORK/source.sum"
    psql_q "$DST" -At -F' ' -f "$DEMO/verify.sql" >"$WORK/target.sum"
    local want=" $* " tbl tenant rows sum
    while read -r tbl tenant rows sum; do
        if [[ $want == *" $tenant "* ]]; then
            grep -qx "$tbl $tenant $rows $sum" "$WORK/target.sum" ||
                die "$tbl of $tenant differs: source $rows rows $sum, target" \
                    "$(grep "^$tbl $tenant " "$WORK/target.sum" || echo none)"
        elif grep -q "^$tbl $tenant " "$WORK/target.sum"; then
            die "$tbl: tenant $tenant leaked to the target"
        fi
    done <"$WORK/source.sum"
    say "verified: $* equal on the target ($(wc -l <"$WORK/source.sum") table/tenant pairs checked)"
}
