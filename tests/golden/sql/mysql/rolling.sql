-- name: snapshot-rolling
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
--   revenue:
--     source: orders
--     agg: sum
--     column: amount
--     segments: [channel]
--     scope: {paid: true}
--   buyers:
--     source: orders
--     agg: count_distinct
--     column: customer_id
--     segments: [channel]
--   revenue_28d:
--     rolling: {kpi: revenue, days: 28}
--     segments: [channel]
--   buyers_28d:
--     rolling: {kpi: buyers, days: 28}

-- the cast checks of source 'orders'
SELECT
  MIN(
    CASE
      WHEN IS_NAN(`t0`.`amount` - `t0`.`amount`)
      THEN CAST(`t0`.`amount` AS CHAR)
      ELSE NULL
    END
  ) AS `c0`
FROM `orders` AS `t0`;

-- orders · grain month · segments -: 2 queries, null counts of 2 aggregates
SELECT
  DATE_FORMAT(`t1`.`__date`, '%Y-%m-01') AS `period`,
  COALESCE(SUM(CASE WHEN `t1`.`paid` = TRUE THEN `t1`.`amount` ELSE NULL END), 0) AS `m0_a0`,
  SUM(CAST(`t1`.`paid` = TRUE AS SIGNED)) AS `m0__n`,
  CAST(COUNT(DISTINCT `t1`.`customer_id`) AS DOUBLE) AS `m1_a0`,
  SUM(CAST((
    `t1`.`amount` IS NULL
  ) AND (
    `t1`.`paid` = TRUE
  ) AS SIGNED)) AS `z0_0`,
  SUM(CAST(`t1`.`customer_id` IS NULL AS SIGNED)) AS `z1_0`
FROM (
  SELECT
    `t0`.`order_id`,
    `t0`.`customer_id`,
    `t0`.`ordered_at`,
    `t0`.`amount`,
    `t0`.`channel`,
    `t0`.`country`,
    `t0`.`paid`,
    DATE(`t0`.`ordered_at`) AS `__date`
  FROM `orders` AS `t0`
  WHERE
    DATE(`t0`.`ordered_at`) IS NOT NULL
    AND DATE(`t0`.`ordered_at`) <= DATE('2026-10-31')
    AND DATE(`t0`.`ordered_at`) >= DATE('2026-01-01')
) AS `t1`
GROUP BY
  1;

-- orders · grain month · segments channel: 2 queries
SELECT
  DATE_FORMAT(`t1`.`__date`, '%Y-%m-01') AS `period`,
  `t1`.`channel`,
  COALESCE(SUM(CASE WHEN `t1`.`paid` = TRUE THEN `t1`.`amount` ELSE NULL END), 0) AS `m0_a0`,
  SUM(CAST(`t1`.`paid` = TRUE AS SIGNED)) AS `m0__n`,
  CAST(COUNT(DISTINCT `t1`.`customer_id`) AS DOUBLE) AS `m1_a0`
FROM (
  SELECT
    `t0`.`order_id`,
    `t0`.`customer_id`,
    `t0`.`ordered_at`,
    `t0`.`amount`,
    `t0`.`channel`,
    `t0`.`country`,
    `t0`.`paid`,
    DATE(`t0`.`ordered_at`) AS `__date`
  FROM `orders` AS `t0`
  WHERE
    DATE(`t0`.`ordered_at`) IS NOT NULL
    AND DATE(`t0`.`ordered_at`) <= DATE('2026-10-31')
    AND DATE(`t0`.`ordered_at`) >= DATE('2026-01-01')
) AS `t1`
GROUP BY
  1,
  2;

-- orders · grain day · segments -: 1 query
SELECT
  `t1`.`__date` AS `period`,
  COALESCE(SUM(`t1`.`amount`), 0) AS `m0_a0`
FROM (
  SELECT
    `t0`.`order_id`,
    `t0`.`customer_id`,
    `t0`.`ordered_at`,
    `t0`.`amount`,
    `t0`.`channel`,
    `t0`.`country`,
    `t0`.`paid`,
    DATE(`t0`.`ordered_at`) AS `__date`
  FROM `orders` AS `t0`
  WHERE
    DATE(`t0`.`ordered_at`) IS NOT NULL
    AND DATE(`t0`.`ordered_at`) <= DATE('2026-10-31')
    AND DATE(`t0`.`ordered_at`) >= DATE('2026-01-01')
    AND `t0`.`paid` = TRUE
) AS `t1`
GROUP BY
  1;

-- orders · grain day · segments channel: 1 query
SELECT
  `t1`.`__date` AS `period`,
  `t1`.`channel`,
  COALESCE(SUM(`t1`.`amount`), 0) AS `m0_a0`
FROM (
  SELECT
    `t0`.`order_id`,
    `t0`.`customer_id`,
    `t0`.`ordered_at`,
    `t0`.`amount`,
    `t0`.`channel`,
    `t0`.`country`,
    `t0`.`paid`,
    DATE(`t0`.`ordered_at`) AS `__date`
  FROM `orders` AS `t0`
  WHERE
    DATE(`t0`.`ordered_at`) IS NOT NULL
    AND DATE(`t0`.`ordered_at`) <= DATE('2026-10-31')
    AND DATE(`t0`.`ordered_at`) >= DATE('2026-01-01')
    AND `t0`.`paid` = TRUE
) AS `t1`
GROUP BY
  1,
  2;

-- rows of orders · time ordered_at · keep customer_id · distinct per day
SELECT DISTINCT
  `t0`.`customer_id`,
  CAST(DATE(`t0`.`ordered_at`) AS DATETIME) AS `__t`
FROM `orders` AS `t0`
WHERE
  `t0`.`ordered_at` IS NOT NULL;
