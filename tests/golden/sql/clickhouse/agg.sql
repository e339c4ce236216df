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
-- refused on clickhouse unless the KPI says `approximate: true`: KPI 'buyers': clickhouse (source 'orders') computes agg 'count_distinct' only approximately, so its values would differ from the exact ones
-- refused on clickhouse unless the KPI says `approximate: true`: KPI 'p90_order': clickhouse (source 'orders') computes agg 'p90' only approximately, so its values would differ from the exact ones

-- the cast checks of source 'orders'
SELECT
  minIf(CAST("t0"."amount" AS Nullable(String)), isNaN("t0"."amount" - "t0"."amount")) AS "c0"
FROM "orders" AS "t0";

-- orders · grain month · segments -: 2 queries, null counts of 3 aggregates
SELECT
  dateTrunc('MONTH', "t2"."__date") AS "period",
  COALESCE(sumIf("t2"."amount", "t2"."paid" = TRUE), 0) AS "m0_a0",
  countIf("t2"."paid" = TRUE) AS "m0__n",
  CAST(uniqHLL12If("t2"."customer_id", "t2"."country" IN ('PL', 'ES')) AS Nullable(Float64)) AS "m1_a0",
  quantileExactExclusive("t2"."amount") AS "m1_a1",
  quantileTDigest(0.9)("t2"."amount") AS "m1_a2",
  argMaxIf(tuple("t2"."amount"), "t2"."ordered_at", isNotNull("t2"."amount")).1 AS "m1_a3",
  CAST(uniqIf(
    "t2"."amount",
    isNotNull("t2"."amount") AND (
      "t2"."ordered_at" = "t2"."__edge_m1_a4"
    )
  ) AS Nullable(Float64)) AS "m1_a4",
  countIf(isNull("t2"."amount") AND (
    "t2"."paid" = TRUE
  )) AS "z0_0",
  countIf(isNull("t2"."customer_id") AND "t2"."country" IN ('PL', 'ES')) AS "z1_0",
  countIf(isNull("t2"."amount")) AS "z1_1"
FROM (
  SELECT
    "t1"."order_id" AS "order_id",
    "t1"."customer_id" AS "customer_id",
    "t1"."ordered_at" AS "ordered_at",
    "t1"."amount" AS "amount",
    "t1"."channel" AS "channel",
    "t1"."country" AS "country",
    "t1"."paid" AS "paid",
    "t1"."__date" AS "__date",
    MAX(
      CASE
        WHEN isNotNull("t1"."amount")
        THEN "t1"."ordered_at"
        ELSE CAST(NULL AS Nullable(DateTime))
      END
    ) OVER (
      PARTITION BY dateTrunc('MONTH', "t1"."__date")
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS "__edge_m1_a4"
  FROM (
    SELECT
      "t0"."order_id" AS "order_id",
      "t0"."customer_id" AS "customer_id",
      "t0"."ordered_at" AS "ordered_at",
      "t0"."amount" AS "amount",
      "t0"."channel" AS "channel",
      "t0"."country" AS "country",
      "t0"."paid" AS "paid",
      toDate("t0"."ordered_at") AS "__date"
    FROM "orders" AS "t0"
    WHERE
      isNotNull(toDate("t0"."ordered_at"))
      AND toDate("t0"."ordered_at") <= toDate('2026-10-31')
      AND toDate("t0"."ordered_at") >= toDate('2026-01-01')
  ) AS "t1"
) AS "t2"
GROUP BY
  dateTrunc('MONTH', "t2"."__date");

-- orders · grain month · segments channel: 2 queries
SELECT
  dateTrunc('MONTH', "t1"."__date") AS "period",
  "t1"."channel" AS "channel",
  COALESCE(sumIf("t1"."amount", "t1"."paid" = TRUE), 0) AS "m0_a0",
  countIf("t1"."paid" = TRUE) AS "m0__n",
  CAST(uniqHLL12If("t1"."customer_id", "t1"."country" IN ('PL', 'ES')) AS Nullable(Float64)) AS "m1_a0"
FROM (
  SELECT
    "t0"."order_id" AS "order_id",
    "t0"."customer_id" AS "customer_id",
    "t0"."ordered_at" AS "ordered_at",
    "t0"."amount" AS "amount",
    "t0"."channel" AS "channel",
    "t0"."country" AS "country",
    "t0"."paid" AS "paid",
    toDate("t0"."ordered_at") AS "__date"
  FROM "orders" AS "t0"
  WHERE
    isNotNull(toDate("t0"."ordered_at"))
    AND toDate("t0"."ordered_at") <= toDate('2026-10-31')
    AND toDate("t0"."ordered_at") >= toDate('2026-01-01')
) AS "t1"
GROUP BY
  dateTrunc('MONTH', "t1"."__date"),
  "t1"."channel";
