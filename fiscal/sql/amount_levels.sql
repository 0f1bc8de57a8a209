-- The typical size of each amount column per county already in the lake (median of the
-- positive values), for the counties of an upload of kind $kind: the yardstick of the
-- unit magnitude check (fiscal.magnitude). One branch per kind; the kind filter prunes
-- the others.
WITH
amounts AS (
    SELECT 'treasury' AS kind, county_code, 'balance' AS "column", balance AS amount FROM treasury
    UNION ALL SELECT 'treasury', county_code, 'inflow', inflow FROM treasury
    UNION ALL SELECT 'treasury', county_code, 'outflow', outflow FROM treasury
    UNION ALL SELECT 'payroll_schedule', county_code, 'amount_due', amount_due FROM payroll_schedule
    UNION ALL SELECT 'payroll_account', county_code, 'balance', balance FROM payroll_account
    UNION ALL SELECT 'revenue', county_code, 'budget', budget FROM revenue
    UNION ALL SELECT 'revenue', county_code, 'actual_ytd', actual_ytd FROM revenue
    UNION ALL SELECT 'advances', county_code, 'advances_balance', advances_balance FROM advances
    UNION ALL SELECT 'advances', county_code, 'general_exp_ytd', general_exp_ytd FROM advances
    UNION ALL SELECT 'advances', county_code, 'fund_exp_ytd', fund_exp_ytd FROM advances
)
SELECT county_code, "column", median(amount) AS level
FROM amounts
-- A semi-join on the upload's codes: list_contains would scan the whole list for every row.
WHERE kind = $kind AND county_code IN (SELECT unnest($county_codes)) AND amount > 0
GROUP BY ALL
