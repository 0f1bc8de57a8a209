"""The 工作台账 (SPEC §9.4): measures agreed with each county (一县一策), every change kept.

Stored in the `ledger` record table, one row per revision of a measure (written by
fiscal.service.WriteService.add_measure / update_measure); the highest revision is the
measure's current state. A measure is 已逾期 (overdue) when its due date is before today
and it is not done — derived when read, never stored.
"""
from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from .lake import Snapshot
from .queries import run
from .records import utc
from .vocabulary import LEDGER_STATUSES, labels

STATUS_LABELS = labels(LEDGER_STATUSES)
OVERDUE = "overdue"
# `ledger list --format json`: the keys of each measure, in order (documented in README).
LEDGER_KEYS = ("measure_id", "revision", "county_code", "county_name", "measure", "owner", "due", "status",
               "status_label", "overdue", "note", "user", "at", "created_by", "created_at")
# `ledger list --history`: one object per revision.
HISTORY_KEYS = ("measure_id", "revision", "county_code", "county_name", "measure", "owner", "due", "status",
                "status_label", "note", "user", "at")


def current(snapshot: Snapshot, today: dt.date) -> pd.DataFrame:
    """Every measure at its latest revision, by county then measure_id, with `overdue` as of `today`
    and `shown_status`: the status, or `overdue` when it is."""
    frame = run("ledger", snapshot, today=today)
    frame["due"] = pd.to_datetime(frame["due"])
    frame["overdue"] = frame["overdue"].astype(bool)
    frame["shown_status"] = frame["status"].where(~frame["overdue"], OVERDUE)
    frame["status_label"] = frame["shown_status"].map(STATUS_LABELS)
    frame["note"] = frame["note"].fillna("")
    frame["at"], frame["created_at"] = utc(frame["at"]), utc(frame["created_at"])
    return frame


def open_measures(measures: pd.DataFrame, county_codes) -> pd.DataFrame:
    """The measures not yet done of the given counties: overdue first, then by due date."""
    rows = measures[measures["county_code"].isin(list(county_codes)) & (measures["status"] != "done")]
    return rows.sort_values(["overdue", "due", "county_code", "measure_id"], ascending=[False, True, True, True],
                            ignore_index=True)


def history(snapshot: Snapshot) -> pd.DataFrame:
    """Every revision of every measure, newest first."""
    frame = run("ledger_history", snapshot)
    frame["due"] = pd.to_datetime(frame["due"])
    frame["status_label"] = frame["status"].map(STATUS_LABELS)
    frame["note"] = frame["note"].fillna("")
    frame["at"] = utc(frame["at"])
    return frame


def to_records(measures: pd.DataFrame, keys: tuple[str, ...] = LEDGER_KEYS) -> list[dict]:
    """Rows as JSON-ready dicts with exactly `keys` (ISO dates and UTC times, None for missing)."""
    return [{key: _json_value(row[key]) for key in keys} for row in measures[list(keys)].to_dict("records")]


def _json_value(value):
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat(timespec="seconds") if value.tzinfo else value.date().isoformat()
    return value.item() if hasattr(value, "item") else value
