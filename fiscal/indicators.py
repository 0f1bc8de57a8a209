"""Indicators M1–M6, tiers and their history (SPEC §4–5), computed in DuckDB."""
from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

from .lake import Snapshot
from .policy import Policy
from .queries import json_objects, records, run, treasury_months

if TYPE_CHECKING:
    import pandas as pd

# SPEC §6: the keys of `metrics --format json`, in order.
METRIC_KEYS = (
    "county_code", "county_name", "city_name", "as_of",
    "treasury_date", "treasury_balance", "avg_monthly_outflow", "coverage_months", "coverage_band",
    "last_payday", "last_payday_amount", "last_payday_status", "last_payday_ratio", "last_payday_shortfall",
    "next_payday", "next_payday_amount", "next_payday_status", "next_payday_ratio",
    "revenue_month", "revenue_progress", "time_progress", "revenue_gap_pp",
    "payroll_cover_3m", "advances_ratio",
    "tier", "tier_label", "reasons",
)
DATE_KEYS = ("as_of", "treasury_date", "last_payday", "next_payday")


def indicators(snapshot: Snapshot, as_of_dates: list[dt.date], policy: Policy) -> pd.DataFrame:
    """Every county × every as-of date: the metrics of SPEC §6 plus per-indicator severities."""
    return run("indicators", snapshot, **_indicator_params(snapshot, as_of_dates, policy))


def _indicator_params(snapshot: Snapshot, as_of_dates: list[dt.date], policy: Policy) -> dict:
    """The parameters of indicators.sql, with the monthly treasury flows it reads made ready:
    the months from `history_months` before the earliest date's month up to the latest's."""
    dates = sorted(set(as_of_dates))
    first_month, end_month = _month_start(dates[0], -policy.history_months), _month_start(dates[-1], 0)
    return {"as_of_dates": dates, "treasury_months": treasury_months(snapshot, first_month, end_month),
            **policy.sql_params()}


def _month_start(day: dt.date, months_later: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months_later
    return dt.date(index // 12, index % 12 + 1, 1)


def metrics(snapshot: Snapshot, as_of: dt.date, policy: Policy) -> pd.DataFrame:
    """One row per county at `as_of`, sorted by tier descending then county_code."""
    return indicators(snapshot, [as_of], policy).reset_index(drop=True)


def month_ends_before(as_of: dt.date, months: int = 12) -> list[dt.date]:
    """The last day of each of the `months` calendar months before as_of's month, oldest first."""
    first = as_of.replace(day=1)
    ends = []
    for _ in range(months):
        first_prev_end = first - dt.timedelta(days=1)
        ends.append(first_prev_end)
        first = first_prev_end.replace(day=1)
    return ends[::-1]


def tier_history(snapshot: Snapshot, as_of: dt.date, policy: Policy) -> pd.DataFrame:
    """Tiers at the month-ends of the last 12 months and at as_of: county_code × as_of."""
    frame = indicators(snapshot, [*month_ends_before(as_of), as_of], policy)
    return frame[["county_code", "county_name", "city_name", "as_of", "tier", "tier_label"]]


COUNTY_COLUMNS = ["county_code", "county_name", "city_name"]


def tiers_by_date(frame: pd.DataFrame, dates: list[dt.date]) -> pd.DataFrame:
    """County × date of tiers, columns in the order of `dates`, from rows of `indicators`."""
    import pandas as pd

    rows = frame[frame["as_of"].isin(pd.to_datetime(dates))]
    wide = rows.pivot(index=COUNTY_COLUMNS, columns="as_of", values="tier")
    return wide.reindex(columns=pd.to_datetime(dates))


def tier_moves(frame: pd.DataFrame, before: dt.date, after: dt.date) -> pd.DataFrame:
    """Counties whose tier differs between two dates of `frame` (tier_before, tier_now)."""
    wide = tiers_by_date(frame, [before, after])
    wide.columns = ["tier_before", "tier_now"]
    changed = wide[wide["tier_before"] != wide["tier_now"]].reset_index()
    return changed.sort_values(["tier_now", "county_code"], ascending=[False, True], ignore_index=True)


def tier_changes(snapshot: Snapshot, as_of: dt.date, policy: Policy, days: int = 7) -> pd.DataFrame:
    """Counties whose tier at as_of differs from the tier `days` earlier."""
    before = as_of - dt.timedelta(days=days)
    return tier_moves(indicators(snapshot, [before, as_of], policy), before, as_of)


def metrics_json(snapshot: Snapshot, as_of: dt.date, policy: Policy) -> list[str]:
    """`metrics` as JSON object texts, one per county in the order of SPEC §6, written by
    DuckDB (no pandas, no Python per value: the CLI's fast path)."""
    return json_objects("indicators", snapshot, METRIC_KEYS, "as_of, tier DESC, county_code",
                        **_indicator_params(snapshot, [as_of], policy))


def to_records(frame: pd.DataFrame) -> list[dict]:
    """Rows as JSON-ready dicts with exactly METRIC_KEYS: ISO dates, None for missing."""
    return json_records(frame, METRIC_KEYS)


def json_records(frame: pd.DataFrame, keys: tuple[str, ...]) -> list[dict]:
    """Rows as JSON-ready dicts with exactly `keys`, in order: ISO dates, None for missing."""
    return [_json_record(row, keys) for row in frame[list(keys)].to_dict("records")]


def latest_date(snapshot: Snapshot) -> dt.date | None:
    """The default as-of date: the latest treasury date in the lake."""
    return next(row["latest"] for row in records("freshness", snapshot) if row["kind"] == "treasury")


def _json_record(row: dict, keys: tuple[str, ...] = METRIC_KEYS) -> dict:
    return {key: _json_value(key, row[key]) for key in keys}


def _json_value(key: str, value):
    if key == "reasons":
        return [str(r) for r in value] if value is not None else []
    if value is None or (isinstance(value, float) and math.isnan(value)) or _is_nat(value):
        return None
    if key in DATE_KEYS:
        return (value.date() if isinstance(value, dt.datetime) else value).isoformat()
    if key in ("tier", "revenue_month"):
        return int(value)
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return value


def _is_nat(value) -> bool:
    return type(value).__name__ == "NaTType"  # pandas' missing timestamp, without importing pandas
