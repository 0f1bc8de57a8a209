-- One county's daily treasury rows and payroll-account balances between $start and $end.
-- The account may be recorded only when it changes, so its balance carried into $start is
-- added as the first point (the chart draws it as a step line).
WITH
t AS (SELECT date, balance, inflow, outflow FROM treasury
      WHERE county_code = $county_code AND date BETWEEN $start::DATE AND $end::DATE),
a AS (SELECT date, balance FROM payroll_account
      WHERE county_code = $county_code AND date BETWEEN $start::DATE AND $end::DATE
      UNION ALL
      SELECT $start::DATE, balance FROM (
          SELECT balance FROM payroll_account
          WHERE county_code = $county_code AND date < $start::DATE
          ORDER BY date DESC LIMIT 1))
SELECT coalesce(t.date, a.date) AS date,
       t.balance AS treasury_balance, t.inflow, t.outflow,
       a.balance AS account_balance
FROM t FULL OUTER JOIN a ON a.date = t.date
ORDER BY date
