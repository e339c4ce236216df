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
-- refused on clickhouse unless the KPI says `approximate: true`: KPI 'buyers': clickhouse (source 'orders') computes agg 'count_distinct' only approximately, so its values would differ from the exact ones

-- the cast checks of source 'orders'
SELECT
  minIf(CAST("t0"."amount" AS Nullable(String)), isNaN("t0"."amount" - "t0"."amount")) AS "c0"
FROM "orders" AS "t0";

-- orders · grain month · segments -: 2 queries, null counts of 3 aggregates
SELECT
  dateTrunc('MONTH', "t1"."__date") AS "period",
  COALESCE(sumIf("t1"."amount", "t1"."paid" = TRUE), 0) AS "m0_a0",
  COALESCE(sumIf("t1"."amount", (
    "t1"."paid" = TRUE
  ) AND (
    "t1"."country" = 'ES'
  )), 0) AS "m0_a1",
  countIf("t1"."paid" = TRUE) AS "m0__n",
  CAST(uniqHLL12("t1"."customer_id") AS Nullable(Float64)) AS "m1_a0",
  countIf(isNull("t1"."amount") AND (
    "t1"."paid" = TRUE
  )) AS "z0_0",
  countIf(
    isNull("t1"."amount")
    AND (
      (
        "t1"."paid" = TRUE
      ) AND (
        "t1"."country" = 'ES'
      )
    )
  ) AS "z0_1",
  countIf(isNull("t1"."customer_id")) AS "z1_0"
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
  dateTrunc('MONTH', "t1"."__date");

-- orders · grain month · segments channel: 2 queries
SELECT
  dateTrunc('MONTH', "t1"."__date") AS "period",
  "t1"."channel" AS "channel",
  COALESCE(sumIf("t1"."amount", "t1"."paid" = TRUE), 0) AS "m0_a0",
  COALESCE(sumIf("t1"."amount", (
    "t1"."paid" = TRUE
  ) AND (
    "t1"."country" = 'ES'
  )), 0) AS "m0_a1",
  countIf("t1"."paid" = TRUE) AS "m0__n",
  CAST(uniqHLL12("t1"."customer_id") AS Nullable(Float64)) AS "m1_a0"
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
