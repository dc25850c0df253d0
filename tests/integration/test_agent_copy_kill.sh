#!/usr/bin/env bash
# test_agent_copy_kill.sh AGENT - SIGKILL during the initial copy: a tenant
# with a large table is killed again and again while its copy runs (the
# slot then exists without a snapshot: the agent resumes with a snapshot of
# its own, skips the tables already copied and replays the overlap
# idempotently), with a workload running; at the end the target equals the
# source.
. "$(dirname "$0")/agent_lib.sh"

setup_demo
psql_q "$SRC" -c "INSERT INTO demo.events
    SELECT 'acme', nextval('demo.events_id'), 'bulk', timestamptz '2024-06-01 00:00+00' + g * interval '1 s',
           g / 3.0, g % 2 = 0, jsonb_build_object('n', g, 'blob', repeat('x', g % 40))
    FROM generate_series(1, 250000) g; ANALYZE demo.events"
write_config "$WORK/agent.ini" acme
start_workload
partial=0
for delay in 0.6 0.9 1.2 1.5 1.8 2.4; do
    "$AGENT" -c "$WORK/agent.ini" >>"$WORK/agent-run.log" 2>&1 &
    pid=$!
    sleep "$delay"
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
    done_tables=$(sql1 "$DST" "SELECT count(*) FROM heliosrepl.copy_progress WHERE tenant = 'acme'" 2>/dev/null || echo 0)
    finished=$(sql1 "$DST" "SELECT count(*) FROM heliosrepl.checkpoints WHERE tenant = 'acme'" 2>/dev/null || echo 0)
    say "killed after ${delay}s: $done_tables table(s) copied, copy finished: $finished"
    [[ $finished != 0 ]] || partial=$((partial + 1))
done
((partial > 0)) || die "no kill landed during the copy (make the table larger)"
stop_workload
catch_up "$WORK/agent.ini"
verify acme
