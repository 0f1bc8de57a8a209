-- Every manual 重点关注 entry (SPEC §9.3), newest first, with the county's name.
SELECT e.county_code, c.county_name, c.city_name, e.action, e.reason, e.effective_from, e.until, e."user",
       timezone('UTC', e."at") AS "at"  -- naive UTC: see focus.py
FROM focus e
LEFT JOIN counties c USING (county_code)
ORDER BY e."at" DESC, e.county_code
