-- name: snapshot-to_date
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
--   revenue_ytd:
--     to_date: {kpi: revenue, period: year}
--     segments: [channel]
--   buyers_qtd:
--     to_date: {kpi: buyers, period: quarter}

-- the cast checks of source 'orders'
SELECT
  MIN(CAST("t0"."amount" AS TEXT)) FILTER(WHERE
    ISNAN("t0"."amount" - "t0"."amount")) AS "c0"
FROM "orders" AS "t0";

-- orders · grain month · segments -: 2 queries, null counts of 2 aggregates
SELECT
  DATE_TRUNC('MONTH', "t2"."__date") AS "period",
  COALESCE(SUM("t2"."amount") FILTER(WHERE
    "t2"."paid" = TRUE), 0) AS "m0_a0",
  COUNT(*) FILTER(WHERE
    "t2"."paid" = TRUE) AS "m0__n",
  CAST(COUNT(DISTINCT "t2"."customer_id") AS DOUBLE) AS "m1_a0",
  COUNT(*) FILTER(WHERE
    (
      "t2"."amount" IS NULL
    ) AND (
      "t2"."paid" = TRUE
    )) AS "z0_0",
  COUNT(*) FILTER(WHERE
    "t2"."customer_id" IS NULL) AS "z1_0"
FROM (
  SELECT
    "t1"."order_id",
    "t1"."customer_id",
    "t1"."ordered_at",
    "t1"."amount",
    "t1"."channel",
    "t1"."country",
    "t1"."paid",
    CAST("t1"."ordered_at" AS DATE) AS "__date"
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
    CAST("t1"."ordered_at" AS DATE) IS NOT NULL
    AND CAST("t1"."ordered_at" AS DATE) <= MAKE_DATE(2026, 10, 31)
    AND CAST("t1"."ordered_at" AS DATE) >= MAKE_DATE(2026, 1, 1)
) AS "t2"
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
  CAST(COUNT(DISTINCT "t2"."customer_id") AS DOUBLE) AS "m1_a0"
FROM (
  SELECT
    "t1"."order_id",
    "t1"."customer_id",
    "t1"."ordered_at",
    "t1"."amount",
    "t1"."channel",
    "t1"."country",
    "t1"."paid",
    CAST("t1"."ordered_at" AS DATE) AS "__date"
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
    CAST("t1"."ordered_at" AS DATE) IS NOT NULL
    AND CAST("t1"."ordered_at" AS DATE) <= MAKE_DATE(2026, 10, 31)
    AND CAST("t1"."ordered_at" AS DATE) >= MAKE_DATE(2026, 1, 1)
) AS "t2"
GROUP BY
  1,
  2;

-- orders · grain day · segments -: 1 query
SELECT
  "t2"."__date" AS "period",
  COALESCE(SUM("t2"."amount"), 0) AS "m0_a0"
FROM (
  SELECT
    "t1"."order_id",
    "t1"."customer_id",
    "t1"."ordered_at",
    "t1"."amount",
    "t1"."channel",
    "t1"."country",
    "t1"."paid",
    CAST("t1"."ordered_at" AS DATE) AS "__date"
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
    CAST("t1"."ordered_at" AS DATE) IS NOT NULL
    AND CAST("t1"."ordered_at" AS DATE) <= MAKE_DATE(2026, 10, 31)
    AND CAST("t1"."ordered_at" AS DATE) >= MAKE_DATE(2026, 1, 1)
    AND "t1"."paid" = TRUE
) AS "t2"
GROUP BY
  1;

-- orders · grain day · segments channel: 1 query
SELECT
  "t2"."__date" AS "period",
  "t2"."channel",
  COALESCE(SUM("t2"."amount"), 0) AS "m0_a0"
FROM (
  SELECT
    "t1"."order_id",
    "t1"."customer_id",
    "t1"."ordered_at",
    "t1"."amount",
    "t1"."channel",
    "t1"."country",
    "t1"."paid",
    CAST("t1"."ordered_at" AS DATE) AS "__date"
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
    CAST("t1"."ordered_at" AS DATE) IS NOT NULL
    AND CAST("t1"."ordered_at" AS DATE) <= MAKE_DATE(2026, 10, 31)
    AND CAST("t1"."ordered_at" AS DATE) >= MAKE_DATE(2026, 1, 1)
    AND "t1"."paid" = TRUE
) AS "t2"
GROUP BY
  1,
  2;

-- rows of orders · time ordered_at · keep customer_id · distinct per day
SELECT DISTINCT
  "t1"."customer_id",
  CAST(CAST("t1"."ordered_at" AS DATE) AS TIMESTAMP) AS "__t"
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
  "t1"."ordered_at" IS NOT NULL;
