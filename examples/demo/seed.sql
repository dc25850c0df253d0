-- Source only: existing rows of three tenants (so the initial copy runs),
-- id sequences, and the workload procedure. Deterministic (setseed).
DO $$ BEGIN PERFORM setseed(0.17); END $$;

CREATE SEQUENCE demo.customers_id START 1;
CREATE SEQUENCE demo.orders_id START 1;
CREATE SEQUENCE demo.events_id START 1;

INSERT INTO demo.customers
SELECT t, nextval('demo.customers_id'), 'customer ' || g,
       CASE WHEN g % 7 = 0 THEN NULL ELSE 'c' || g || '@' || t || '.example' END,
       round((random() * 10000)::numeric, 2),
       timestamptz '2024-01-01 00:00+00' + g * interval '37 minutes',
       jsonb_build_object('tier', (ARRAY['free', 'pro', 'enterprise'])[1 + g % 3],
                          'tags', jsonb_build_array('t' || g % 5, 't' || g % 11))
FROM unnest(ARRAY['acme', 'globex', 'initech']) AS t, generate_series(1, 1500) AS g;

INSERT INTO demo.orders
SELECT t, nextval('demo.orders_id'), 1 + (g * 7) % 1500,
       (ARRAY['new', 'paid', 'shipped', 'delivered'])[1 + g % 4],
       round((random() * 500)::numeric, 2),
       timestamptz '2024-02-01 00:00+00' + g * interval '11 minutes',
       jsonb_build_array(jsonb_build_object('sku', 'SKU-' || g % 97, 'qty', 1 + g % 5)),
       CASE WHEN g % 3 = 0 THEN repeat('note ', 1 + g % 20) END
FROM unnest(ARRAY['acme', 'globex', 'initech']) AS t, generate_series(1, 4000) AS g;

INSERT INTO demo.events
SELECT t, nextval('demo.events_id'), (ARRAY['login', 'view', 'click', 'logout'])[1 + g % 4],
       timestamptz '2024-03-01 00:00+00' + g * interval '3 seconds',
       CASE WHEN g % 13 = 0 THEN NULL ELSE random() * 100 END,
       g % 17 = 0,
       jsonb_build_object('page', '/p/' || g % 50, 'ms', g % 1000)
FROM unnest(ARRAY['acme', 'globex', 'initech']) AS t, generate_series(1, 4000) AS g;

-- A live mixed workload: short transactions of 1..12 statements (inserts,
-- updates, deletes) of a random tenant, committed one by one, for
-- p_seconds. Call it as CALL demo.workload(15, 0.5).
CREATE PROCEDURE demo.workload(p_seconds float8, p_seed float8)
LANGUAGE plpgsql AS $$
DECLARE
    deadline timestamptz := clock_timestamp() + make_interval(secs => p_seconds);
    tenants  text[] := ARRAY['acme', 'globex', 'initech'];
    t        text;
    r        float8;
    k        int;
    txns     bigint := 0;
BEGIN
    PERFORM setseed(p_seed);
    WHILE clock_timestamp() < deadline LOOP
        t := tenants[1 + floor(random() * 3)::int];
        FOR k IN 1 .. 1 + floor(random() * 12)::int LOOP
            r := random();
            IF r < 0.30 THEN
                INSERT INTO demo.orders VALUES (t, nextval('demo.orders_id'),
                    1 + floor(random() * 1500)::int, 'new',
                    round((random() * 800)::numeric, 2), clock_timestamp(),
                    jsonb_build_array(jsonb_build_object('sku', 'SKU-' || floor(random() * 97),
                                                         'qty', 1 + floor(random() * 4))),
                    CASE WHEN random() < 0.3 THEN 'rush ' || md5(random()::text) END);
            ELSIF r < 0.50 THEN
                INSERT INTO demo.events VALUES (t, nextval('demo.events_id'),
                    (ARRAY['login', 'view', 'click', 'logout'])[1 + floor(random() * 4)::int],
                    clock_timestamp(), random() * 100, random() < 0.05,
                    jsonb_build_object('page', '/p/' || floor(random() * 50), 'ms', floor(random() * 900)));
            ELSIF r < 0.72 THEN
                UPDATE demo.orders
                   SET status = (ARRAY['paid', 'shipped', 'delivered', 'returned'])[1 + floor(random() * 4)::int],
                       total = total + 1.25,
                       items = items || jsonb_build_array(jsonb_build_object('sku', 'ADD', 'qty', 1))
                 WHERE tenant_id = t
                   AND id = 1 + floor(random() * (SELECT last_value FROM demo.orders_id))::bigint;
            ELSIF r < 0.84 THEN
                UPDATE demo.customers
                   SET balance = balance + round((random() * 50 - 25)::numeric, 2),
                       profile = jsonb_set(coalesce(profile, '{}'), '{seen}', to_jsonb(clock_timestamp()))
                 WHERE tenant_id = t AND id = 1 + floor(random() * 4500)::bigint;
            ELSIF r < 0.94 THEN
                DELETE FROM demo.events
                 WHERE tenant_id = t
                   AND id = 1 + floor(random() * (SELECT last_value FROM demo.events_id))::bigint;
            ELSE
                DELETE FROM demo.orders
                 WHERE tenant_id = t
                   AND id = 1 + floor(random() * (SELECT last_value FROM demo.orders_id))::bigint;
            END IF;
        END LOOP;
        COMMIT;
        txns := txns + 1;
        IF txns % 50 = 0 THEN
            PERFORM pg_sleep(0.01);
        END IF;
    END LOOP;
    RAISE NOTICE 'workload: % transactions', txns;
END
$$;
