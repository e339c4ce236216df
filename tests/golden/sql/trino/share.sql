-- name: snapshot-share
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
--   spanish_revenue_share:
--     share: {of: revenue, where: "country == 'ES'"}
--     segments: [channel]

-- the cast checks of source 'orders'
SELECT
  MIN(CAST("t0"."amount" AS VARCHAR)) FILTER(WHERE
    IS_NAN("t0"."amount" - "t0"."amount")) AS "c0"
FROM "orders" AS "t0";

-- orders · grain month · segments -: 2 queries, null counts of 3 aggregates
SELECT
  DATE_TRUNC('MONTH', "t1"."__date") AS "period",
  COALESCE(SUM("t1"."amount") FILTER(WHERE
    "t1"."paid" = TRUE), 0) AS "m0_a0",
  COALESCE(
    SUM("t1"."amount") FILTER(WHERE
      (
        "t1"."paid" = TRUE
      ) AND (
        "t1"."country" = 'ES'
      )),
    0
  ) AS "m0_a1",
  COUNT(*) FILTER(WHERE
    "t1"."paid" = TRUE) AS "m0__n",
  CAST(COUNT(DISTINCT "t1"."customer_id") AS DOUBLE) AS "m1_a0",
  COUNT(*) FILTER(WHERE
    (
      "t1"."amount" IS NULL
    ) AND (
      "t1"."paid" = TRUE
    )) AS "z0_0",
  COUNT(*) FILTER(WHERE
    (
      "t1"."amount" IS NULL
    )
    AND (
      (
        "t1"."paid" = TRUE
      ) AND (
        "t1"."country" = 'ES'
      )
    )) AS "z0_1",
  COUNT(*) FILTER(WHERE
    "t1"."customer_id" IS NULL) AS "z1_0"
FROM (
  SELECT
    "t0"."order_id",
    "t0"."customer_id",
    "t0"."ordered_at",
    "t0"."amount",
    "t0"."channel",
    "t0"."country",
    "t0"."paid",
    DATE("t0"."ordered_at") AS "__date"
  FROM "orders" AS "t0"
  WHERE
    DATE("t0"."ordered_at") IS NOT NULL
    AND DATE("t0"."ordered_at") <= FROM_ISO8601_DATE('2026-10-31')
    AND DATE("t0"."ordered_at") >= FROM_ISO8601_DATE('2026-01-01')
) AS "t1"
GROUP BY
  1;

-- orders · grain month · segments channel: 2 queries
SELECT
  DATE_TRUNC('MONTH', "t1"."__date") AS "period",
  "t1"."channel",
  COALESCE(SUM("t1"."amount") FILTER(WHERE
    "t1"."paid" = TRUE), 0) AS "m0_a0",
  COALESCE(
    SUM("t1"."amount") FILTER(WHERE
      (
        "t1"."paid" = TRUE
      ) AND (
        "t1"."country" = 'ES'
      )),
    0
  ) AS "m0_a1",
  COUNT(*) FILTER(WHERE
    "t1"."paid" = TRUE) AS "m0__n",
  CAST(COUNT(DISTINCT "t1"."customer_id") AS DOUBLE) AS "m1_a0"
FROM (
  SELECT
    "t0"."order_id",
    "t0"."customer_id",
    "t0"."ordered_at",
    "t0"."amount",
    "t0"."channel",
    "t0"."country",
    "t0"."paid",
    DATE("t0"."ordered_at") AS "__date"
  FROM "orders" AS "t0"
  WHERE
    DATE("t0"."ordered_at") IS NOT NULL
    AND DATE("t0"."ordered_at") <= FROM_ISO8601_DATE('2026-10-31')
    AND DATE("t0"."ordered_at") >= FROM_ISO8601_DATE('2026-01-01')
) AS "t1"
GROUP BY
  1,
  2;
