-- name: snapshot-cohort_retention
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
--   month_1_retention:
--     cohort_retention: {source: orders, key: customer_id, period: month, age: 1, max_age: 6}
--     segments: [channel]

-- rows of orders · time ordered_at · keep customer_id
SELECT
  [t0].[customer_id],
  [t0].[ordered_at] AS [__t]
FROM [orders] AS [t0]
WHERE
  [t0].[ordered_at] IS NOT NULL;

-- rows of orders · time ordered_at · keep customer_id
SELECT
  [t0].[customer_id],
  [t0].[ordered_at] AS [__t]
FROM [orders] AS [t0]
WHERE
  [t0].[ordered_at] IS NOT NULL;

-- rows of orders · time ordered_at · keep customer_id, channel
SELECT
  [t0].[customer_id],
  [t0].[channel],
  [t0].[ordered_at] AS [__t]
FROM [orders] AS [t0]
WHERE
  [t0].[ordered_at] IS NOT NULL;

-- rows of orders · time ordered_at · keep customer_id
SELECT
  [t0].[customer_id],
  [t0].[ordered_at] AS [__t]
FROM [orders] AS [t0]
WHERE
  [t0].[ordered_at] IS NOT NULL;
