-- Paydays in the $days days after A (A < P ≤ A + $days) that are not funded on time as seen
-- on A, with the M3 status and ratio (the same `payday_funding` as indicators.sql) and what
-- the payroll account still lacks today. For the weekly brief (SPEC §9.5).
WITH
upcoming AS (
    SELECT county_code, payday, amount_due, $as_of::DATE AS as_of
    FROM payroll_schedule
    WHERE payday > $as_of::DATE AND payday <= $as_of::DATE + CAST($days AS INTEGER)
)
SELECT c.county_code, c.county_name, c.city_name, s.payday, s.cutoff, s.amount_due, s.status, s.ratio,
       coalesce(s.bal_as_of, 0) AS account_balance,
       greatest(0, s.amount_due - coalesce(s.bal_as_of, 0)) AS still_missing
FROM payday_funding('upcoming', $lead_days) s
JOIN counties c USING (county_code)
WHERE s.status <> 'funded_on_time'
ORDER BY s.payday, c.county_code
