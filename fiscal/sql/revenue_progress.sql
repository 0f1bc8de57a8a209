-- M4 inputs by category: for every county, the rows of its latest month m of year(A)
-- up to month(A), next to the same category and month of the year before (year on year).
WITH
latest AS (
    SELECT county_code, max(month) AS month
    FROM revenue
    WHERE in_year_to_month(year, month, $as_of::DATE)
    GROUP BY ALL
)
SELECT c.county_code, c.county_name, c.city_name, r.year, r.month, r.category,
       r.budget, r.actual_ytd,
       prev.budget AS prev_budget, prev.actual_ytd AS prev_actual_ytd
FROM latest l
JOIN revenue r ON r.county_code = l.county_code AND r.year = year($as_of::DATE) AND r.month = l.month
JOIN counties c ON c.county_code = r.county_code
LEFT JOIN revenue prev
       ON prev.county_code = r.county_code AND prev.year = r.year - 1
      AND prev.month = r.month AND prev.category = r.category
ORDER BY c.county_code, r.category
