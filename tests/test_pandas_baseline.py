"""The benchmark's pandas baseline computes what `fiscal metrics` computes (a baseline that
computes something else is no baseline): same counties in the same order, same tiers and
statuses, same key numbers, on the demo lake and on the worked example of the specification."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXACT = ["county_code", "county_name", "city_name", "as_of", "treasury_date", "coverage_band",
         "last_payday", "last_payday_status", "next_payday", "next_payday_status", "revenue_month",
         "tier", "tier_label"]
NUMBERS = ["treasury_balance", "avg_monthly_outflow", "coverage_months", "last_payday_ratio",
           "last_payday_shortfall", "next_payday_ratio", "revenue_progress", "revenue_gap_pp",
           "payroll_cover_3m", "advances_ratio"]


def run(command: list[str]) -> list[dict]:
    return json.loads(subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout)


def both(data: Path, as_of: str) -> tuple[list[dict], list[dict]]:
    fiscal = run([sys.executable, "-m", "fiscal", "metrics", "--data", str(data), "--as-of", as_of, "--format", "json"])
    baseline = run([sys.executable, "scripts/pandas_metrics.py", "--data", str(data), "--as-of", as_of])
    return fiscal, baseline


def assert_same(fiscal: list[dict], baseline: list[dict]) -> None:
    assert [list(row) for row in baseline] == [list(row) for row in fiscal]  # keys, their order, the county order
    for ours, theirs in zip(fiscal, baseline, strict=True):
        assert {k: theirs[k] for k in EXACT} == {k: ours[k] for k in EXACT}
        for key in NUMBERS:
            expected = ours[key]
            assert theirs[key] == (None if expected is None else pytest.approx(expected, rel=1e-9, abs=1e-8)), \
                (ours["county_code"], key)


# Three dates: history too short for M2/M5 (nulls), an ordinary day, and the demo's last day with
# every tier, a shortfall and a late payday present.
@pytest.mark.parametrize("as_of", ["2024-01-20", "2026-03-10", "2026-11-20"])
def test_baseline_matches_metrics_on_the_demo_lake(demo_lake, as_of):
    fiscal, baseline = both(demo_lake, as_of)
    assert len(fiscal) == 30
    assert_same(fiscal, baseline)


def test_demo_last_day_exercises_every_tier(demo_lake):
    """Guard for the comparison above: it would prove little if every county were 正常."""
    _, baseline = both(demo_lake, "2026-11-20")
    assert {row["tier"] for row in baseline} == {0, 1, 2, 3}
    assert {row["last_payday_status"] for row in baseline} >= {"funded_late", "shortfall"}


def test_worked_example_and_a_county_without_data(make_lake):
    """SPEC §7, computed by hand; 000002 has no rows at all and so no indicator and no tier."""
    d = dt.date
    lake = make_lake(
        treasury=[("000001", d(2024, 12, 15), 5000, 0, 3000), ("000001", d(2025, 1, 15), 4000, 0, 2500),
                  ("000001", d(2025, 2, 15), 3000, 0, 2200), ("000001", d(2025, 3, 9), 650, 0, 0)],
        payroll_schedule=[("000001", d(2025, 3, 5), 800)],
        payroll_account=[("000001", d(2025, 2, 20), 300), ("000001", d(2025, 2, 28), 800),
                         ("000001", d(2025, 3, 5), 0)],
        counties=[("000001", "测试县01", "测试市"), ("000002", "测试县02", "测试市")],
    )
    fiscal, baseline = both(lake.root, "2025-03-10")
    assert_same(fiscal, baseline)
    example, empty = baseline
    assert example["treasury_balance"] == 650 and example["treasury_date"] == "2025-03-09"
    assert example["avg_monthly_outflow"] == pytest.approx(7700 / 3)
    assert example["coverage_months"] == pytest.approx(650 / (7700 / 3))
    assert example["coverage_band"] == "预警"
    assert example["last_payday_status"] == "funded_late" and example["last_payday_ratio"] == 0.375
    assert example["tier"] == 2  # coverage 预警 (2) and a late payday (1)
    assert empty["county_code"] == "000002" and empty["tier"] == 0 and empty["treasury_balance"] is None


def test_a_gap_of_exactly_the_prompt_line_is_not_flagged(make_lake):
    """42 of 100 by June is 8 pp behind 序时进度 6/12: on the −8 line, not below it (SPEC §5 "< −8"),
    although 100 × (0.42 − 0.5) is −8.000000000000002 in floating point."""
    lake = make_lake(revenue=[("000001", 2025, 6, "税收收入", 100.0, 42.0)])
    fiscal, baseline = both(lake.root, "2025-06-10")
    assert_same(fiscal, baseline)
    assert baseline[0]["revenue_gap_pp"] == -8.0 and baseline[0]["tier"] == 0
