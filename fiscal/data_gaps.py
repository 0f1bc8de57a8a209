"""Where the lake is blind, and how that is shown: 无数据 instead of a calm 正常.

A county at a date A is *blind* in an extract when that extract has no row on or before
A: the treasury daily (M1, M2, M5 are then null) or the payroll-account balances (every
payday then counts an empty account). SPEC §4–5 still compute a tier for it — `metrics`
prints that tier unchanged — but a tier of 0 computed from nothing is not 正常. Every view
built on the indicator panel therefore shows such a county as 无数据 (grey), counted
apart from 正常, with the missing extracts named. A risk the data that *is* there shows
(tier ≥ 1) is never hidden: the county keeps its tier and the gap is added to its reasons.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .extracts import KINDS
from .vocabulary import NO_DATA_TIER, SHOWN_TIER_LABELS

REASON_SEPARATOR = "；"
# Daily extracts whose absence blinds a county, and the panel column that is null then.
WATCHED = (("treasury", "treasury_date"), ("payroll_account", "account_balance"))


def mark_blind(panel: pd.DataFrame) -> pd.DataFrame:
    """The panel with `data_gaps` (missing extracts, named) and blind tier-0 rows as 无数据.

    `reasons` must already be joined with REASON_SEPARATOR. Vectorised over all rows.
    """
    panel = panel.copy()
    missing = pd.DataFrame({KINDS[kind].label: panel[column].isna() for kind, column in WATCHED})
    gaps = missing.dot(missing.columns + "、").str.rstrip("、").astype("str")  # "库款日报、工资专户余额"
    panel["data_gaps"] = gaps
    has_gap = gaps != ""
    blind = blind_rows(panel)
    panel["tier"] = panel["tier"].where(~blind, NO_DATA_TIER).astype("int64")
    panel["tier_label"] = panel["tier"].map(SHOWN_TIER_LABELS)
    note = "数据缺失：截至日前没有" + gaps + "数据"
    joined = np.where(panel["reasons"] == "", note, panel["reasons"] + REASON_SEPARATOR + note)
    panel["reasons"] = pd.Series(np.where(has_gap, joined, panel["reasons"]), index=panel.index, dtype="str")
    return panel


def blind_rows(rows: pd.DataFrame) -> pd.Series:
    """Rows whose tier 0 was computed from nothing: a watched extract has no row at their date.

    Rows already marked (tier NO_DATA_TIER) are not matched again."""
    return rows[[column for _, column in WATCHED]].isna().any(axis=1) & (rows["tier"] == 0)


def display_rank(tiers: pd.Series) -> pd.Series:
    """Sort key, riskiest first: 重点关注 … 提示, then 无数据, then 正常."""
    return tiers.astype(float).where(tiers != NO_DATA_TIER, 0.5)
