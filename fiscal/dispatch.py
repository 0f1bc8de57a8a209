"""SPEC §9.1 调度建议: how much cash the city should consider moving to each county."""
from __future__ import annotations

import datetime as dt

import pandas as pd

from .indicators import indicators
from .lake import Snapshot
from .policy import Policy
from .queries import run

# SPEC §9.6: the keys of `dispatch --format json`, in order.
DISPATCH_KEYS = (
    "county_code", "county_name", "city_name", "as_of",
    "treasury_balance", "cash_floor", "payroll_topup", "dispatch_need", "payroll_gap_3m",
)


def dispatch(snapshot: Snapshot, as_of: dt.date, policy: Policy, indicator_rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every county at `as_of`, sorted by dispatch_need descending then county_code.

    `indicator_rows`: rows of `indicators` that include `as_of` (the dashboard's cached
    panel); computed when not given.
    """
    rows = indicators(snapshot, [as_of], policy) if indicator_rows is None else indicator_rows
    return run("dispatch", snapshot, frames={"indicator_rows": rows}, as_of=as_of,
               dispatch_horizon_days=policy.dispatch_horizon_days, coverage_warning=policy.coverage_warning)


def city_totals(suggestions: pd.DataFrame) -> pd.DataFrame:
    """Per city: counties needing cash and the summed suggestion, largest first."""
    needing = suggestions["dispatch_need"] > 0
    totals = suggestions.assign(needing=needing).groupby("city_name", as_index=False).agg(
        counties=("county_code", "size"), needing=("needing", "sum"), dispatch_need=("dispatch_need", "sum"),
        payroll_topup=("payroll_topup", "sum"), payroll_gap_3m=("payroll_gap_3m", "sum"))
    return totals.sort_values(["dispatch_need", "city_name"], ascending=[False, True], ignore_index=True)
