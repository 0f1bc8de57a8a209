"""A county the lake cannot see is shown as 无数据 (grey), never as a calm 正常."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from fiscal import reports
from fiscal.indicators import metrics
from fiscal.lake import Lake
from fiscal.vocabulary import NO_DATA_TIER
from tests.conftest import D, frame
from tests.test_pages_apptest import kpi_cards, markdown, open_page, texts, wrapped_table

AS_OF = D(2025, 6, 10)


@pytest.fixture(scope="module")
def gap_lake(tmp_path_factory) -> Path:
    """000001 reports treasury from 2025-01 and payroll-account balances from 2025-03;
    000002 is in the directory without a single row; 000003 reports treasury only and
    has a payday on 2025-06-05 (so its empty payroll account yields a shortfall, tier 3)."""
    root = tmp_path_factory.mktemp("gaps") / "lake"
    names = [("000001", "甲县", "测试市"), ("000002", "新设县", "测试市"), ("000003", "丙县", "测试市")]
    treasury = [(code, D(2025, m, 10), 5000.0, 100.0, 100.0) for code in ("000001", "000003") for m in range(1, 7)]
    Lake(root).replace_all({
        "counties": frame("counties", names),
        "treasury": frame("treasury", treasury),
        "payroll_account": frame("payroll_account", [("000001", D(2025, 3, 1), 10.0)]),
        "payroll_schedule": frame("payroll_schedule", [("000003", D(2025, 6, 5), 800.0)]),
    }, user="test")
    return root


@pytest.fixture(scope="module")
def gap_panel(gap_lake, policy):
    return reports.indicator_panel(Lake(gap_lake).snapshot(), AS_OF, policy)


def test_spec_tiers_are_unchanged(gap_lake, policy):
    spec = metrics(Lake(gap_lake).snapshot(), AS_OF, policy).set_index("county_code")
    assert spec.at["000002", "tier"] == 0 and spec.at["000002", "tier_label"] == "正常"  # SPEC §5, as it was
    assert spec.at["000003", "tier"] == 3


def test_blind_county_is_no_data_and_names_the_missing_extracts(gap_panel):
    now = reports.at_date(gap_panel, AS_OF).set_index("county_code")
    assert now.at["000002", "tier"] == NO_DATA_TIER and now.at["000002", "tier_label"] == "无数据"
    assert now.at["000002", "data_gaps"] == "库款日报、工资专户余额"
    assert now.at["000002", "reasons"] == "数据缺失：截至日前没有库款日报、工资专户余额数据"
    assert now.at["000001", "tier_label"] == "正常" and now.at["000001", "data_gaps"] == ""
    # A risk seen in the data that exists is kept; the gap is added to its reasons.
    assert now.at["000003", "tier"] == 3 and now.at["000003", "reasons"].endswith("数据缺失：截至日前没有工资专户余额数据")


def test_no_data_is_counted_apart_from_normal(gap_panel):
    at = reports.at_date(gap_panel, AS_OF)
    summary = reports.overview(at, pd.DataFrame(columns=["month"]), AS_OF)
    assert summary.tier_counts == {3: 1, 2: 0, 1: 0, NO_DATA_TIER: 1, 0: 1}
    assert list(at["county_code"]) == ["000003", "000002", "000001"]  # 无数据 between the risks and 正常


def test_history_before_the_data_starts_is_no_data(gap_panel):
    matrix = reports.tier_matrix(gap_panel, AS_OF).set_index("county_code")
    first = matrix.loc["000001", [D(2024, 12, 31), D(2025, 1, 31), D(2025, 2, 28), D(2025, 3, 31)]]
    # no treasury before 2025-01-10; no payroll-account balance before 2025-03-01
    assert list(first) == [NO_DATA_TIER, NO_DATA_TIER, NO_DATA_TIER, 0]
    assert (matrix.loc["000002", reports.history_dates(AS_OF)] == NO_DATA_TIER).all()


def test_reporting_status_names_latest_dates_and_this_week(gap_lake):
    status = reports.reporting_status(Lake(gap_lake).snapshot(), D(2025, 6, 16)).set_index("county_code")
    assert status.at["000001", "treasury_latest"] == pd.Timestamp("2025-06-10")
    assert status.at["000001", "payroll_account_latest"] == pd.Timestamp("2025-03-01")
    assert status.at["000001", "arrival"] == "本周已报送"  # 06-10 is within (06-09, 06-16]
    assert status.at["000002", "arrival"] == "从未报送" and pd.isna(status.at["000002", "treasury_latest"])
    assert status.at["000003", "payroll_schedule_latest"] == pd.Timestamp("2025-06-05")
    late = reports.reporting_status(Lake(gap_lake).snapshot(), D(2025, 6, 17)).set_index("county_code")
    assert late.at["000001", "arrival"] == "本周未报送"  # 06-10 is not after 06-10
    assert list(late.index) == ["000002", "000001", "000003"]  # never first, then the oldest


def test_overview_card_and_county_badge_say_no_data(gap_lake, monkeypatch):
    app = open_page(gap_lake, None, monkeypatch, as_of=AS_OF.isoformat())
    page = markdown(app)
    assert 'tier-card-label">无数据</div><div class="tier-card-value">1<' in page
    assert 'tier-card-label">正常</div><div class="tier-card-value">1<' in page
    table = wrapped_table(app).set_index("县区")
    assert table.at["新设县", "风险等级"] == "无数据"
    cells = set(table.to_numpy().ravel())
    assert "—" in cells and not {"None", "nan", "NaT", ""} & cells
    app = open_page(gap_lake, "county", monkeypatch, county="000002", as_of=AS_OF.isoformat())
    page = markdown(app)
    assert "无数据</span>" in page and "nan" not in page and "库款日报" in page
    deltas = [k["delta"] for k in kpi_cards(app)]
    assert "无数据" in deltas and not any(d in ("nan", "None") for d in deltas)


def test_risk_page_lists_a_blind_county_among_the_flagged(gap_lake, monkeypatch):
    """风险分级 lists 提示 and above by default, and the county without data with them, never left out as 正常."""
    app = open_page(gap_lake, "risk", monkeypatch, as_of=AS_OF.isoformat())
    assert app.toggle(key="risk_only_flagged").value
    tiers = wrapped_table(app).set_index("县区")["风险等级"].to_dict()
    assert tiers == {"丙县": "重点关注", "新设县": "无数据"}  # 甲县 (正常) only when every county is asked for
    app.toggle(key="risk_only_flagged").set_value(False).run()
    assert wrapped_table(app).set_index("县区")["风险等级"].to_dict() == {"丙县": "重点关注", "新设县": "无数据", "甲县": "正常"}


def test_reporting_page_lists_counties_that_stopped(gap_lake, monkeypatch):
    app = open_page(gap_lake, "reporting", monkeypatch, as_of="2025-06-17")
    assert texts(app, "title") == ["报送情况"]
    assert [k["value"] for k in kpi_cards(app)] == ["0 个县区", "2 个县区", "1 个县区"]
    assert wrapped_table(app, "区划代码")["区划代码"].tolist() == ["000002", "000001", "000003"]
