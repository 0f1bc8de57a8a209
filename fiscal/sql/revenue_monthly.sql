-- One county's revenue progress month by month in year(A) (up to month(A)) and the year
-- before, summed over categories: the cumulative curve against time progress.
SELECT year, month, sum(budget) AS budget, sum(actual_ytd) AS actual_ytd,
       sum(actual_ytd) / sum(budget) AS revenue_progress
FROM revenue
WHERE county_code = $county_code
  AND (year = year($as_of::DATE) - 1 OR in_year_to_month(year, month, $as_of::DATE))
GROUP BY ALL
ORDER BY year, month
