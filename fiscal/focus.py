"""The 重点关注 list (SPEC §9.3): the counties at tier 3, with the bureau's manual entries
layered on top, at an as-of date and along the tier-history dates.

The deciding-entry rule runs set-based in fiscal/sql/focus_list.sql over the `focus`
record table joined with the tiers of every county at every date; nothing here loops
over counties. Manual entries are written by fiscal.service.WriteService.enter_focus.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa

from .indicators import COUNTY_COLUMNS, metrics
from .lake import Snapshot
from .policy import Policy
from .queries import run
from .records import utc
from .vocabulary import FOCUS_TIER, TIER_LABELS, TIER_MOVE_LABELS

# SPEC §9.6: the keys of `focus list --format json`, in order.
FOCUS_KEYS = ("county_code", "county_name", "city_name", "tier", "source", "reason")
REASON_SEPARATOR = "；"
TIER_COLUMNS = [*COUNTY_COLUMNS, "as_of", "tier", "reasons"]


def membership(snapshot: Snapshot, tiers: pd.DataFrame) -> pd.DataFrame:
    """Every county × date of `tiers` (rows of `indicators`: county, as_of, tier, reasons as a
    list or a joined string): on the list or not, source, reason, the deciding entry, the
    state at the previous date and since when the county is on the list."""
    frame = tiers[TIER_COLUMNS].copy()
    if len(frame) and not isinstance(frame["reasons"].iloc[0], str):
        frame["reasons"] = frame["reasons"].map(REASON_SEPARATOR.join)
    frame["as_of"] = pd.to_datetime(frame["as_of"])
    result = run("focus_list", snapshot, frames={"tiers": pa.Table.from_pandas(frame, preserve_index=False)},
                 focus_tier=FOCUS_TIER)
    for column in ("as_of", "effective_from", "until", "previous_date", "since"):
        result[column] = pd.to_datetime(result[column])
    result["at"] = utc(result["at"])
    return result


def on_list(members: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """The counties on the list at `as_of`, by county_code."""
    rows = members[(members["as_of"] == pd.Timestamp(as_of)) & members["on_list"]]
    return rows.sort_values("county_code", ignore_index=True)


def focus_list(snapshot: Snapshot, as_of: dt.date, policy: Policy) -> pd.DataFrame:
    """The list at `as_of` from the lake alone (the command line): tiers of `metrics`, then the rule."""
    return on_list(membership(snapshot, metrics(snapshot, as_of, policy)), as_of)


def to_records(listed: pd.DataFrame) -> list[dict]:
    """Rows as JSON-ready dicts with exactly FOCUS_KEYS."""
    return [{"county_code": r.county_code, "county_name": r.county_name, "city_name": r.city_name,
             "tier": int(r.tier), "source": r.source, "reason": r.reason or ""}
            for r in listed.itertuples()]


def moves(members: pd.DataFrame) -> pd.DataFrame:
    """Who entered or left the list between consecutive dates of `members`, and why; newest first.

    `basis` is `manual` when a manual entry decided the change (its reason and user are
    given), else `computed` (the tier change, or a manual entry that ran out)."""
    changed = members[members["previous_date"].notna() & (members["on_list"] != members["on_list_before"])].copy()
    entered = changed["on_list"].to_numpy(dtype=bool)
    manual = changed["action"].notna().to_numpy()
    tier_now = changed["tier"].map(TIER_LABELS).fillna("")
    tier_before = changed["tier_before"].map(TIER_LABELS).fillna("")
    changed["change"] = np.where(entered, TIER_MOVE_LABELS["entered"], TIER_MOVE_LABELS["left"])
    changed["basis"] = np.where(manual, "manual", "computed")
    lapsed = changed["action_before"].notna().to_numpy()
    changed["why"] = np.select(
        [manual, entered & lapsed, entered, lapsed],
        [changed["reason"].fillna(""),
         "人工移出期满，等级仍为重点关注：" + changed["tier_reasons"].fillna(""),
         "等级升为重点关注：" + changed["tier_reasons"].fillna(""),
         "人工列入期满，等级为" + tier_now],
        default="等级由" + tier_before + "降为" + tier_now)
    changed["by"] = changed["user"].where(changed["action"].notna(), "")
    columns = ["as_of", "change", *COUNTY_COLUMNS, "basis", "why", "by", "tier_before", "tier"]
    return changed.sort_values(["as_of", "change", "county_code"], ascending=[False, True, True],
                               ignore_index=True)[columns]


def entries(snapshot: Snapshot) -> pd.DataFrame:
    """Every manual entry ever recorded, newest first, with the county's name."""
    frame = run("focus_entries", snapshot)
    for column in ("effective_from", "until"):
        frame[column] = pd.to_datetime(frame[column])
    frame["at"] = utc(frame["at"])
    return frame
