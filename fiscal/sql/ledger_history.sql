-- Every revision of every measure of the 工作台账 (SPEC §9.4: history kept), newest first.
SELECT r.measure_id, r.revision, r.county_code, c.county_name, c.city_name, r.measure, r.owner, r.due, r.status,
       r.note, r."user", timezone('UTC', r."at") AS "at"  -- naive UTC: see ledger.py
FROM ledger r
LEFT JOIN counties c USING (county_code)
ORDER BY r."at" DESC, r.measure_id, r.revision DESC
