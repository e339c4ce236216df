-- name: snapshot-share
-- timezone: Europe/Warsaw
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
--   spanish_revenue_share:
--     share: {of: revenue, where: "country == 'ES'"}
--     segments: [channel]

-- the cast checks of source 'orders'
SELECT
  MIN(IF(ISNAN(`t0`.`amount` - `t0`.`amount`), CAST(`t0`.`amount` AS STRING), NULL)) AS `c0`
FROM `orders` AS `t0`;

-- orders · grain month · segments -: 2 queries, null counts of 3 aggregates
SELECT
  DATE_TRUNC('month', `t2`.`__date`) AS `period`,
  COALESCE(SUM(IF(`t2`.`paid` = TRUE, `t2`.`amount`, NULL)), 0) AS `m0_a0`,
  COALESCE(
    SUM(
      IF((
        `t2`.`paid` = TRUE
      ) AND (
        `t2`.`country` = 'ES'
      ), `t2`.`amount`, NULL)
    ),
    0
  ) AS `m0_a1`,
  SUM(CAST(`t2`.`paid` = TRUE AS BIGINT)) AS `m0__n`,
  CAST(COUNT(DISTINCT `t2`.`customer_id`) AS DOUBLE) AS `m1_a0`,
  SUM(
    CAST((
      `t2`.`amount` IS NULL OR ISNAN(`t2`.`amount`)
    ) AND (
      `t2`.`paid` = TRUE
    ) AS BIGINT)
  ) AS `z0_0`,
  SUM(
    CAST((
      `t2`.`amount` IS NULL OR ISNAN(`t2`.`amount`)
    )
    AND (
      (
        `t2`.`paid` = TRUE
      ) AND (
        `t2`.`country` = 'ES'
      )
    ) AS BIGINT)
  ) AS `z0_1`,
  SUM(CAST(`t2`.`customer_id` IS NULL AS BIGINT)) AS `z1_0`
FROM (
  SELECT
    `t1`.`order_id`,
    `t1`.`customer_id`,
    `t1`.`ordered_at`,
    `t1`.`amount`,
    `t1`.`channel`,
    `t1`.`country`,
    `t1`.`paid`,
    CAST(`t1`.`ordered_at` AS DATE) AS `__date`
  FROM (
    SELECT
      `t0`.`order_id`,
      `t0`.`customer_id`,
      FROM_UTC_TIMESTAMP(CAST(`t0`.`ordered_at` AS TIMESTAMP), 'Europe/Warsaw') AS `ordered_at`,
      `t0`.`amount`,
      `t0`.`channel`,
      `t0`.`country`,
      `t0`.`paid`
    FROM `orders` AS `t0`
  ) AS `t1`
  WHERE
    CAST(`t1`.`ordered_at` AS DATE) IS NOT NULL
    AND CAST(`t1`.`ordered_at` AS DATE) <= MAKE_DATE(2026, 10, 31)
    AND CAST(`t1`.`ordered_at` AS DATE) >= MAKE_DATE(2026, 1, 1)
) AS `t2`
GROUP BY
  1;

-- orders · grain month · segments channel: 2 queries
SELECT
  DATE_TRUNC('month', `t2`.`__date`) AS `period`,
  `t2`.`channel`,
  COALESCE(SUM(IF(`t2`.`paid` = TRUE, `t2`.`amount`, NULL)), 0) AS `m0_a0`,
  COALESCE(
    SUM(
      IF((
        `t2`.`paid` = TRUE
      ) AND (
        `t2`.`country` = 'ES'
      ), `t2`.`amount`, NULL)
    ),
    0
  ) AS `m0_a1`,
  SUM(CAST(`t2`.`paid` = TRUE AS BIGINT)) AS `m0__n`,
  CAST(COUNT(DISTINCT `t2`.`customer_id`) AS DOUBLE) AS `m1_a0`
FROM (
  SELECT
    `t1`.`order_id`,
    `t1`.`customer_id`,
    `t1`.`ordered_at`,
    `t1`.`amount`,
    `t1`.`channel`,
    `t1`.`country`,
    `t1`.`paid`,
    CAST(`t1`.`ordered_at` AS DATE) AS `__date`
  FROM (
    SELECT
      `t0`.`order_id`,
      `t0`.`customer_id`,
      FROM_UTC_TIMESTAMP(CAST(`t0`.`ordered_at` AS TIMESTAMP), 'Europe/Warsaw') AS `ordered_at`,
      `t0`.`amount`,
      `t0`.`channel`,
      `t0`.`country`,
      `t0`.`paid`
    FROM `orders` AS `t0`
  ) AS `t1`
  WHERE
    CAST(`t1`.`ordered_at` AS DATE) IS NOT NULL
    AND CAST(`t1`.`ordered_at` AS DATE) <= MAKE_DATE(2026, 10, 31)
    AND CAST(`t1`.`ordered_at` AS DATE) >= MAKE_DATE(2026, 1, 1)
) AS `t2`
GROUP BY
  1,
  2;
