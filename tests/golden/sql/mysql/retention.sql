-- name: snapshot-retention
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
--   retention_90d:
--     retention:
--       source: orders
--       key: customer_id
--       cohort_source: customers
--       cohort_time_column: signed_up_at
--       after_days: 90
--       window_days: 30
--     segments: [plan]
--   repeat_rate:
--     retention: {source: orders, key: customer_id, after_days: 90, mode: repeat}
--     scope: {channel: x}

-- rows of orders · time ordered_at · keep customer_id
SELECT
  `t0`.`customer_id`,
  `t0`.`ordered_at` AS `__t`
FROM `orders` AS `t0`
WHERE
  `t0`.`ordered_at` IS NOT NULL;

-- rows of customers · time signed_up_at · keep customer_id
SELECT
  `t0`.`customer_id`,
  `t0`.`signed_up_at` AS `__t`
FROM `customers` AS `t0`
WHERE
  `t0`.`signed_up_at` IS NOT NULL;

-- rows of orders · time ordered_at · keep customer_id
SELECT
  `t0`.`customer_id`,
  `t0`.`ordered_at` AS `__t`
FROM `orders` AS `t0`
WHERE
  `t0`.`ordered_at` IS NOT NULL;

-- rows of customers · time signed_up_at · keep customer_id, plan
SELECT
  `t0`.`customer_id`,
  `t0`.`plan`,
  `t0`.`signed_up_at` AS `__t`
FROM `customers` AS `t0`
WHERE
  `t0`.`signed_up_at` IS NOT NULL;

-- rows of orders · time ordered_at · keep customer_id
SELECT
  `t0`.`customer_id`,
  `t0`.`ordered_at` AS `__t`
FROM `orders` AS `t0`
WHERE
  `t0`.`ordered_at` IS NOT NULL;

-- rows of orders · time ordered_at · keep customer_id
SELECT
  `t0`.`customer_id`,
  `t0`.`ordered_at` AS `__t`
FROM `orders` AS `t0`
WHERE
  CAST(`t0`.`channel` AS BINARY) = 'x' AND `t0`.`ordered_at` IS NOT NULL;
