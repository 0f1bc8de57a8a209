"""Amounts in 元 read as 万元 (or 亿元 as 万元) are refused, naming the likely unit."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from fiscal.ingest import check, ingest
from tests.conftest import D

FILES = Path(__file__).parent / "files"


@pytest.fixture
def lake_in_wan(make_lake):
    """February in 万元 for both counties of the corpus (balances ≈ 1,200 and 80 万元)."""
    return make_lake(treasury=[
        ("330102", D(2025, 2, 27), 1200.0, 50.0, 40.0), ("330102", D(2025, 2, 28), 1210.0, 20.0, 10.0),
        ("330105", D(2025, 2, 28), 85.0, 5.0, 3.0),
    ])


def errors(checked) -> list[str]:
    return [p.message for p in checked.errors]


def test_yuan_without_unit_line_is_refused_naming_the_unit(lake_in_wan):
    checked = check(lake_in_wan, FILES / "treasury_yuan_no_unit.csv", kind="treasury")
    assert not checked.ok
    [message] = errors(checked)
    assert "约为数据湖中这些县区已有的同类数据（2 个县区）的 10,000 倍" in message
    assert "很可能以「元」为单位" in message and "单位：元" in message and "选择金额单位「元」" in message


def test_stated_unit_makes_the_same_file_acceptable(lake_in_wan):
    assert check(lake_in_wan, FILES / "treasury_yuan_no_unit.csv", kind="treasury", unit="元").ok
    assert check(lake_in_wan, FILES / "treasury_wanyuan.csv", kind="treasury").ok


def test_refused_upload_leaves_the_lake_untouched(lake_in_wan):
    before = lake_in_wan.lake_version()
    result = ingest(lake_in_wan, FILES / "treasury_yuan_no_unit.csv", kind="treasury", user="t")
    assert result.version is None and lake_in_wan.lake_version() == before


def test_yi_read_as_wan_is_too_small(lake_in_wan, tmp_path):
    path = tmp_path / "yi.csv"  # 1,200 万元 = 0.12 亿元
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["区划代码", "日期", "库款余额", "库款流入", "库款流出"],
                                 ["330102", "2025-03-01", "0.1210", "0.0020", "0.0010"],
                                 ["330105", "2025-03-01", "0.0086", "0.0002", "0.0001"]])
    [message] = errors(check(lake_in_wan, path, kind="treasury"))
    assert "只有数据湖中这些县区已有的同类数据（2 个县区）的 10,000 分之一" in message
    assert "很可能以「亿元」为单位" in message
    assert check(lake_in_wan, path, kind="treasury", unit="亿元").ok


def test_without_history_an_implausible_county_figure_is_refused(make_lake, tmp_path):
    lake = make_lake(counties=[("330102", "上城区", "示例市"), ("330105", "拱墅区", "示例市")])
    path = tmp_path / "big.csv"  # 3.2 亿元 and 0.9 亿元 balances, in 元 with no unit
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["区划代码", "日期", "库款余额", "库款流入", "库款流出"],
                                 ["330102", "2025-03-01", "320000000", "5000000", "3000000"],
                                 ["330105", "2025-03-01", "90000000", "1000000", "2000000"]])
    [message] = errors(check(lake, path, kind="treasury"))
    assert "超过县区金额的合理上限（1,000 亿元）" in message and "很可能以「元」为单位" in message
    assert check(lake, path, kind="treasury", unit="元").ok


def test_ordinary_growth_is_not_a_unit_problem(lake_in_wan, tmp_path):
    path = tmp_path / "grown.csv"  # balances 30× February's: large, but not a unit
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["区划代码", "日期", "库款余额", "库款流入", "库款流出"],
                                 ["330102", "2025-03-01", "36000", "1500", "1200"],
                                 ["330105", "2025-03-01", "2550", "150", "90"]])
    assert check(lake_in_wan, path, kind="treasury").ok
