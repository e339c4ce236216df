-- events · grain week · segments network: 2 queries
SELECT
  DATE_TRUNC('week', `t4`.`__date` - INTERVAL '6' DAY) + INTERVAL '6' DAY AS `period`,
  `t4`.`network`,
  CAST(SUM(CAST(`t4`.`paid` = TRUE AS BIGINT)) AS DOUBLE) AS `m0_a0`,
  CAST(COALESCE(
    SUM(
      IF(
        (
          `t4`.`paid` = TRUE
        ) AND `t4`.`network` IN ('x', 'linkedin'),
        CAST(`t4`.`clicks` AS DECIMAL(38, 0)),
        NULL
      )
    ),
    0
  ) AS DOUBLE) AS `m0_a1`,
  CAST(COUNT(DISTINCT IF(`t4`.`paid` = TRUE, `t4`.`id`, NULL)) AS DOUBLE) AS `m0_a2`,
  CAST(MAX_BY(
    IF((
      `t4`.`paid` = TRUE
    ) AND (
      `t4`.`clicks` IS NOT NULL
    ), `t4`.`clicks`, NULL),
    IF(
      (
        `t4`.`paid` = TRUE
      ) AND (
        `t4`.`clicks` IS NOT NULL
      ),
      `t4`.`occurred_at`,
      NULL
    )
  ) AS DOUBLE) AS `m0_a3`,
  CAST(COUNT(
    DISTINCT IF(
      (
        `t4`.`paid` = TRUE
      )
      AND (
        `t4`.`clicks` IS NOT NULL
      )
      AND (
        `t4`.`occurred_at` = `t4`.`__edge_m0_a4`
      ),
      `t4`.`clicks`,
      NULL
    )
  ) AS DOUBLE) AS `m0_a4`,
  AVG(
    IF(
      `t4`.`paid` = TRUE,
      CASE
        WHEN `t4`.`value` = 0
        THEN CAST(NULL AS DOUBLE)
        ELSE CAST(`t4`.`clicks` AS DOUBLE) / `t4`.`value`
      END,
      NULL
    )
  ) AS `m0_a5`,
  SUM(CAST(`t4`.`paid` = TRUE AS BIGINT)) AS `m0__n`,
  CAST(COUNT(DISTINCT IF(`t4`.`paid` = FALSE, `t4`.`id`, NULL)) AS DOUBLE) AS `m1_a0`,
  SUM(CAST(`t4`.`paid` = FALSE AS BIGINT)) AS `m1__n`
FROM (
  SELECT
    `t3`.`id`,
    `t3`.`occurred_at`,
    `t3`.`network`,
    `t3`.`clicks`,
    `t3`.`amount`,
    `t3`.`paid`,
    `t3`.`value`,
    `t3`.`__date`,
    MAX(
      CASE
        WHEN (
          `t3`.`paid` = TRUE
        ) AND (
          `t3`.`clicks` IS NOT NULL
        )
        THEN `t3`.`occurred_at`
        ELSE CAST(NULL AS TIMESTAMP)
      END
    ) OVER (
      PARTITION BY DATE_TRUNC('week', `t3`.`__date` - INTERVAL '6' DAY) + INTERVAL '6' DAY, `t3`.`network`
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS `__edge_m0_a4`
  FROM (
    SELECT
      `t2`.`id`,
      `t2`.`occurred_at`,
      `t2`.`network`,
      `t2`.`clicks`,
      `t2`.`amount`,
      `t2`.`paid`,
      `t2`.`amount` * 2 AS `value`,
      CAST(`t2`.`occurred_at` AS DATE) AS `__date`
    FROM (
      SELECT
        `t1`.`id`,
        FROM_UTC_TIMESTAMP(CAST(`t1`.`occurred_at` AS TIMESTAMP), 'Europe/Warsaw') AS `occurred_at`,
        `t1`.`network`,
        `t1`.`clicks`,
        TRY_CAST(TRIM(' \t\n\r\v\f' FROM `t1`.`amount`) AS DOUBLE) AS `amount`,
        `t1`.`paid`
      FROM (
        SELECT
          `t0`.`id`,
          `t0`.`at` AS `occurred_at`,
          `t0`.`network`,
          `t0`.`clicks`,
          `t0`.`amount`,
          `t0`.`paid`
        FROM `events` AS `t0`
      ) AS `t1`
    ) AS `t2`
    WHERE
      CAST(`t2`.`occurred_at` AS DATE) IS NOT NULL
      AND CAST(`t2`.`occurred_at` AS DATE) <= MAKE_DATE(2026, 11, 1)
      AND CAST(`t2`.`occurred_at` AS DATE) >= MAKE_DATE(2026, 1, 1)
  ) AS `t3`
) AS `t4`
GROUP BY
  1,
  2;

-- events · grain week · segments -: 1 query, null counts of 2 aggregates
SELECT
  DATE_TRUNC('week', `t3`.`__date` - INTERVAL '6' DAY) + INTERVAL '6' DAY AS `period`,
  CAST(COALESCE(SUM(CAST(`t3`.`clicks` AS DECIMAL(38, 0))), 0) AS DOUBLE) AS `m0_a0`,
  PERCENTILE(`t3`.`amount`, 0.9) AS `m0_a1`,
  SUM(CAST(`t3`.`clicks` IS NULL AS BIGINT)) AS `z0_0`,
  SUM(CAST(`t3`.`amount` IS NULL OR ISNAN(`t3`.`amount`) AS BIGINT)) AS `z0_1`
FROM (
  SELECT
    `t2`.`id`,
    `t2`.`occurred_at`,
    `t2`.`network`,
    `t2`.`clicks`,
    `t2`.`amount`,
    `t2`.`paid`,
    `t2`.`amount` * 2 AS `value`,
    CAST(`t2`.`occurred_at` AS DATE) AS `__date`
  FROM (
    SELECT
      `t1`.`id`,
      FROM_UTC_TIMESTAMP(CAST(`t1`.`occurred_at` AS TIMESTAMP), 'Europe/Warsaw') AS `occurred_at`,
      `t1`.`network`,
      `t1`.`clicks`,
      TRY_CAST(TRIM(' \t\n\r\v\f' FROM `t1`.`amount`) AS DOUBLE) AS `amount`,
      `t1`.`paid`
    FROM (
      SELECT
        `t0`.`id`,
        `t0`.`at` AS `occurred_at`,
        `t0`.`network`,
        `t0`.`clicks`,
        `t0`.`amount`,
        `t0`.`paid`
      FROM `events` AS `t0`
    ) AS `t1`
  ) AS `t2`
  WHERE
    CAST(`t2`.`occurred_at` AS DATE) IS NOT NULL
    AND CAST(`t2`.`occurred_at` AS DATE) <= MAKE_DATE(2026, 11, 1)
    AND CAST(`t2`.`occurred_at` AS DATE) >= MAKE_DATE(2026, 1, 1)
) AS `t3`
GROUP BY
  1;

-- events · grain windows · segments -: 2 queries
SELECT
  PERCENTILE(
    CASE
      WHEN (
        `t3`.`__date` >= MAKE_DATE(2026, 4, 1)
      )
      AND (
        `t3`.`__date` <= MAKE_DATE(2026, 4, 30)
      )
      AND (
        `t3`.`clicks` > 0
      )
      THEN `t3`.`amount`
      ELSE CAST(NULL AS DOUBLE)
    END,
    0.5
  ) AS `m0_a0`,
  CAST(COUNT(
    DISTINCT IF(
      (
        `t3`.`__date` >= MAKE_DATE(2026, 4, 1)
      )
      AND (
        `t3`.`__date` <= MAKE_DATE(2026, 4, 30)
      ),
      `t3`.`id`,
      NULL
    )
  ) AS DOUBLE) AS `m0_a1`,
  CAST(COUNT(
    DISTINCT IF(
      (
        `t3`.`paid` = TRUE
      )
      AND (
        `t3`.`__date` >= MAKE_DATE(2026, 5, 1)
      )
      AND (
        `t3`.`__date` <= MAKE_DATE(2026, 5, 31)
      ),
      `t3`.`id`,
      NULL
    )
  ) AS DOUBLE) AS `m1_a0`
FROM (
  SELECT
    `t2`.`id`,
    `t2`.`occurred_at`,
    `t2`.`network`,
    `t2`.`clicks`,
    `t2`.`amount`,
    `t2`.`paid`,
    `t2`.`amount` * 2 AS `value`,
    CAST(`t2`.`occurred_at` AS DATE) AS `__date`
  FROM (
    SELECT
      `t1`.`id`,
      FROM_UTC_TIMESTAMP(CAST(`t1`.`occurred_at` AS TIMESTAMP), 'Europe/Warsaw') AS `occurred_at`,
      `t1`.`network`,
      `t1`.`clicks`,
      TRY_CAST(TRIM(' \t\n\r\v\f' FROM `t1`.`amount`) AS DOUBLE) AS `amount`,
      `t1`.`paid`
    FROM (
      SELECT
        `t0`.`id`,
        `t0`.`at` AS `occurred_at`,
        `t0`.`network`,
        `t0`.`clicks`,
        `t0`.`amount`,
        `t0`.`paid`
      FROM `events` AS `t0`
    ) AS `t1`
  ) AS `t2`
  WHERE
    CAST(`t2`.`occurred_at` AS DATE) IS NOT NULL
    AND CAST(`t2`.`occurred_at` AS DATE) <= MAKE_DATE(2026, 11, 1)
    AND CAST(`t2`.`occurred_at` AS DATE) >= MAKE_DATE(2026, 1, 1)
    AND CAST(`t2`.`occurred_at` AS DATE) >= MAKE_DATE(2026, 4, 1)
    AND CAST(`t2`.`occurred_at` AS DATE) <= MAKE_DATE(2026, 5, 31)
) AS `t3`;
