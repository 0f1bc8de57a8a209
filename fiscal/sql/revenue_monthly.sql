-- One county's revenue progress month by month in year(A) (up to month(A)) and the year
-- before, summed over categories: the cumulative curve against time progress.
WITH revenue AS (FROM read_parquet($revenue, union_by_name := true))
SELECT year, month, sum(budget) AS budget, sum(actual_ytd) AS actual_ytd,
       sum(actual_ytd) / sum(budget) AS revenue_progress
FROM revenue
WHERE county_code = $county_code
  AND (year = year($as_of::DATE) - 1 OR (year = year($as_of::DATE) AND month <= month($as_of::DATE)))
GROUP BY ALL
ORDER BY year, month
