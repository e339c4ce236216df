-- week query
SELECT
  DATE_TRUNC('week', `t3`.`__date` - INTERVAL '6' DAY) + INTERVAL '6' DAY AS `period`,
  `t3`.`network`,
  CAST(COUNT(*) AS DOUBLE) AS `a0`,
  CAST(COALESCE(
    SUM(
      IF(`t3`.`network` IN ('x', 'linkedin'), CAST(`t3`.`clicks` AS DECIMAL(38, 0)), NULL)
    ),
    0
  ) AS DOUBLE) AS `a1`,
  CAST(COUNT(DISTINCT `t3`.`id`) AS DOUBLE) AS `a2`,
  CAST(MAX_BY(
    IF(`t3`.`clicks` IS NOT NULL, `t3`.`clicks`, NULL),
    IF(`t3`.`clicks` IS NOT NULL, `t3`.`occurred_at`, NULL)
  ) AS DOUBLE) AS `a3`,
  AVG(
    CASE
      WHEN `t3`.`value` = 0
      THEN CAST(NULL AS DOUBLE)
      ELSE CAST(`t3`.`clicks` AS DOUBLE) / `t3`.`value`
    END
  ) AS `a4`
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
    AND `t2`.`paid` = TRUE
) AS `t3`
GROUP BY
  1,
  2;

-- window query
SELECT
  MAKE_DATE(2026, 4, 1) AS `period`,
  PERCENTILE(CASE WHEN `t3`.`clicks` > 0 THEN `t3`.`amount` ELSE CAST(NULL AS DOUBLE) END, 0.5) AS `a0`
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
    AND CAST(`t2`.`occurred_at` AS DATE) <= MAKE_DATE(2026, 4, 30)
) AS `t3`
GROUP BY
  1;
