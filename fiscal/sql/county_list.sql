-- Every county of the lake, for pickers and links.
SELECT county_code, county_name, city_name
FROM read_parquet($counties, union_by_name := true)
ORDER BY county_code
