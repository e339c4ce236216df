-- name: snapshot-cohort_retention
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
--   month_1_retention:
--     cohort_retention: {source: orders, key: customer_id, period: month, age: 1, max_age: 6}
--     segments: [channel]

-- rows of orders · time ordered_at · keep customer_id
SELECT
  "t1"."customer_id",
  "t1"."ordered_at" AS "__t"
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

-- rows of orders · time ordered_at · keep customer_id
SELECT
  "t1"."customer_id",
  "t1"."ordered_at" AS "__t"
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

-- rows of orders · time ordered_at · keep customer_id, channel
SELECT
  "t1"."customer_id",
  "t1"."channel",
  "t1"."ordered_at" AS "__t"
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

-- rows of orders · time ordered_at · keep customer_id
SELECT
  "t1"."customer_id",
  "t1"."ordered_at" AS "__t"
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
