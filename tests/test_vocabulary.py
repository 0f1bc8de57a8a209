"""One vocabulary: the SQL, the charts and the table columns say what fiscal.vocabulary says."""
from __future__ import annotations

import duckdb
import pytest

from app.columns import BAND_TAG_COLORS, CHANGE_TAG_COLORS, STATUS_TAG_COLORS, TIER_TAG_COLORS
from fiscal import charts, vocabulary
from fiscal.policy import Policy
from fiscal.vocabulary import RED, TIERS, Term


def label_macros() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(vocabulary.sql_macros())
    return con


@pytest.mark.parametrize("coverage, band", [
    (None, None), (0.0, "预警"), (0.29, "预警"), (0.3, "偏低"), (0.49, "偏低"), (0.5, "正常"), (0.8, "正常"),
    (0.81, "闲置"),
])
def test_sql_coverage_band_at_the_default_lines(coverage, band):
    got = label_macros().execute("SELECT coverage_band($c::DOUBLE, 0.3, 0.5, 0.8)", {"c": coverage}).fetchall()
    assert got == [(band,)]


def test_sql_tier_labels():
    got = label_macros().execute("SELECT tier_label(t) FROM range(4) r(t) ORDER BY t").fetchall()
    assert got == [("正常",), ("提示",), ("预警",), ("重点关注",)]


def test_a_label_changed_in_the_vocabulary_reaches_the_sql(monkeypatch):
    monkeypatch.setattr(vocabulary, "TIERS", (*TIERS[:3], Term(3, "特别关注", RED, 3)))
    assert label_macros().execute("SELECT tier_label(3)").fetchall() == [("特别关注",)]


def test_table_tags_and_chart_bands_carry_the_vocabulary_colours():
    assert TIER_TAG_COLORS == {"正常": "#2e7d32", "提示": "#f9a825", "预警": "#ef6c00", "重点关注": "#c62828",
                               "无数据": "#78909c"}  # a blind county is grey, never green
    assert BAND_TAG_COLORS == {"预警": "#ef6c00", "偏低": "#f9a825", "正常": "#2e7d32", "闲置": "#1565c0"}
    assert STATUS_TAG_COLORS == {"存在缺口": "#c62828", "逾期未足额": "#ef6c00", "迟于截止日": "#f9a825",
                                 "未到截止日": "#b0bec5", "按时足额": "#2e7d32"}
    assert CHANGE_TAG_COLORS == {"升级": "#c62828", "降级": "#2e7d32", "进入": "#c62828", "退出": "#2e7d32"}
    assert charts.coverage_bands(Policy()) == [
        ("预警", 0.0, 0.3, "#ef6c00"), ("偏低", 0.3, 0.5, "#f9a825"), ("正常", 0.5, 0.8, "#2e7d32"),
        ("闲置", 0.8, None, "#1565c0")]


def test_payday_severities_follow_the_policy():
    assert charts.payday_severities(Policy()) == {
        "shortfall": 3, "overdue": 2, "funded_late": 1, "pending": 0, "funded_on_time": 0}
    stricter = Policy(sev_last_late=2)
    assert charts.payday_severities(stricter)["funded_late"] == 2
