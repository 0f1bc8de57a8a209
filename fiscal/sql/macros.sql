-- Shared definitions, created once per process connection.

-- SPEC §4 M3: the status of a payday P with amount D as seen on date A.
-- bal_cutoff = bal(payroll_account, P − lead_days), bal_eve = bal(…, P − 1 day),
-- bal_as_of = bal(…, A); a missing balance counts as 0.
CREATE MACRO payday_status(payday, as_of, cutoff, due, bal_cutoff, bal_eve, bal_as_of) AS
    CASE
        WHEN payday <= as_of THEN
            CASE WHEN coalesce(bal_cutoff, 0) >= due THEN 'funded_on_time'
                 WHEN coalesce(bal_eve, 0) >= due THEN 'funded_late'
                 ELSE 'shortfall' END
        WHEN cutoff <= as_of THEN
            CASE WHEN coalesce(bal_cutoff, 0) >= due THEN 'funded_on_time'
                 WHEN coalesce(bal_as_of, 0) >= due THEN 'funded_late'
                 ELSE 'overdue' END
        ELSE 'pending'
    END;

-- Ratio of the set-aside against D: at the cutoff, or today while still pending.
CREATE MACRO payday_ratio(status, due, bal_cutoff, bal_as_of) AS
    CASE WHEN status = 'pending' THEN coalesce(bal_as_of, 0) ELSE coalesce(bal_cutoff, 0) END / due;

-- What was missing on the payday eve, to 1 分 (0.000001 万元); 0 unless the status is shortfall.
CREATE MACRO payday_shortfall(status, due, bal_eve) AS
    CASE WHEN status = 'shortfall' THEN round(due - coalesce(bal_eve, 0), 6) ELSE 0 END;

-- coverage_band and tier_label carry the Chinese labels of fiscal/vocabulary.py, which
-- writes them (vocabulary.sql_macros) when the connection is made.

-- "The latest month up to A's month" (SPEC M4, M6): rows of year(A) with month ≤ month(A).
CREATE MACRO in_year_to_month(year, month, as_of) AS year = year(as_of) AND month <= month(as_of);

-- bal(X, d) of SPEC §4 for every (county_code, day) of the relation named `wanted_name`:
-- date and balance of the latest row of `rows_name` (county_code, date, balance) with
-- date ≤ day; NULL when there is none. An ASOF join over all the rows would sort the whole
-- table (seconds for a daily table at national scale), so the rows are narrowed first:
--   1. a row on the day itself, by a hash join (daily extracts have one nearly always);
--   2. else the latest row in the day's month or the month before, by an ASOF join over
--      the rows of just those county-months (weekends, holidays, a late extract);
--   3. else by an ASOF join over all the rows of the counties still without an answer.
CREATE MACRO latest_on(rows_name, wanted_name) AS TABLE
    WITH
    wanted AS (SELECT DISTINCT county_code, day FROM query_table(wanted_name)),
    on_day AS (
        SELECT w.county_code, w.day, r.date, r.balance
        FROM wanted w JOIN query_table(rows_name) r ON r.county_code = w.county_code AND r.date = w.day
    ),
    missing AS MATERIALIZED (
        SELECT *, date_trunc('month', day)::DATE - INTERVAL 1 MONTH AS near_from
        FROM wanted ANTI JOIN on_day USING (county_code, day)
    ),
    near_months AS (
        SELECT DISTINCT county_code, near_from + to_months(k) AS month FROM missing, range(2) AS r(k)
    ),
    near_rows AS (
        SELECT r.county_code, r.date, r.balance FROM query_table(rows_name) r
        SEMI JOIN near_months n ON n.county_code = r.county_code AND n.month = date_trunc('month', r.date)
    ),
    -- a row found from the day's own window is the latest: that window's rows are all there
    near AS MATERIALIZED (
        SELECT m.county_code, m.day, r.date, r.balance
        FROM missing m
        ASOF JOIN near_rows r ON r.county_code = m.county_code AND r.date <= m.day
        WHERE r.date >= m.near_from
    ),
    far AS (FROM missing ANTI JOIN near USING (county_code, day))
    FROM on_day
    UNION ALL
    FROM near
    UNION ALL
    SELECT f.county_code, f.day, r.date, r.balance
    FROM far f
    ASOF LEFT JOIN (SELECT county_code, date, balance FROM query_table(rows_name) SEMI JOIN far USING (county_code)) r
      ON r.county_code = f.county_code AND r.date <= f.day;

-- SPEC §4 M3 for every row of the relation named `paydays_name` (county_code, payday,
-- amount_due, as_of and any other columns, which are kept): the cutoff P − lead_days, the
-- payroll-account balances at the cutoff, on the eve and on A, status, ratio and shortfall.
CREATE MACRO payday_funding(paydays_name, lead_days) AS TABLE
    WITH
    paydays AS (
        SELECT *, payday - CAST(lead_days AS INTEGER) AS cutoff, payday - 1 AS eve
        FROM query_table(paydays_name)
    ),
    -- only the balances the status rules look at, all on or before A: the cutoff once it
    -- has passed, the eve once the payday has, and A
    wanted AS (
        SELECT county_code, cutoff AS day FROM paydays WHERE cutoff <= as_of
        UNION ALL SELECT county_code, eve FROM paydays WHERE payday <= as_of
        UNION ALL SELECT county_code, as_of FROM paydays
    ),
    balances AS MATERIALIZED (FROM latest_on('payroll_account', 'wanted')),
    funded AS (
        SELECT p.*, bc.balance AS bal_cutoff, be.balance AS bal_eve, ba.balance AS bal_as_of,
               payday_status(p.payday, p.as_of, p.cutoff, p.amount_due, bc.balance, be.balance, ba.balance) AS status
        FROM paydays p
        LEFT JOIN balances bc ON bc.county_code = p.county_code AND bc.day = p.cutoff
        LEFT JOIN balances be ON be.county_code = p.county_code AND be.day = p.eve
        LEFT JOIN balances ba ON ba.county_code = p.county_code AND ba.day = p.as_of
    )
    SELECT *,
           payday_ratio(status, amount_due, bal_cutoff, bal_as_of) AS ratio,
           payday_shortfall(status, amount_due, bal_eve) AS shortfall
    FROM funded;
