-- Every payday of every county from the first day of the month $months − 1 months
-- before A's month up to A, plus later paydays whose T−lead_days cutoff has passed,
-- each with its M3 status as seen on A (the same `payday_funding` as indicators.sql).
WITH
paydays AS (
    SELECT county_code, payday, amount_due, $as_of::DATE AS as_of
    FROM payroll_schedule
    WHERE payday >= date_trunc('month', $as_of::DATE) - to_months(CAST($months AS INTEGER) - 1)
      AND (payday <= $as_of::DATE OR payday - CAST($lead_days AS INTEGER) <= $as_of::DATE)
)
SELECT c.county_code, c.county_name, c.city_name,
       date_trunc('month', s.payday)::DATE AS month,
       s.payday, s.cutoff, s.amount_due, s.status, s.ratio, s.shortfall
FROM payday_funding('paydays', $lead_days) s
JOIN counties c USING (county_code)
ORDER BY c.county_code, s.payday
