-- name: snapshot-funnel
-- timezone: UTC
-- grains: [month]
-- period: {start: 2026-01-01, end: 2026-10-31}
-- sources:
--   orders:
--     connector: duckdb
--     options: {path: warehouse.duckdb, table: orders}
--     time_column: ordered_at
--     timezone: UTC
--   customers:
--     connector: duckdb
--     options: {path: warehouse.duckdb, table: customers}
--     time_column: signed_up_at
--     timezone: UTC
-- kpis:
--   signup_to_order:
--     funnel:
--       window_days: 30
--       steps:
--         - {name: signup, source: customers, key: customer_id, filter: "plan == 'pro'"}
--         - {name: order, source: orders, key: customer_id, filter: paid}

-- rows of customers · time signed_up_at · keep customer_id
SELECT
  `t0`.`customer_id`,
  `t0`.`signed_up_at` AS `__t`
FROM `customers` AS `t0`
WHERE
  CAST(`t0`.`plan` AS BINARY) = 'pro' AND `t0`.`signed_up_at` IS NOT NULL;

-- rows of orders · time ordered_at · keep customer_id
SELECT
  `t0`.`customer_id`,
  `t0`.`ordered_at` AS `__t`
FROM `orders` AS `t0`
WHERE
  `t0`.`paid` AND `t0`.`ordered_at` IS NOT NULL;
