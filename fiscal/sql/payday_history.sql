-- Every payday of every county from the first day of the month $months − 1 months
-- before A's month up to A, plus later paydays whose T−lead_days cutoff has passed,
-- each with its M3 status as seen on A (the same `payday_status` macro as indicators.sql).
WITH
counties         AS (FROM read_parquet($counties, union_by_name := true)),
payroll_schedule AS (FROM read_parquet($payroll_schedule, union_by_name := true)),
payroll_account  AS (FROM read_parquet($payroll_account, union_by_name := true)),

paydays AS (
    SELECT s.county_code, s.payday, s.amount_due,
           s.payday - CAST($lead_days AS INTEGER) AS cutoff,
           s.payday - 1 AS eve,
           $as_of::DATE AS as_of
    FROM payroll_schedule s
    WHERE s.payday >= date_trunc('month', $as_of::DATE) - to_months(CAST($months AS INTEGER) - 1)
      AND (s.payday <= $as_of::DATE OR s.payday - CAST($lead_days AS INTEGER) <= $as_of::DATE)
),
funded AS (
    SELECT p.*, bc.balance AS bal_cutoff, be.balance AS bal_eve, ba.balance AS bal_as_of
    FROM paydays p
    ASOF LEFT JOIN payroll_account bc ON bc.county_code = p.county_code AND bc.date <= p.cutoff
    ASOF LEFT JOIN payroll_account be ON be.county_code = p.county_code AND be.date <= p.eve
    ASOF LEFT JOIN payroll_account ba ON ba.county_code = p.county_code AND ba.date <= p.as_of
),
statuses AS (
    SELECT *, payday_status(payday, as_of, cutoff, amount_due, bal_cutoff, bal_eve, bal_as_of) AS status
    FROM funded
)
SELECT c.county_code, c.county_name, c.city_name,
       date_trunc('month', s.payday)::DATE AS month,
       s.payday, s.cutoff, s.amount_due, s.status,
       payday_ratio(s.status, s.amount_due, s.bal_cutoff, s.bal_as_of) AS ratio,
       payday_shortfall(s.status, s.amount_due, s.bal_eve) AS shortfall
FROM statuses s
JOIN counties c USING (county_code)
ORDER BY c.county_code, s.payday
