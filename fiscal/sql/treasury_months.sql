-- Each county's treasury flows per calendar month, for the months in [$first_month, $end_month):
-- the reference months of M2 and M5 (indicators.sql). Sums are exact (DECIMAL, to 1 分): a
-- floating-point sum depends on the order parallel threads add the rows in, and the last
-- digit of the answer must not. Kept per treasury version by queries.treasury_months.
SELECT county_code, date_trunc('month', date)::DATE AS month,
       sum(inflow::DECIMAL(18, 6)) AS inflow, sum(outflow::DECIMAL(18, 6)) AS outflow
FROM treasury
WHERE date >= $first_month AND date < $end_month
GROUP BY ALL
