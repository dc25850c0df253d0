#!/usr/bin/env bash
# test_agent_order.sh AGENT - ordering: one row updated in 3000 transactions
# (and a few rows in interleaved ones) ends on the target with the source's
# final value; the agent's command-line errors (exit status 2); a clean
# SIGTERM (exit 0); a table missing on the target (the tenant fails with
# the table named: exit 1).
. "$(dirname "$0")/agent_lib.sh"

rc=0
"$AGENT" --bogus >/dev/null 2>&1 || rc=$?
((rc == 2)) || die "an unknown flag gave $rc, not 2"
rc=0
"$AGENT" --source "$SRC" --target "$DST" >/dev/null 2>&1 || rc=$?
((rc == 2)) || die "no tenant gave $rc, not 2"
rc=0
"$AGENT" --source x --target y -t 'bad id!' >/dev/null 2>&1 || rc=$?
((rc == 2)) || die "a bad tenant id gave $rc, not 2"

setup_demo
write_config "$WORK/agent.ini" acme globex
"$AGENT" -c "$WORK/agent.ini" >>"$WORK/agent-run.log" 2>&1 &
pid=$!
psql_q "$SRC" -c "
CREATE PROCEDURE demo.hammer() LANGUAGE plpgsql AS \$\$
BEGIN
    FOR i IN 1 .. 3000 LOOP
        UPDATE demo.customers SET balance = i, name = 'v' || i, profile = jsonb_build_object('i', i)
         WHERE tenant_id = 'acme' AND id = (SELECT min(id) FROM demo.customers WHERE tenant_id = 'acme');
        IF i % 3 = 0 THEN
            UPDATE demo.orders SET total = i, status = 's' || i
             WHERE tenant_id = 'globex' AND id IN (SELECT id FROM demo.orders WHERE tenant_id = 'globex' ORDER BY id LIMIT 3);
        END IF;
        COMMIT;
    END LOOP;
END \$\$"
psql_q "$SRC" -c "CALL demo.hammer()"
kill -USR1 "$pid"
rc=0
wait "$pid" || rc=$?
((rc == 0)) || die "the agent exited with $rc after SIGUSR1"
final=$(sql1 "$DST" "SELECT name || ' ' || balance FROM demo.customers WHERE tenant_id = 'acme' ORDER BY id LIMIT 1")
[[ $final == "v3000 3000.00" ]] || die "the hammered row ended as '$final'"
verify acme globex

# A clean SIGTERM exits 0 and leaves the target consistent.
"$AGENT" -c "$WORK/agent.ini" >>"$WORK/agent-run.log" 2>&1 &
pid=$!
sleep 1
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
((rc == 0)) || die "SIGTERM gave exit status $rc"

# A table the target lacks: the tenant fails with the table named, exit 1.
# (A first run adds the new table to the tenants' publications; changes
# made before that are not in the stream - logical decoding reads the
# publication as of each change.)
psql_q "$SRC" -c "CREATE TABLE demo.extra (tenant_id text NOT NULL, id int NOT NULL, PRIMARY KEY (tenant_id, id))"
catch_up "$WORK/agent.ini"
psql_q "$SRC" -c "INSERT INTO demo.extra VALUES ('acme', 1), ('globex', 1)"
rc=0
"$AGENT" -c "$WORK/agent.ini" --until-caught-up --timeout 60 \
    >"$WORK/agent-schema.log" 2>&1 || rc=$?
((rc == 1)) || die "a missing target table gave exit status $rc, not 1"
grep -q "failed: .*extra" "$WORK/agent-schema.log" ||
    die "the failure does not name the table"
say "a missing target table: exit 1, $(grep -m1 'failed:' "$WORK/agent-schema.log" | cut -c1-200)"
