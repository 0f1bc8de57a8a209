-- SPEC §9.1 调度建议 for every county at $as_of, built on the indicator rows of that date
-- (relation `indicator_rows`, the output of indicators.sql): how much cash the city should
-- consider moving so that payroll over the next $dispatch_horizon_days days is covered and
-- the treasury stays at the warning line. Missing balances count as 0.
WITH
at_date AS (SELECT * REPLACE (CAST(as_of AS DATE) AS as_of) FROM indicator_rows WHERE CAST(as_of AS DATE) = $as_of),
horizon_payroll AS (
    SELECT a.county_code, sum(s.amount_due) AS horizon_payroll, count(*) AS horizon_paydays
    FROM at_date a
    JOIN payroll_schedule s
      ON s.county_code = a.county_code
     AND s.payday > a.as_of
     AND s.payday <= a.as_of + CAST($dispatch_horizon_days AS INTEGER)
    GROUP BY ALL
),
parts AS (
    SELECT a.*,
           coalesce($coverage_warning * a.avg_monthly_outflow, 0) AS cash_floor,
           coalesce(h.horizon_payroll, 0) AS horizon_payroll,
           coalesce(h.horizon_paydays, 0) AS horizon_paydays,
           greatest(0, coalesce(h.horizon_payroll, 0) - coalesce(a.account_balance, 0)) AS payroll_topup
    FROM at_date a
    LEFT JOIN horizon_payroll h USING (county_code)
)
SELECT county_code, county_name, city_name, as_of, treasury_balance,
       cash_floor, payroll_topup,
       greatest(0, cash_floor + payroll_topup - coalesce(treasury_balance, 0)) AS dispatch_need,
       -- M5 is null where history is short or nothing is due: so is the gap
       CASE WHEN payroll_cover_3m IS NOT NULL THEN greatest(0, forward_need - forward_available) END AS payroll_gap_3m,
       treasury_date, avg_monthly_outflow, coverage_months, coverage_band, account_balance,
       horizon_payroll, horizon_paydays, forward_need, forward_available,
       next_payday, next_payday_amount, tier, tier_label
FROM parts
ORDER BY dispatch_need DESC, county_code
