-- The registered letters with these numbers, files included (to download them again).
SELECT number, county_code, county_name, as_of, issued_on, file_name, sha256, content
FROM letters
WHERE list_contains($numbers, number)
ORDER BY year, sequence
