-- SPEC §9.2 the register of issued prompt letters in this snapshot, without the files themselves.
SELECT number, year, sequence, county_code, county_name, as_of, batch, issued_on, file_name, sha256, "user", "at"
FROM letters
ORDER BY year, sequence
