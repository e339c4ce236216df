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
-- refused on bigquery unless the KPI says `approximate: true`: KPI 'median_order': bigquery (source 'orders') computes agg 'median' only approximately, so its values would differ from the exact ones
-- refused on bigquery unless the KPI says `approximate: true`: KPI 'p90_order': bigquery (source 'orders') computes agg 'p90' only approximately, so its values would differ from the exact ones

-- the cast checks of source 'orders'
SELECT
  MIN(IF(IS_NAN(`t0`.`amount` - `t0`.`amount`), CAST(`t0`.`amount` AS STRING), NULL)) AS `c0`
FROM `orders` AS `t0`;

-- orders · grain month · segments -: 2 queries, null counts of 3 aggregates
SELECT
  DATE_TRUNC(`t2`.`__date`, MONTH) AS `period`,
  COALESCE(SUM(IF(`t2`.`paid` = TRUE, `t2`.`amount`, NULL)), 0) AS `m0_a0`,
  COUNTIF(`t2`.`paid` = TRUE) AS `m0__n`,
  CAST(COUNT(DISTINCT IF(`t2`.`country` IN ('PL', 'ES'), `t2`.`customer_id`, NULL)) AS FLOAT64) AS `m1_a0`,
  APPROX_QUANTILES(`t2`.`amount`, 2)[offset(1)] AS `m1_a1`,
  APPROX_QUANTILES(`t2`.`amount`, 10 IGNORE NULLS)[9] AS `m1_a2`,
  MAX_BY(
    IF(`t2`.`amount` IS NOT NULL, `t2`.`amount`, NULL),
    IF(`t2`.`amount` IS NOT NULL, `t2`.`ordered_at`, NULL)
  ) AS `m1_a3`,
  CAST(COUNT(
    DISTINCT IF(
      (
        `t2`.`amount` IS NOT NULL
      ) AND (
        `t2`.`ordered_at` = `t2`.`__edge_m1_a4`
      ),
      `t2`.`amount`,
      NULL
    )
  ) AS FLOAT64) AS `m1_a4`,
  COUNTIF((
    `t2`.`amount` IS NULL
  ) AND (
    `t2`.`paid` = TRUE
  )) AS `z0_0`,
  COUNTIF((
    `t2`.`customer_id` IS NULL
  ) AND `t2`.`country` IN ('PL', 'ES')) AS `z1_0`,
  COUNTIF(`t2`.`amount` IS NULL) AS `z1_1`
FROM (
  SELECT
    `t1`.`order_id`,
    `t1`.`customer_id`,
    `t1`.`ordered_at`,
    `t1`.`amount`,
    `t1`.`channel`,
    `t1`.`country`,
    `t1`.`paid`,
    `t1`.`__date`,
    MAX(
      CASE
        WHEN `t1`.`amount` IS NOT NULL
        THEN `t1`.`ordered_at`
        ELSE CAST(NULL AS DATETIME)
      END
    ) OVER (
      PARTITION BY DATE_TRUNC(`t1`.`__date`, MONTH)
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS `__edge_m1_a4`
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
      AND DATE(`t0`.`ordered_at`) <= DATE(2026, 10, 31)
      AND DATE(`t0`.`ordered_at`) >= DATE(2026, 1, 1)
  ) AS `t1`
) AS `t2`
GROUP BY
  1;

-- orders · grain month · segments channel: 2 queries
SELECT
  DATE_TRUNC(`t1`.`__date`, MONTH) AS `period`,
  `t1`.`channel`,
  COALESCE(SUM(IF(`t1`.`paid` = TRUE, `t1`.`amount`, NULL)), 0) AS `m0_a0`,
  COUNTIF(`t1`.`paid` = TRUE) AS `m0__n`,
  CAST(COUNT(DISTINCT IF(`t1`.`country` IN ('PL', 'ES'), `t1`.`customer_id`, NULL)) AS FLOAT64) AS `m1_a0`
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
    AND DATE(`t0`.`ordered_at`) <= DATE(2026, 10, 31)
    AND DATE(`t0`.`ordered_at`) >= DATE(2026, 1, 1)
) AS `t1`
GROUP BY
  1,
  2;
