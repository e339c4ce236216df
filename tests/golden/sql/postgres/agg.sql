-- name: snapshot-agg
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

-- the cast checks of source 'orders'
SELECT
  MIN(CAST("t0"."amount" AS VARCHAR)) FILTER(WHERE
    (
      "t0"."amount" - "t0"."amount"
    ) = CAST('NaN' AS DOUBLE PRECISION)) AS "c0"
FROM "orders" AS "t0";

-- orders · grain month · segments -: 2 queries, null counts of 3 aggregates
SELECT
  DATE_TRUNC('MONTH', "t3"."__date") AS "period",
  COALESCE(SUM("t3"."amount") FILTER(WHERE
    "t3"."paid" = TRUE), 0) AS "m0_a0",
  COUNT(*) FILTER(WHERE
    "t3"."paid" = TRUE) AS "m0__n",
  CAST(COUNT(DISTINCT "t3"."customer_id") FILTER(WHERE
    "t3"."country" IN ('PL', 'ES')) AS DOUBLE PRECISION) AS "m1_a0",
  PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
    "t3"."amount") AS "m1_a1",
  PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY
    "t3"."amount") AS "m1_a2",
  (
    ARRAY_AGG("t3"."amount" ORDER BY "t3"."ordered_at" DESC NULLS LAST) FILTER(WHERE
      "t3"."ordered_at" IS NOT NULL AND "t3"."amount" IS NOT NULL)
  )[1] AS "m1_a3",
  CAST(COUNT(DISTINCT "t3"."amount") FILTER(WHERE
    (
      "t3"."amount" IS NOT NULL
    ) AND (
      "t3"."ordered_at" = "t3"."__edge_m1_a4"
    )) AS DOUBLE PRECISION) AS "m1_a4",
  COUNT(*) FILTER(WHERE
    (
      "t3"."amount" IS NULL
    ) AND (
      "t3"."paid" = TRUE
    )) AS "z0_0",
  COUNT(*) FILTER(WHERE
    (
      "t3"."customer_id" IS NULL
    ) AND "t3"."country" IN ('PL', 'ES')) AS "z1_0",
  COUNT(*) FILTER(WHERE
    "t3"."amount" IS NULL) AS "z1_1"
FROM (
  SELECT
    "t2"."order_id",
    "t2"."customer_id",
    "t2"."ordered_at",
    "t2"."amount",
    "t2"."channel",
    "t2"."country",
    "t2"."paid",
    "t2"."__date",
    MAX(
      CASE
        WHEN "t2"."amount" IS NOT NULL
        THEN "t2"."ordered_at"
        ELSE CAST(NULL AS TIMESTAMP)
      END
    ) OVER (
      PARTITION BY DATE_TRUNC('MONTH', "t2"."__date")
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS "__edge_m1_a4"
  FROM (
    SELECT
      "t1"."order_id",
      "t1"."customer_id",
      "t1"."ordered_at",
      "t1"."amount",
      "t1"."channel",
      "t1"."country",
      "t1"."paid",
      DATE("t1"."ordered_at") AS "__date"
    FROM (
      SELECT
        "t0"."order_id",
        "t0"."customer_id",
        TIMEZONE('Europe/Warsaw', TIMEZONE('UTC', "t0"."ordered_at")) AS "ordered_at",
        "t0"."amount",
        "t0"."channel",
        "t0"."country",
        "t0"."paid"
      FROM "orders" AS "t0"
    ) AS "t1"
    WHERE
      DATE("t1"."ordered_at") IS NOT NULL
      AND DATE("t1"."ordered_at") <= MAKE_DATE(2026, 10, 31)
      AND DATE("t1"."ordered_at") >= MAKE_DATE(2026, 1, 1)
  ) AS "t2"
) AS "t3"
GROUP BY
  1;

-- orders · grain month · segments channel: 2 queries
SELECT
  DATE_TRUNC('MONTH', "t2"."__date") AS "period",
  "t2"."channel",
  COALESCE(SUM("t2"."amount") FILTER(WHERE
    "t2"."paid" = TRUE), 0) AS "m0_a0",
  COUNT(*) FILTER(WHERE
    "t2"."paid" = TRUE) AS "m0__n",
  CAST(COUNT(DISTINCT "t2"."customer_id") FILTER(WHERE
    "t2"."country" IN ('PL', 'ES')) AS DOUBLE PRECISION) AS "m1_a0"
FROM (
  SELECT
    "t1"."order_id",
    "t1"."customer_id",
    "t1"."ordered_at",
    "t1"."amount",
    "t1"."channel",
    "t1"."country",
    "t1"."paid",
    DATE("t1"."ordered_at") AS "__date"
  FROM (
    SELECT
      "t0"."order_id",
      "t0"."customer_id",
      TIMEZONE('Europe/Warsaw', TIMEZONE('UTC', "t0"."ordered_at")) AS "ordered_at",
      "t0"."amount",
      "t0"."channel",
      "t0"."country",
      "t0"."paid"
    FROM "orders" AS "t0"
  ) AS "t1"
  WHERE
    DATE("t1"."ordered_at") IS NOT NULL
    AND DATE("t1"."ordered_at") <= MAKE_DATE(2026, 10, 31)
    AND DATE("t1"."ordered_at") >= MAKE_DATE(2026, 1, 1)
) AS "t2"
GROUP BY
  1,
  2;
