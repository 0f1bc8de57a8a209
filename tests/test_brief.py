"""SPEC §9.5 周调度简报: its numbers are the numbers of `metrics` and `dispatch`; Word, Excel and
HTML renderings; blind counties shown as 无数据; user text escaped and formula-safe."""
from __future__ import annotations

import io
import json

import pytest
from docx import Document
from openpyxl import load_workbook

from fiscal import brief as briefing
from fiscal.demo import DEMO_END
from tests.conftest import D
from tests.test_cli import fiscal

EXCEL_DIGITS = 1e-14


@pytest.fixture(scope="module")
def cli_outputs(tmp_path_factory):
    """`brief`, `metrics` and `dispatch` on the shipped demo lake at its end date."""
    folder = tmp_path_factory.mktemp("brief")
    as_of = DEMO_END.isoformat()
    for suffix in ("xlsx", "docx"):
        result = fiscal("brief", "--as-of", as_of, "--out", folder / f"brief.{suffix}")
        assert result.returncode == 0, result.stderr
    metrics = json.loads(fiscal("metrics", "--as-of", as_of).stdout)
    suggestions = json.loads(fiscal("dispatch", "--as-of", as_of).stdout)
    return folder, metrics, suggestions


def sheet_rows(path, name) -> list[dict]:
    sheet = load_workbook(path)[name]
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def test_dispatch_sheet_equals_the_dispatch_command(cli_outputs):
    folder, _, suggestions = cli_outputs
    rows = sheet_rows(folder / "brief.xlsx", "调度建议")
    needing = [s for s in suggestions if s["dispatch_need"] > 0]
    assert len(needing) > 0
    assert [r["县区"] for r in rows[:-1]] == [s["county_name"] for s in needing]
    for row, s in zip(rows, needing):  # Excel keeps 15 significant digits
        assert (row["库款余额（万元）"], row["库款底线（万元）"], row["工资待补足（万元）"], row["建议调度（万元）"],
                row["三个月工资缺口（万元）"]) == pytest.approx((s["treasury_balance"], s["cash_floor"], s["payroll_topup"],
                                                         s["dispatch_need"], s["payroll_gap_3m"]), rel=EXCEL_DIGITS)
    assert rows[-1]["县区"] == "合计"
    assert rows[-1]["建议调度（万元）"] == pytest.approx(sum(s["dispatch_need"] for s in needing))


def test_tier_counts_and_coverage_equal_metrics(cli_outputs):
    folder, metrics, _ = cli_outputs
    counts = {r["风险等级"]: r["本周"] for r in sheet_rows(folder / "brief.xlsx", "风险等级概况")}
    for label in ("正常", "提示", "预警", "重点关注"):
        assert counts[label] == sum(1 for m in metrics if m["tier_label"] == label and m["treasury_date"])
    assert counts["无数据"] == sum(1 for m in metrics if m["treasury_date"] is None)
    low = {r["县区"]: r for r in sheet_rows(folder / "brief.xlsx", "库款保障水平偏低")}
    expected = {m["county_name"]: m for m in metrics if m["coverage_months"] is not None and m["coverage_months"] < 0.5}
    assert set(low) == set(expected)
    for name, row in low.items():
        assert row["库款保障水平（月）"] == pytest.approx(expected[name]["coverage_months"], rel=EXCEL_DIGITS)
        assert row["库款余额（万元）"] == pytest.approx(expected[name]["treasury_balance"], rel=EXCEL_DIGITS)
        assert row["区间"] == expected[name]["coverage_band"]
    revenue = sheet_rows(folder / "brief.xlsx", "收入进度落后")
    assert [r["县区"] for r in revenue] == [m["county_name"] for m in sorted(
        (m for m in metrics if m["revenue_gap_pp"] is not None and m["revenue_gap_pp"] < -8),
        key=lambda m: (m["revenue_gap_pp"], m["county_code"]))]
    focus = sheet_rows(folder / "brief.xlsx", "重点关注名单")
    assert {r["县区"] for r in focus} == {m["county_name"] for m in metrics if m["tier"] == 3}


def test_word_brief_reads_back_with_every_section(cli_outputs):
    folder, _, suggestions = cli_outputs
    doc = Document(io.BytesIO((folder / "brief.docx").read_bytes()))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "库款与“三保”周调度简报" in text and "截至2026年11月20日" in text
    for title in ("一、风险等级概况", "二、本周等级变化", "三、重点关注名单", "四、未来14天发薪未按时足额",
                  "五、库款保障水平偏低", "六、收入进度落后", "七、调度建议", "八、本月提示函"):
        assert title in text
    total = sum(s["dispatch_need"] for s in suggestions if s["dispatch_need"] > 0)
    assert f"合计 {total:,.2f} 万元" in text
    dispatch_table = next(t for t in doc.tables if "建议调度（万元）" in [c.text for c in t.rows[0].cells])
    assert dispatch_table.rows[-1].cells[5].text == f"{total:,.2f}"


def blind_lake(make_lake):
    rows = [("000001", D(2025, m, 10), 100.0, 0.0, 1000.0) for m in (1, 2, 3)] + [("000001", D(2025, 4, 1), 100.0, 0, 0)]
    return make_lake(treasury=rows, counties=[("000001", "<b>甲</b>县", "测试市"), ("000002", "=1+1", "测试市")])


def test_blind_counties_are_no_data_and_user_text_is_escaped_and_inert(make_lake, policy):
    lake = blind_lake(make_lake)
    brief = briefing.build(lake.snapshot(), D(2025, 4, 2), policy, today=D(2025, 4, 2))
    tiers = brief.section("tiers").rows.set_index("state")
    assert (tiers.at["无数据", "now"], tiers.at["正常", "now"]) == (1, 0)
    coverage = brief.section("coverage").rows.set_index("county_code")
    assert coverage.at["000002", "band"] == "无数据"  # never calm: listed with the low counties
    assert coverage.at["000001", "band"] == "预警"
    page = briefing.to_html(brief)
    assert "<b>甲</b>" not in page and "&lt;b&gt;甲&lt;/b&gt;县" in page
    sheet = load_workbook(io.BytesIO(briefing.to_xlsx(brief)))["库款保障水平偏低"]
    cell = next(c for c in sheet["A"] if c.value == "=1+1")
    assert cell.data_type == "s" and cell.quotePrefix
    text = "\n".join(p.text for p in Document(io.BytesIO(briefing.to_docx(brief))).paragraphs)
    assert "无数据 1 个" in text


def test_cli_refuses_an_unknown_suffix(tmp_path):
    result = fiscal("brief", "--out", tmp_path / "brief.pdf")
    assert result.returncode == 1 and ".docx" in result.stderr
    assert not (tmp_path / "brief.pdf").exists()


def test_focus_section_shows_manual_entries_and_ledger_status(make_lake, policy):
    from fiscal.service import WriteService

    lake = blind_lake(make_lake)
    service = WriteService(lake)
    assert service.enter_focus("000001", "add", "库款连续偏低", user="张三", effective_from=D(2025, 4, 1)).committed
    assert service.add_measure("000001", "压减一般性支出", "李四", D(2025, 4, 1), user="张三").committed
    assert service.add_measure("000001", "加快收入入库", "李四", D(2025, 5, 30), user="张三",
                               status="in_progress").committed
    focus = briefing.build(lake.snapshot(), D(2025, 4, 2), policy, today=D(2025, 4, 2)).section("focus")
    row = focus.rows.set_index("county_code").loc["000001"]
    assert (row["source_label"], row["reason"]) == ("人工", "库款连续偏低")
    assert row["ledger"] == "2 项（已逾期 1、推进中 1）"
    assert focus.summary == "重点关注 1 个县区（等级计算 0 个、人工列入 1 个）。"


def test_brief_shows_no_data_by_the_rule_every_page_uses():
    """无数据 replaces only a 正常 computed without treasury or payroll-account data; a risk the
    data shows (here 预警 without a treasury row) keeps its tier."""
    import pandas as pd

    from fiscal.brief import shown_state

    day = pd.Timestamp("2026-11-20")
    rows = pd.DataFrame({
        "tier": [0, 0, 2, 0],
        "tier_label": ["正常", "正常", "预警", "正常"],
        "treasury_date": [day, pd.NaT, pd.NaT, day],
        "account_balance": [1.0, 5.0, None, None],
    })
    assert list(shown_state(rows)) == ["正常", "无数据", "预警", "无数据"]


def test_an_empty_cell_reads_a_dash_as_on_every_page():
    from fiscal.brief import cell_text

    assert cell_text("", "text") == "—"  # a county that moved down to 正常 has no reasons
    assert cell_text(None, "amount") == "—" and cell_text(5336.45, "amount") == "5,336.45"
    assert cell_text(0.0556, "percent") == "5.6%"


def test_html_with_a_row_limit_lists_the_first_rows_and_keeps_the_total():
    """On screen each table lists its first rows, its 合计 row and how many it has; the whole brief is the download."""
    import lxml.html
    import pandas as pd

    from fiscal.brief import COUNTY, TOTAL_LABEL, Brief, Field, Section

    need = Field("dispatch_need", "建议调度（万元）", "amount")
    dispatch = Section("dispatch", "调度建议", "3 个县区需调度", (*COUNTY, need), pd.DataFrame({
        "county_name": ["甲县", "乙县", "丙县", TOTAL_LABEL], "city_name": ["测试市"] * 3 + [""],
        "dispatch_need": [30.0, 20.0, 10.0, 60.0]}), "")
    short = Section("moves", "本周等级变化", "1 个县区", COUNTY,
                    pd.DataFrame({"county_name": ["丁县"], "city_name": ["测试市"]}), "")
    document = Brief(D(2025, 4, 2), D(2025, 3, 26), "测试局", (dispatch, short))

    def tables(page: str) -> list[list[list[str]]]:
        root = lxml.html.fromstring(page)
        return [[[c.text_content() for c in tr.xpath("td")] for tr in t.xpath(".//tbody/tr")] for t in root.iter("table")]

    cut = briefing.to_html(document, max_rows=2)
    assert tables(cut) == [[["甲县", "测试市", "30.00"], ["乙县", "测试市", "20.00"], ["合计", "—", "60.00"]],
                           [["丁县", "测试市"]]]
    assert cut.count('class="more"') == 1 and "此处列出前 2 行，共 3 行；下载的简报包含全部行" in cut
    assert tables(briefing.to_html(document))[0] == [["甲县", "测试市", "30.00"], ["乙县", "测试市", "20.00"],
                                                    ["丙县", "测试市", "10.00"], ["合计", "—", "60.00"]]
    assert briefing.to_html(document, max_rows=3) == briefing.to_html(document)
