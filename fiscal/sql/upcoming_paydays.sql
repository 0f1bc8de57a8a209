-- Paydays in the $days days after A (A < P ≤ A + $days) that are not funded on time as seen
-- on A, with the M3 status and ratio (the same macros as indicators.sql) and what the payroll
-- account still lacks today. For the weekly brief (SPEC §9.5).
WITH
counties         AS (FROM read_parquet($counties, union_by_name := true)),
payroll_schedule AS (FROM read_parquet($payroll_schedule, union_by_name := true)),
payroll_account  AS (FROM read_parquet($payroll_account, union_by_name := true)),
upcoming AS (
    SELECT county_code, payday, amount_due, payday - CAST($lead_days AS INTEGER) AS cutoff, $as_of::DATE AS as_of
    FROM payroll_schedule
    WHERE payday > $as_of::DATE AND payday <= $as_of::DATE + CAST($days AS INTEGER)
),
funded AS (
    SELECT u.*, bc.balance AS bal_cutoff, ba.balance AS bal_as_of
    FROM upcoming u
    ASOF LEFT JOIN payroll_account bc ON bc.county_code = u.county_code AND bc.date <= u.cutoff
    ASOF LEFT JOIN payroll_account ba ON ba.county_code = u.county_code AND ba.date <= u.as_of
),
statuses AS (
    SELECT *, payday_status(payday, as_of, cutoff, amount_due, bal_cutoff, NULL, bal_as_of) AS status FROM funded
)
SELECT c.county_code, c.county_name, c.city_name, s.payday, s.cutoff, s.amount_due, s.status,
       payday_ratio(s.status, s.amount_due, s.bal_cutoff, s.bal_as_of) AS ratio,
       coalesce(s.bal_as_of, 0) AS account_balance,
       greatest(0, s.amount_due - coalesce(s.bal_as_of, 0)) AS still_missing
FROM statuses s
JOIN counties c USING (county_code)
WHERE s.status <> 'funded_on_time'
ORDER BY s.payday, c.county_code
