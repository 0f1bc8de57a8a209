"""One rule for figures on every surface: percentages with one decimal, a missing value "—",
long text (风险原因) read in full on screen."""
from __future__ import annotations

import pandas as pd
import pytest

from app.columns import COLUMNS
from tests.conftest import D
from tests.test_pages_apptest import open_page, wrapped_table

# One county, April 2025: 333.33 of a 1,000 budget collected in 税收收入; 非税收入 has no
# budget row last year, so its 上年同期进度 is missing.
REVENUE = [("000001", 2025, 4, "税收收入", 1000.0, 333.33), ("000001", 2025, 4, "非税收入", 500.0, 100.0),
           ("000001", 2024, 4, "税收收入", 900.0, 300.0)]
TREASURY = [("000001", D(2025, m, 10), 500.0, 100.0, 90.0) for m in range(1, 5)]


def test_percentages_have_one_decimal_and_missing_cells_read_a_dash(make_lake, monkeypatch):
    lake = make_lake(revenue=REVENUE, treasury=TREASURY)
    app = open_page(lake.root, "revenue", monkeypatch, as_of="2025-04-30")
    rows = wrapped_table(app, "收入类别").set_index("收入类别")
    # 333.33 / 1,000 = 33.333 %; last year 300 / 900 = 33.333 %
    assert rows.at["税收收入", "收入进度"] == "33.3%" and rows.at["税收收入", "上年同期进度"] == "33.3%"
    assert rows.at["非税收入", "上年同期进度"] == "—"  # no budget last year


@pytest.mark.parametrize("field", ["revenue_progress", "prev_progress"])
def test_a_grid_is_given_percentages_it_prints_with_one_decimal(field):
    """A long list shown whole is a grid: a fraction goes in as percent, printed "33.3%"."""
    column = COLUMNS[field]
    assert column.config()["type_config"]["format"] == "%.1f%%"
    assert column.grid_values(pd.Series([1 / 3, None])).tolist()[0] == pytest.approx(33.333, abs=1e-3)
    assert pd.isna(column.grid_values(pd.Series([1 / 3, None])).tolist()[1])


def test_overview_reasons_are_read_in_full_with_grouped_amounts(make_lake, monkeypatch):
    # payday 2025-05-10 of 12,000 with 6,663.55 in the account on its eve: 5,336.45 short
    lake = make_lake(treasury=TREASURY, payroll_schedule=[("000001", D(2025, 5, 10), 12000.0)],
                     payroll_account=[("000001", D(2025, 5, 1), 600.0), ("000001", D(2025, 5, 9), 6663.55)])
    app = open_page(lake.root, None, monkeypatch, as_of="2025-05-20")
    row = wrapped_table(app).set_index("县区").loc["测试县01"]
    assert row["风险原因"] == "2025-05-10 工资 发薪日前工资专户仍缺 5,336.45 万元（截止日存入比例 5.0%）"
    assert row["库款余额（万元）"] == "500.00" and row["风险等级"] == "重点关注"
