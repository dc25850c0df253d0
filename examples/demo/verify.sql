-- Per table and tenant: row count and an order-independent checksum of the
-- rows' text (md5 of the sorted md5s). Run on both sides with the same
-- session settings; psql -v tenants="'acme','globex','initech'".
SET TimeZone = 'UTC';
SET extra_float_digits = 1;
SELECT tbl, tenant_id, count(*) AS rows,
       md5(string_agg(h, '' ORDER BY h)) AS checksum
FROM (
    SELECT 'customers' AS tbl, tenant_id, md5(c::text) AS h FROM demo.customers c
    UNION ALL
    SELECT 'orders', tenant_id, md5(o::text) FROM demo.orders o
    UNION ALL
    SELECT 'events', tenant_id, md5(e::text) FROM demo.events e
) x
GROUP BY tbl, tenant_id
ORDER BY tbl, tenant_id;
