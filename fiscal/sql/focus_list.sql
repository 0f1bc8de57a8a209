-- SPEC §9.3: the 重点关注 list at every date of the registered view `tiers`
-- (county_code, county_name, city_name, as_of, tier, reasons: one row per county and date).
-- A county's deciding entry at A is its latest (by `at`) manual entry in force at A
-- (effective_from ≤ A ≤ until; no until: open-ended): add → on the list (source manual),
-- remove → off the list even at tier 3; no entry in force → on the list iff tier 3
-- (source computed). Along the dates of `tiers` (oldest first) each row also says whether
-- the county was on the list at the previous date and since when its current run on the
-- list lasts: the first date of the run, or a manual add's effective_from when that falls
-- after the previous date; `since_open` when the run reaches back to the first date.
WITH
entries AS (FROM focus),
dates AS (
    SELECT county_code, county_name, city_name, CAST(as_of AS DATE) AS as_of, tier, reasons FROM tiers
),
deciding AS (
    SELECT d.as_of, e.county_code, e.action, e.reason, e.effective_from, e.until, e."user", e."at"
    FROM dates d
    JOIN entries e ON e.county_code = d.county_code
                  AND e.effective_from <= d.as_of AND (e.until IS NULL OR d.as_of <= e.until)
    QUALIFY row_number() OVER (PARTITION BY d.county_code, d.as_of
                               ORDER BY e."at" DESC, e.effective_from DESC, e.action) = 1
),
membership AS (
    SELECT d.*, c.action, c.reason AS entry_reason, c.effective_from, c.until, c."user", c."at",
           CASE c.action WHEN 'add' THEN true WHEN 'remove' THEN false ELSE d.tier = $focus_tier END AS on_list
    FROM dates d LEFT JOIN deciding c USING (county_code, as_of)
),
runs AS (
    SELECT *,
           lag(on_list) OVER w AS on_list_before,
           lag(tier) OVER w AS tier_before,
           lag(action) OVER w AS action_before,
           lag(as_of) OVER w AS previous_date,
           -- a new run id after every date off the list
           sum(CASE WHEN on_list THEN 0 ELSE 1 END) OVER (w ROWS UNBOUNDED PRECEDING) AS run
    FROM membership
    WINDOW w AS (PARTITION BY county_code ORDER BY as_of)
),
starts AS (
    SELECT *,
           CASE WHEN on_list AND NOT coalesce(on_list_before, false) THEN
                CASE WHEN action = 'add' AND previous_date IS NOT NULL AND effective_from > previous_date
                     THEN effective_from ELSE as_of END
           END AS entered_on
    FROM runs
)
SELECT as_of, county_code, county_name, city_name, tier, reasons AS tier_reasons, on_list,
       CASE WHEN NOT on_list THEN NULL WHEN action = 'add' THEN 'manual' ELSE 'computed' END AS source,
       CASE WHEN action IS NOT NULL THEN entry_reason ELSE reasons END AS reason,
       action, effective_from, until, "user", timezone('UTC', "at") AS "at",  -- naive UTC: see focus.py
       coalesce(on_list_before, false) AS on_list_before, tier_before, action_before, previous_date,
       CASE WHEN on_list THEN max(entered_on) OVER (PARTITION BY county_code, run) END AS since,
       CASE WHEN on_list THEN max(CASE WHEN entered_on IS NOT NULL AND on_list_before IS NULL THEN 1 ELSE 0 END)
                              OVER (PARTITION BY county_code, run) = 1 END AS since_open
FROM starts
ORDER BY as_of, county_code
