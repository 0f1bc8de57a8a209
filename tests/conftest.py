"""Shared fixtures: small lakes written through the real Delta writer."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from fiscal import reports
from fiscal.demo import DEMO_END, build_frames
from fiscal.extracts import KINDS
from fiscal.lake import Lake
from fiscal.policy import load_policy

# The browser fixtures are registered here, once for the whole run: imported into each test
# module they would be separate session fixtures, and a second sync_playwright() started
# while the first one runs fails.
from tests.browser_support import app_server, browser, demo_lake, page  # noqa: E402,F401

D = dt.date


def frame(kind: str, rows: list[tuple]) -> pd.DataFrame:
    """Rows given positionally in the kind's column order; optional trailing columns may be left out."""
    columns = KINDS[kind].column_names
    data = pd.DataFrame([list(r) + [None] * (len(columns) - len(r)) for r in rows], columns=columns)
    return data


def counties(*codes: str) -> pd.DataFrame:
    return frame("counties", [(c, f"测试县{c[-2:]}", "测试市") for c in codes])


@pytest.fixture
def make_lake(tmp_path: Path):
    """make_lake(treasury=[...], payroll_schedule=[...], ...) → a Lake with those rows (counties inferred)."""

    def build(name: str = "lake", **rows: list[tuple]) -> Lake:
        frames = {kind: frame(kind, r) for kind, r in rows.items()}
        if "counties" not in frames:
            codes = sorted({r[0] for r in sum(rows.values(), [])})
            frames["counties"] = counties(*codes)
        lake = Lake(tmp_path / name)
        lake.replace_all(frames, user="test")
        return lake

    return build


@pytest.fixture(scope="session")
def policy():
    return load_policy()


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """A snapshot of the 30-county demo lake, built once per test run."""
    lake = Lake(tmp_path_factory.mktemp("demo") / "lake")
    lake.replace_all(build_frames(counties=30, years=3), user="demo", operation="demo")
    return lake.snapshot()


@pytest.fixture(scope="session")
def panel(demo, policy):
    """Indicators at the demo's end date, a week before and the 12 month-ends before."""
    return reports.indicator_panel(demo, DEMO_END, policy)
