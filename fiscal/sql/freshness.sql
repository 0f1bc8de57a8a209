-- The latest date each extract covers, and its row count. Monthly extracts count as
-- of their month's last day; the payroll schedule by its latest payday on record.
SELECT 'treasury' AS kind, max(date) AS latest, count(*) AS rows FROM treasury
UNION ALL SELECT 'payroll_account', max(date), count(*) FROM payroll_account
UNION ALL SELECT 'payroll_schedule', max(payday), count(*) FROM payroll_schedule
UNION ALL SELECT 'revenue', max(last_day(make_date(year, month, 1))), count(*) FROM revenue
UNION ALL SELECT 'advances', max(last_day(make_date(year, month, 1))), count(*) FROM advances
