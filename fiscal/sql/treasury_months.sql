-- Each county's treasury flows per calendar month, for the months in [$first_month, $end_month):
-- the reference months of M2 and M5 (indicators.sql). Sums are exact, in whole 1e-6 万元 (1 分):
-- a floating-point sum depends on the order parallel threads add the rows in, and the last
-- digit of the answer must not. (Rounding x·10⁶ is how DuckDB casts a DOUBLE to DECIMAL(18, 6),
-- at half the cost; the month as an integer groups faster than date_trunc.) Kept per
-- treasury version by queries.treasury_months.
SELECT county_code, make_date(month_index // 12, month_index % 12 + 1, 1) AS month, inflow, outflow
FROM (
    SELECT county_code, year(date) * 12 + month(date) - 1 AS month_index,
           sum(round(inflow * 1000000)::BIGINT) AS inflow, sum(round(outflow * 1000000)::BIGINT) AS outflow
    FROM treasury
    WHERE date >= $first_month AND date < $end_month
    GROUP BY ALL
)
