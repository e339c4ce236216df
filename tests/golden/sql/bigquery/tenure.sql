-- name: snapshot-tenure
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
--   mean_tenure:
--     tenure: {source: customers, key: customer_id, churn_column: churned_at, measure: mean}
--     segments: [plan]
--   buying_tenure:
--     tenure: {source: orders, key: customer_id, inactivity_days: 90}

-- rows of customers · time signed_up_at · keep customer_id
SELECT
  `t0`.`customer_id`,
  `t0`.`signed_up_at` AS `__t`
FROM `customers` AS `t0`
WHERE
  `t0`.`signed_up_at` IS NOT NULL;

-- rows of customers · time churned_at · keep customer_id
SELECT
  `t0`.`customer_id`,
  `t0`.`churned_at` AS `__t`
FROM `customers` AS `t0`
WHERE
  `t0`.`churned_at` IS NOT NULL;

-- rows of customers · time signed_up_at · keep customer_id, plan
SELECT
  `t0`.`customer_id`,
  `t0`.`plan`,
  `t0`.`signed_up_at` AS `__t`
FROM `customers` AS `t0`
WHERE
  `t0`.`signed_up_at` IS NOT NULL;

-- rows of customers · time churned_at · keep customer_id
SELECT
  `t0`.`customer_id`,
  `t0`.`churned_at` AS `__t`
FROM `customers` AS `t0`
WHERE
  `t0`.`churned_at` IS NOT NULL;

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
  `t0`.`ordered_at` IS NOT NULL;
