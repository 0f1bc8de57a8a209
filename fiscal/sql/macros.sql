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
