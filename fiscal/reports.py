"""Read-side views for the dashboard and CLI beyond the per-county metrics."""
from __future__ import annotations

import datetime as dt

import pandas as pd

from .extracts import KINDS
from .lake import Snapshot
from .queries import run


def freshness(snapshot: Snapshot, as_of: dt.date | None = None, stale_days: int = 7) -> pd.DataFrame:
    """Latest date and rows of each dated extract; `stale` when older than as_of − stale_days."""
    frame = run("freshness", snapshot)
    frame["label"] = frame["kind"].map(lambda k: KINDS[k].label)
    frame["latest"] = pd.to_datetime(frame["latest"]).dt.date
    if as_of is None:
        frame["stale"] = False
    else:
        limit = as_of - dt.timedelta(days=stale_days)
        frame["stale"] = frame["latest"].map(lambda d: d is None or pd.isna(d) or d < limit)
    return frame


def latest_date(snapshot: Snapshot) -> dt.date | None:
    """The default as-of date: the latest treasury date in the lake."""
    latest = freshness(snapshot).set_index("kind").loc["treasury", "latest"]
    return None if latest is None or pd.isna(latest) else latest
