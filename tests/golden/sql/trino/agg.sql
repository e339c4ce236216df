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
-- refused on trino unless the KPI says `approximate: true`: KPI 'median_order': trino (source 'orders') computes agg 'median' only approximately, so its values would differ from the exact ones
-- refused on trino unless the KPI says `approximate: true`: KPI 'p90_order': trino (source 'orders') computes agg 'p90' only approximately, so its values would differ from the exact ones

-- the cast checks of source 'orders'
SELECT
  MIN(CAST("t0"."amount" AS VARCHAR)) FILTER(WHERE
    IS_NAN("t0"."amount" - "t0"."amount")) AS "c0"
FROM "orders" AS "t0";

-- orders · grain month · segments -: 2 queries, null counts of 3 aggregates
SELECT
  DATE_TRUNC('MONTH', "t2"."__date") AS "period",
  COALESCE(SUM("t2"."amount") FILTER(WHERE
    "t2"."paid" = TRUE), 0) AS "m0_a0",
  COUNT(*) FILTER(WHERE
    "t2"."paid" = TRUE) AS "m0__n",
  CAST(COUNT(DISTINCT "t2"."customer_id") FILTER(WHERE
    "t2"."country" IN ('PL', 'ES')) AS DOUBLE) AS "m1_a0",
  APPROX_PERCENTILE("t2"."amount", 0.5) AS "m1_a1",
  APPROX_PERCENTILE("t2"."amount", CAST(0.9 AS DOUBLE)) AS "m1_a2",
  MAX_BY("t2"."amount", "t2"."ordered_at") FILTER(WHERE
    "t2"."amount" IS NOT NULL) AS "m1_a3",
  CAST(COUNT(DISTINCT "t2"."amount") FILTER(WHERE
    (
      "t2"."amount" IS NOT NULL
    ) AND (
      "t2"."ordered_at" = "t2"."__edge_m1_a4"
    )) AS DOUBLE) AS "m1_a4",
  COUNT(*) FILTER(WHERE
    (
      "t2"."amount" IS NULL
    ) AND (
      "t2"."paid" = TRUE
    )) AS "z0_0",
  COUNT(*) FILTER(WHERE
    (
      "t2"."customer_id" IS NULL
    ) AND "t2"."country" IN ('PL', 'ES')) AS "z1_0",
  COUNT(*) FILTER(WHERE
    "t2"."amount" IS NULL) AS "z1_1"
FROM (
  SELECT
    "t1"."order_id",
    "t1"."customer_id",
    "t1"."ordered_at",
    "t1"."amount",
    "t1"."channel",
    "t1"."country",
    "t1"."paid",
    "t1"."__date",
    MAX(
      CASE
        WHEN "t1"."amount" IS NOT NULL
        THEN "t1"."ordered_at"
        ELSE CAST(NULL AS TIMESTAMP)
      END
    ) OVER (
      PARTITION BY DATE_TRUNC('MONTH', "t1"."__date")
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS "__edge_m1_a4"
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
) AS "t2"
GROUP BY
  1;

-- orders · grain month · segments channel: 2 queries
SELECT
  DATE_TRUNC('MONTH', "t1"."__date") AS "period",
  "t1"."channel",
  COALESCE(SUM("t1"."amount") FILTER(WHERE
    "t1"."paid" = TRUE), 0) AS "m0_a0",
  COUNT(*) FILTER(WHERE
    "t1"."paid" = TRUE) AS "m0__n",
  CAST(COUNT(DISTINCT "t1"."customer_id") FILTER(WHERE
    "t1"."country" IN ('PL', 'ES')) AS DOUBLE) AS "m1_a0"
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
