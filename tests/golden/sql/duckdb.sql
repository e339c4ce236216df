-- events · grain week · segments network: 2 queries
SELECT
  DATE_TRUNC('WEEK', "t4"."__date" - INTERVAL '6' DAY) + INTERVAL '6' DAY AS "period",
  "t4"."network",
  CAST(COUNT(*) FILTER(WHERE
    "t4"."paid" = TRUE) AS DOUBLE) AS "m0_a0",
  CAST(COALESCE(
    SUM("t4"."clicks") FILTER(WHERE
      (
        "t4"."paid" = TRUE
      ) AND "t4"."network" IN ('x', 'linkedin')),
    0
  ) AS DOUBLE) AS "m0_a1",
  CAST(COUNT(DISTINCT "t4"."id") FILTER(WHERE
    "t4"."paid" = TRUE) AS DOUBLE) AS "m0_a2",
  CAST(FIRST("t4"."clicks" ORDER BY "t4"."occurred_at" DESC) FILTER(WHERE
    (
      "t4"."paid" = TRUE
    ) AND (
      "t4"."clicks" IS NOT NULL
    )) AS DOUBLE) AS "m0_a3",
  CAST(COUNT(DISTINCT "t4"."clicks") FILTER(WHERE
    (
      "t4"."paid" = TRUE
    )
    AND (
      "t4"."clicks" IS NOT NULL
    )
    AND (
      "t4"."occurred_at" = "t4"."__edge_m0_a4"
    )) AS DOUBLE) AS "m0_a4",
  AVG(
    CASE
      WHEN "t4"."value" = 0
      THEN CAST(NULL AS DOUBLE)
      ELSE CAST("t4"."clicks" AS DOUBLE) / "t4"."value"
    END
  ) FILTER(WHERE
    "t4"."paid" = TRUE) AS "m0_a5",
  COUNT(*) FILTER(WHERE
    "t4"."paid" = TRUE) AS "m0__n",
  CAST(COUNT(DISTINCT "t4"."id") FILTER(WHERE
    "t4"."paid" = FALSE) AS DOUBLE) AS "m1_a0",
  COUNT(*) FILTER(WHERE
    "t4"."paid" = FALSE) AS "m1__n"
FROM (
  SELECT
    "t3"."id",
    "t3"."occurred_at",
    "t3"."network",
    "t3"."clicks",
    "t3"."amount",
    "t3"."paid",
    "t3"."value",
    "t3"."__date",
    MAX(
      CASE
        WHEN (
          "t3"."paid" = TRUE
        ) AND (
          "t3"."clicks" IS NOT NULL
        )
        THEN "t3"."occurred_at"
        ELSE CAST(NULL AS TIMESTAMP)
      END
    ) OVER (
      PARTITION BY DATE_TRUNC('WEEK', "t3"."__date" - INTERVAL '6' DAY) + INTERVAL '6' DAY, "t3"."network"
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS "__edge_m0_a4"
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
  ) AS "t3"
) AS "t4"
GROUP BY
  1,
  2;

-- events · grain week · segments -: 1 query, null counts of 2 aggregates
SELECT
  DATE_TRUNC('WEEK', "t3"."__date" - INTERVAL '6' DAY) + INTERVAL '6' DAY AS "period",
  CAST(COALESCE(SUM("t3"."clicks"), 0) AS DOUBLE) AS "m0_a0",
  QUANTILE_CONT("t3"."amount", 0.9) AS "m0_a1",
  COUNT(*) FILTER(WHERE
    "t3"."clicks" IS NULL) AS "z0_0",
  COUNT(*) FILTER(WHERE
    "t3"."amount" IS NULL) AS "z0_1"
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
) AS "t3"
GROUP BY
  1;

-- events · grain windows · segments -: 2 queries
SELECT
  QUANTILE_CONT(
    CASE
      WHEN (
        "t3"."__date" >= MAKE_DATE(2026, 4, 1)
      )
      AND (
        "t3"."__date" <= MAKE_DATE(2026, 4, 30)
      )
      AND (
        "t3"."clicks" > 0
      )
      THEN "t3"."amount"
      ELSE CAST(NULL AS DOUBLE)
    END,
    0.5
  ) AS "m0_a0",
  CAST(COUNT(DISTINCT "t3"."id") FILTER(WHERE
    (
      "t3"."__date" >= MAKE_DATE(2026, 4, 1)
    )
    AND (
      "t3"."__date" <= MAKE_DATE(2026, 4, 30)
    )) AS DOUBLE) AS "m0_a1",
  CAST(COUNT(DISTINCT "t3"."id") FILTER(WHERE
    (
      "t3"."paid" = TRUE
    )
    AND (
      "t3"."__date" >= MAKE_DATE(2026, 5, 1)
    )
    AND (
      "t3"."__date" <= MAKE_DATE(2026, 5, 31)
    )) AS DOUBLE) AS "m1_a0"
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
    AND CAST("t2"."occurred_at" AS DATE) <= MAKE_DATE(2026, 5, 31)
) AS "t3";
