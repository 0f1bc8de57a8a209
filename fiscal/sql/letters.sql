-- SPEC §9.2 提示函 at $as_of, over the indicator rows of A and of the month-ends $month_ends
-- before A's month (relation `indicator_rows`) and the dispatch suggestions at A
-- (relation `dispatch_rows`). A county gets a letter when its coverage at A is below the
-- prompt line. months_below counts back from the last month-end while coverage stays below
-- the prompt line: a null coverage (or one at or above the line) ends the run; at most 12.
WITH
month_ends AS (
    SELECT county_code, coverage_months,
           row_number() OVER (PARTITION BY county_code ORDER BY as_of DESC) AS back
    FROM indicator_rows
    WHERE list_contains($month_ends::DATE[], CAST(as_of AS DATE))
),
runs AS (
    SELECT county_code,
           least(coalesce(min(back) FILTER (WHERE coverage_months IS NULL OR coverage_months >= $coverage_prompt),
                          max(back) + 1) - 1, 12) AS months_below
    FROM month_ends GROUP BY ALL
),
at_date AS (
    SELECT * REPLACE (CAST(as_of AS DATE) AS as_of) FROM indicator_rows WHERE CAST(as_of AS DATE) = $as_of
)
SELECT a.county_code, a.county_name, a.city_name, a.as_of, a.coverage_months, a.coverage_band,
       coalesce(r.months_below, 0) AS months_below,
       coalesce(r.months_below, 0) >= $persistent_months AS persistent,
       coalesce(a.coverage_months < $coverage_prompt, false) AS letter_due,
       a.treasury_date, a.treasury_balance, a.avg_monthly_outflow, a.history_months,
       a.next_payday, a.next_payday_amount, a.next_payday_cutoff, a.account_balance, a.tier, a.tier_label,
       d.cash_floor, d.payroll_topup, d.dispatch_need, d.payroll_gap_3m, d.horizon_payroll, d.horizon_paydays
FROM at_date a
LEFT JOIN runs r USING (county_code)
LEFT JOIN dispatch_rows d USING (county_code)
ORDER BY a.county_code
