-- name: snapshot-agg
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
--     filter: "country in ('PL', 'ES')"
--     segments: [channel]
--   median_order:
--     source: orders
--     agg: median
--     column: amount
--   p90_order:
--     source: orders
--     agg: p90
--     column: amount
--   last_amount:
--     source: orders
--     agg: last
--     column: amount
-- left out (refused on mysql, no statement): KPI 'median_order' (agg median)
-- left out (refused on mysql, no statement): KPI 'p90_order' (agg p90)
-- left out (refused on mysql, no statement): KPI 'last_amount' (agg last)

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
  CAST(COUNT(DISTINCT CASE WHEN `t1`.`country` IN ('PL', 'ES') THEN `t1`.`customer_id` END) AS DOUBLE) AS `m1_a0`,
  SUM(CAST((
    `t1`.`amount` IS NULL
  ) AND (
    `t1`.`paid` = TRUE
  ) AS SIGNED)) AS `z0_0`,
  SUM(
    CAST((
      `t1`.`customer_id` IS NULL
    ) AND `t1`.`country` IN ('PL', 'ES') AS SIGNED)
  ) AS `z1_0`
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
  CAST(COUNT(DISTINCT CASE WHEN `t1`.`country` IN ('PL', 'ES') THEN `t1`.`customer_id` END) AS DOUBLE) AS `m1_a0`
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
