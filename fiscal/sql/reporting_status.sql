-- 报送情况: per county, the latest date each extract covers on or before A, and whether the
-- treasury daily (the one extract reported every working day) has a row in A's week
-- (A − $week_days, A]. Payroll-account balances come around paydays, monthly extracts
-- count as of their month's last day, and the payroll schedule by its latest payday on
-- record (it lists future paydays by design, so it is not cut at A).
WITH
t AS (SELECT county_code, max(date) AS latest FROM treasury WHERE date <= $as_of GROUP BY ALL),
pa AS (SELECT county_code, max(date) AS latest FROM payroll_account WHERE date <= $as_of GROUP BY ALL),
ps AS (SELECT county_code, max(payday) AS latest FROM payroll_schedule GROUP BY ALL),
r AS (SELECT county_code, max(last_day(make_date(year, month, 1))) AS latest FROM revenue
      WHERE make_date(year, month, 1) <= $as_of GROUP BY ALL),
a AS (SELECT county_code, max(last_day(make_date(year, month, 1))) AS latest FROM advances
      WHERE make_date(year, month, 1) <= $as_of GROUP BY ALL)
SELECT c.county_code, c.county_name, c.city_name,
       t.latest AS treasury_latest, pa.latest AS payroll_account_latest, ps.latest AS payroll_schedule_latest,
       r.latest AS revenue_latest, a.latest AS advances_latest,
       coalesce(t.latest > $as_of::DATE - CAST($week_days AS INTEGER), false) AS treasury_this_week
FROM counties c
LEFT JOIN t USING (county_code)
LEFT JOIN pa USING (county_code)
LEFT JOIN ps USING (county_code)
LEFT JOIN r USING (county_code)
LEFT JOIN a USING (county_code)
ORDER BY treasury_this_week, treasury_latest NULLS FIRST, c.county_code
