#!/usr/bin/env bash
# test_agent_qos.sh AGENT - the agent's [qos] part with real servers: three
# tenants through the dispatcher (one premium, one with a reservation of its
# own, one without limit) end equal on the target; an
# access log naming one table of a tenant makes its initial copy take that
# table first; the predictor's state is saved at exit and loaded by the next
# run; a bad [qos] setting is a usage error (exit 2).
. "$(dirname "$0")/agent_lib.sh"

setup_demo
write_config "$WORK/agent.ini" acme globex initech
# Reads of globex's orders, before the agent starts: orders would come last
# in schema, name order (customers, events, orders).
for _ in $(seq 200); do
    printf 'globex/demo.orders r\nglobex r\nbogus-line\nnobody/x r\n'
done >"$WORK/access.log"
cat >>"$WORK/agent.ini" <<INI
[qos]
tier = standard
tier.acme = premium
reservation.globex = 100000
limit.initech = 0
access_log = $WORK/access.log
state_file = $WORK/heat.bin
window_ms = 1000
train_every = 0
INI

start_workload
sleep 2
stop_workload
log=$WORK/agent-qos.log
rc=0
# -v: the agent names each table as its copy begins.
"$AGENT" -c "$WORK/agent.ini" -v --until-caught-up --timeout 120 >"$log" 2>&1 ||
    rc=$?
((rc == 0)) || die "the agent exited with $rc"
verify acme globex initech

grep -q "globex: 1 of 3 tables have predicted heat" "$log" ||
    die "no heat for globex's copy"
order=$(sed -n 's/.*tenant globex: copying \(demo\.[a-z]*\).*/\1/p' "$log" | tr '\n' ' ')
[[ $order == "demo.orders demo.customers demo.events " ]] ||
    die "globex's tables were copied in the order: $order"
order=$(sed -n 's/.*tenant acme: copying \(demo\.[a-z]*\).*/\1/p' "$log" | tr '\n' ' ')
[[ $order == "demo.customers demo.events demo.orders " ]] ||
    die "acme's tables (no heat) were copied in the order: $order"
[[ -s $WORK/heat.bin ]] || die "no predictor state saved"
say "copy order by heat: globex orders first; state saved ($(stat -c %s "$WORK/heat.bin") bytes)"

# The next run loads the heat; changes made meanwhile still arrive.
psql_q "$SRC" -c "CALL demo.workload(20, 0.5)"
log=$WORK/agent-final.log
catch_up "$WORK/agent.ini"
grep -q "predictor state loaded from $WORK/heat.bin" "$log" ||
    die "the state was not loaded"
verify acme globex initech

# A bad [qos] value is a usage error.
cp "$WORK/agent.ini" "$WORK/bad.ini"
printf 'tier.globex = gold\n' >>"$WORK/bad.ini"
rc=0
"$AGENT" -c "$WORK/bad.ini" >"$WORK/agent-bad.log" 2>&1 || rc=$?
((rc == 2)) || die "tier gold gave exit status $rc, not 2"
grep -q "bad setting \[qos\] tier.globex" "$WORK/agent-bad.log" ||
    die "the bad setting was not named"
say "ok"
