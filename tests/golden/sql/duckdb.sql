-- week query
SELECT
  DATE_TRUNC('WEEK', "t3"."__date" - INTERVAL '6' DAY) + INTERVAL '6' DAY AS "period",
  "t3"."network",
  CAST(COUNT(*) AS DOUBLE) AS "a0",
  CAST(COALESCE(SUM("t3"."clicks") FILTER(WHERE
    "t3"."network" IN ('x', 'linkedin')), 0) AS DOUBLE) AS "a1",
  CAST(COUNT(DISTINCT "t3"."id") AS DOUBLE) AS "a2",
  CAST(FIRST("t3"."clicks" ORDER BY "t3"."occurred_at" DESC) FILTER(WHERE
    "t3"."clicks" IS NOT NULL) AS DOUBLE) AS "a3",
  AVG(
    CASE
      WHEN "t3"."value" = 0
      THEN CAST(NULL AS DOUBLE)
      ELSE CAST("t3"."clicks" AS DOUBLE) / "t3"."value"
    END
  ) AS "a4"
FROM (
  SELECT
    "t2"."id",
    "t2"."occurred_at",
    "t2"."network",
    "t2"."clicks",
    "t2"."amount",
    "t2"."paid",
    "t2"."amount" * 2 AS "value",
    CAST("t2"."occurred_at" AS DATE) AS "__date"
  FROM (
    SELECT
      "t1"."id",
      TIMEZONE('Europe/Warsaw', TIMEZONE('UTC', "t1"."occurred_at")) AS "occurred_at",
      "t1"."network",
      "t1"."clicks",
      TRY_CAST(TRIM("t1"."amount", ' 	
') AS DOUBLE) AS "amount",
      "t1"."paid"
    FROM (
      SELECT
        "t0"."id",
        "t0"."at" AS "occurred_at",
        "t0"."network",
        "t0"."clicks",
        "t0"."amount",
        "t0"."paid"
      FROM "events" AS "t0"
    ) AS "t1"
  ) AS "t2"
  WHERE
    CAST("t2"."occurred_at" AS DATE) IS NOT NULL
    AND CAST("t2"."occurred_at" AS DATE) <= MAKE_DATE(2026, 11, 1)
    AND CAST("t2"."occurred_at" AS DATE) >= MAKE_DATE(2026, 1, 1)
    AND "t2"."paid" = TRUE
) AS "t3"
GROUP BY
  1,
  2;

-- window query
SELECT
  MAKE_DATE(2026, 4, 1) AS "period",
  QUANTILE_CONT(CASE WHEN "t3"."clicks" > 0 THEN "t3"."amount" ELSE CAST(NULL AS DOUBLE) END, 0.5) AS "a0"
FROM (
  SELECT
    "t2"."id",
    "t2"."occurred_at",
    "t2"."network",
    "t2"."clicks",
    "t2"."amount",
    "t2"."paid",
    "t2"."amount" * 2 AS "value",
    CAST("t2"."occurred_at" AS DATE) AS "__date"
  FROM (
    SELECT
      "t1"."id",
      TIMEZONE('Europe/Warsaw', TIMEZONE('UTC', "t1"."occurred_at")) AS "occurred_at",
      "t1"."network",
      "t1"."clicks",
      TRY_CAST(TRIM("t1"."amount", ' 	
') AS DOUBLE) AS "amount",
      "t1"."paid"
    FROM (
      SELECT
        "t0"."id",
        "t0"."at" AS "occurred_at",
        "t0"."network",
        "t0"."clicks",
        "t0"."amount",
        "t0"."paid"
      FROM "events" AS "t0"
    ) AS "t1"
  ) AS "t2"
  WHERE
    CAST("t2"."occurred_at" AS DATE) IS NOT NULL
    AND CAST("t2"."occurred_at" AS DATE) <= MAKE_DATE(2026, 11, 1)
    AND CAST("t2"."occurred_at" AS DATE) >= MAKE_DATE(2026, 1, 1)
    AND CAST("t2"."occurred_at" AS DATE) >= MAKE_DATE(2026, 4, 1)
    AND CAST("t2"."occurred_at" AS DATE) <= MAKE_DATE(2026, 4, 30)
) AS "t3"
GROUP BY
  1;
