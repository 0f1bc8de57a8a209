-- SPEC §9.4 工作台账: the current state of every measure (its highest revision), with the
-- county's name, who recorded it first and when, and `overdue`: due before $today and not done.
WITH
revisions AS (FROM ledger),
latest AS (
    FROM revisions
    QUALIFY row_number() OVER (PARTITION BY measure_id ORDER BY revision DESC) = 1
),
firsts AS (SELECT measure_id, "user" AS created_by, "at" AS created_at FROM revisions WHERE revision = 1)
SELECT m.measure_id, m.revision, m.county_code, c.county_name, c.city_name, m.measure, m.owner, m.due, m.status,
       m.status <> 'done' AND m.due < $today AS overdue, m.note, m."user",
       timezone('UTC', m."at") AS "at", f.created_by, timezone('UTC', f.created_at) AS created_at  -- naive UTC: see ledger.py
FROM latest m
LEFT JOIN counties c USING (county_code)
LEFT JOIN firsts f USING (measure_id)
ORDER BY m.county_code, m.measure_id
