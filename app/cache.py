"""Data access for the pages, cached on the lake snapshot.

`report()`/`panel()` cache on the snapshot key: a new upload or rollback is a new key, so
nothing stale is ever served, and pages never open a database connection themselves.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import streamlit as st

from fiscal import reports, settings
from fiscal.dispatch import dispatch
from fiscal.extracts import KINDS
from fiscal.lake import Lake, Snapshot
from fiscal.policy import Policy, PolicyError, load_policy

from . import state


def report(function: Callable, *args):
    """`function(snapshot, *args)` from fiscal.reports, cached per lake version and arguments."""
    return report_on(state.view().snapshot, function, *args)


def report_on(snapshot: Snapshot, function: Callable, *args):
    return _cached_report(f"{function.__module__}.{function.__qualname__}", snapshot.key, args,
                          _function=function, _snapshot=snapshot)


@st.cache_data(show_spinner="正在计算…", max_entries=256)
def _cached_report(name: str, snapshot_key: str, args: tuple, _function: Callable, _snapshot: Snapshot):
    return _function(_snapshot, *args)


def panel(all_cities: bool = False) -> pd.DataFrame:
    """The indicator panel at the view's as-of date, for the chosen cities (or all)."""
    current = state.view()
    # keyed by the extract tables only: a list or ledger edit does not recompute the indicators
    frame = _cached_panel(current.snapshot.extracts_key, current.as_of, current.policy, _snapshot=current.snapshot)
    return frame if all_cities else reports.in_cities(frame, current.cities)


# Each national-scale panel is some 15 MB, so keep only a few as-of dates. One frame shared,
# read-only, by every session (a resource, not data: a copy per rerun would cost more than the page).
@st.cache_resource(show_spinner="正在计算各县区指标…", max_entries=8)
def _cached_panel(snapshot_key: str, as_of: dt.date, policy: Policy, _snapshot: Snapshot) -> pd.DataFrame:
    return reports.indicator_panel(_snapshot, as_of, policy)


def metrics() -> pd.DataFrame:
    """Every county (of the chosen cities) at the as-of date, riskiest first."""
    return from_panel(reports.at_date, state.view().as_of)


def dispatch_suggestions() -> pd.DataFrame:
    """调度建议 at the view's date (fiscal.dispatch) for the chosen cities, built on the panel's
    rows at that date rather than a second indicator query: the figures `fiscal dispatch`
    prints, with counties blind at that date marked 无数据 as on every page."""
    current = state.view()
    suggestions = _cached_dispatch(current.snapshot.extracts_key, current.as_of, current.policy,
                                   _snapshot=current.snapshot, _panel=panel(all_cities=True))
    return reports.in_cities(suggestions, current.cities)


@st.cache_resource(show_spinner=False, max_entries=8)
def _cached_dispatch(snapshot_key: str, as_of: dt.date, policy: Policy, _snapshot: Snapshot,
                     _panel: pd.DataFrame) -> pd.DataFrame:
    return dispatch(_snapshot, as_of, policy, indicator_rows=reports.at_date(_panel, as_of))


def from_panel(function: Callable, *args) -> pd.DataFrame:
    """`function(panel, *args)` over the panel of the chosen cities, computed once per lake
    version and choice of cities, and shared read-only like the panel."""
    current = state.view()
    return _cached_from_panel(f"{function.__module__}.{function.__qualname__}", current.snapshot.extracts_key,
                              current.as_of, current.policy, current.cities, args, _function=function, _panel=panel())


@st.cache_resource(show_spinner=False, max_entries=64)
def _cached_from_panel(name: str, snapshot_key: str, as_of: dt.date, policy: Policy, cities: tuple, args: tuple,
                       _function: Callable, _panel: pd.DataFrame) -> pd.DataFrame:
    return _function(_panel, *args)


def shared(function: Callable, *args):
    """`function(snapshot, *args)` as `report` gives it, but kept once per lake version and
    arguments and shared read-only by every session: for a frame read on every rerun (the
    caller filters or reads it, never changes it), where a copy per rerun costs."""
    snapshot = state.view().snapshot
    return _cached_shared(f"{function.__module__}.{function.__qualname__}", snapshot.key, args,
                          _function=function, _snapshot=snapshot)


@st.cache_resource(show_spinner="正在计算…", max_entries=64)
def _cached_shared(name: str, snapshot_key: str, args: tuple, _function: Callable, _snapshot: Snapshot):
    return _function(_snapshot, *args)


def filtered(function: Callable, *args) -> pd.DataFrame:
    """A cached report frame restricted to the chosen cities."""
    return reports.in_cities(report(function, *args), state.view().cities)


def rows_by_kind() -> dict[str, int]:
    """How many rows each extract kind holds in the current lake version."""
    fresh = shared(reports.freshness)
    counts = dict(zip(fresh["kind"], fresh["rows"].astype(int)))
    counts["counties"] = len(shared(reports.county_list))
    return counts


def missing_kinds(*kinds: str) -> list[str]:
    """Those of `kinds` that have no rows in the current lake version."""
    counts = rows_by_kind()
    return [k for k in kinds if counts.get(k, 0) == 0]


def kind_label(kind: str) -> str:
    return KINDS[kind].label


def lake() -> Lake:
    return Lake(settings.data_dir())


def policy_in_force() -> Policy:
    """The policy in force, cached until its file changes (PolicyError when the file is broken)."""
    path = settings.policy_path()
    return _cached_policy(str(path), path.stat().st_mtime if path.exists() else 0.0)


def policy_or_stop() -> Policy:
    """The policy in force; a broken file stops the page with its message."""
    try:
        return policy_in_force()
    except PolicyError as exc:
        st.error(f"政策文件无法使用：{exc}")
        st.stop()


@st.cache_data(show_spinner=False, max_entries=4)
def _cached_policy(path: str, modified: float) -> Policy:
    return load_policy(path)


def is_demo(snapshot: Snapshot) -> bool:
    return _cached_is_demo(snapshot.key, _root=snapshot.root)


@st.cache_data(show_spinner=False, max_entries=16)
def _cached_is_demo(snapshot_key: str, _root: Path) -> bool:
    history = Lake(_root).history()
    return bool(history) and history[-1].operation == "demo"
