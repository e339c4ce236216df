-- name: snapshot-growth
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
--   revenue_growth:
--     growth: revenue
--     segments: [channel]

-- orders · grain month · segments -: 2 queries, null counts of 2 aggregates
SELECT
  DATETRUNC(MONTH, [t1].[__date]) AS [period],
  COALESCE(SUM(IIF([t1].[paid] = 1, [t1].[amount], NULL)), 0) AS [m0_a0],
  SUM(IIF([t1].[paid] = 1, 1, 0)) AS [m0__n],
  CAST(COUNT_BIG(DISTINCT [t1].[customer_id]) AS FLOAT) AS [m1_a0],
  SUM(IIF((
    [t1].[amount] IS NULL
  ) AND (
    [t1].[paid] = 1
  ), 1, 0)) AS [z0_0],
  SUM(IIF([t1].[customer_id] IS NULL, 1, 0)) AS [z1_0]
FROM (
  SELECT
    [t0].[order_id],
    [t0].[customer_id],
    [t0].[ordered_at],
    [t0].[amount],
    [t0].[channel],
    [t0].[country],
    [t0].[paid],
    CAST([t0].[ordered_at] AS DATE) AS [__date]
  FROM [orders] AS [t0]
  WHERE
    CAST([t0].[ordered_at] AS DATE) IS NOT NULL
    AND CAST([t0].[ordered_at] AS DATE) <= DATEFROMPARTS(2026, 10, 31)
    AND CAST([t0].[ordered_at] AS DATE) >= DATEFROMPARTS(2026, 1, 1)
) AS [t1]
GROUP BY
  DATETRUNC(MONTH, [t1].[__date]);

-- orders · grain month · segments channel: 2 queries
SELECT
  DATETRUNC(MONTH, [t1].[__date]) AS [period],
  [t1].[channel],
  COALESCE(SUM(IIF([t1].[paid] = 1, [t1].[amount], NULL)), 0) AS [m0_a0],
  SUM(IIF([t1].[paid] = 1, 1, 0)) AS [m0__n],
  CAST(COUNT_BIG(DISTINCT [t1].[customer_id]) AS FLOAT) AS [m1_a0]
FROM (
  SELECT
    [t0].[order_id],
    [t0].[customer_id],
    [t0].[ordered_at],
    [t0].[amount],
    [t0].[channel],
    [t0].[country],
    [t0].[paid],
    CAST([t0].[ordered_at] AS DATE) AS [__date]
  FROM [orders] AS [t0]
  WHERE
    CAST([t0].[ordered_at] AS DATE) IS NOT NULL
    AND CAST([t0].[ordered_at] AS DATE) <= DATEFROMPARTS(2026, 10, 31)
    AND CAST([t0].[ordered_at] AS DATE) >= DATEFROMPARTS(2026, 1, 1)
) AS [t1]
GROUP BY
  DATETRUNC(MONTH, [t1].[__date]),
  [t1].[channel];
