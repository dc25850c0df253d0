#!/usr/bin/env bash
# test_agent_crash.sh AGENT - crash safety of heliosrepl-agent under a live
# workload: the agent is killed with SIGKILL at random moments (24 times)
# and restarted each time; the target server and then the source server are
# restarted (immediate shutdown: a crash) while the agent runs. At the end
# the tenant's rows on the target equal the source's: nothing missing,
# nothing doubled (every table has a primary key and the checksums match).
. "$(dirname "$0")/agent_lib.sh"

setup_demo
write_config "$WORK/agent.ini" acme
start_workload
kills=0
RANDOM=4242
for ((i = 1; i <= 24; i++)); do
    "$AGENT" -c "$WORK/agent.ini" >>"$WORK/agent-run.log" 2>&1 &
    pid=$!
    sleep "0.$((RANDOM % 9 + 1))$((RANDOM % 10))"
    if ((i == 8)); then
        say "restarting the target server under the agent"
        "$HR_TEST_SUPPORT_DIR/hr-pg-restart" "$HR_TEST_PG_TARGET_DIR" immediate
        sleep 1.5
    elif ((i == 16)); then
        say "restarting the source server under the agent"
        "$HR_TEST_SUPPORT_DIR/hr-pg-restart" "$HR_TEST_PG_SOURCE_DIR" immediate
        sleep 2
    fi
    kill -0 "$pid" 2>/dev/null || die "the agent died on its own (run $i)"
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
    kills=$((kills + 1))
done
say "killed the agent $kills times"
stop_workload
catch_up "$WORK/agent.ini"
verify acme
