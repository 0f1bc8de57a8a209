-- Every county of the lake, for pickers and links.
SELECT county_code, county_name, city_name
FROM counties
ORDER BY county_code
