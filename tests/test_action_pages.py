"""调度建议, 提示函 and 周调度简报 through streamlit.testing AppTest: they render, raise nothing,
show the numbers of the core functions; issuing is closed without an analyst; a thin lake
gives empty states, not errors; the lines-in-force panel shows the new policy lines."""
from __future__ import annotations

import datetime as dt

import pytest

from fiscal.brief import build, to_html
from fiscal.demo import DEMO_END
from fiscal.dispatch import dispatch
from fiscal.issuing import drafts
from fiscal.lake import Lake
from fiscal.vocabulary import GREY
from tests.test_pages_apptest import (charts, demo_lake, html_blocks, kpi_cards, markdown, open_page, texts,  # noqa: F401
                                     thin_lake, wrapped_table)


@pytest.fixture(autouse=True)
def no_accounts(tmp_path, monkeypatch):
    monkeypatch.setenv("FISCAL_SECRETS", str(tmp_path / "secrets.toml"))
    monkeypatch.setenv("FISCAL_AUDIT", str(tmp_path / "audit"))


def test_dispatch_page(demo_lake, monkeypatch, policy):  # noqa: F811
    app = open_page(demo_lake, "dispatch", monkeypatch)
    assert texts(app, "title") == ["调度建议"]
    suggestions = dispatch(Lake(demo_lake).snapshot(), DEMO_END, policy)
    needing = suggestions[suggestions["dispatch_need"] > 0]
    metrics = {k["label"]: k["value"] for k in kpi_cards(app)}
    assert metrics["需调度县区"] == f"{len(needing)} 个县区"
    assert metrics["建议调度合计"] == f"{needing['dispatch_need'].sum():,.2f} 万元"  # one unit everywhere
    assert texts(app, "subheader") == ["各市小计", f"需调度的县区（{len(needing)}）", "各县区调度建议"]
    assert charts(app) == 1
    assert len(app.dataframe) == 0 and len(app.get("download_button")) == 4
    assert wrapped_table(app, "需调度县区")["需调度县区"].astype(int).sum() == len(needing)
    assert wrapped_table(app, "库款底线（万元）")["县区"].tolist() == needing["county_name"].tolist()


def test_letters_page_without_analysts_cannot_issue(demo_lake, monkeypatch, policy):  # noqa: F811
    app = open_page(demo_lake, "letters", monkeypatch)
    assert texts(app, "title") == ["提示函"]
    due = drafts(Lake(demo_lake).snapshot(), DEMO_END, policy).rows
    assert texts(app, "subheader") == [f"2026年11月应发提示函（{len(due)}）", "提示函登记"]
    assert any("尚未配置分析员账号：签发提示函已停用" in w for w in texts(app, "warning"))
    assert not [b for b in app.button if "签发本月提示函" in str(b.label)]
    preview = app.code[0].value
    assert preview.startswith("XX市财政局\nX财库函〔") and "__号" in preview and "特此函告。" in preview
    assert "尚未签发过提示函" in "\n".join(texts(app, "info"))


def test_brief_page(demo_lake, monkeypatch):  # noqa: F811
    app = open_page(demo_lake, "brief", monkeypatch)
    assert texts(app, "title") == ["周调度简报"]
    page = "\n".join(h.proto.body for h in app.get("html"))
    for title in ("一、风险等级概况", "五、库款保障水平偏低", "七、调度建议", "八、本月提示函"):
        assert title in page
    assert [b.proto.label for b in app.get("download_button")] == ["Word", "Excel", "HTML"]


def test_brief_page_lists_the_first_rows_of_each_table_until_asked_for_all(demo_lake, monkeypatch, policy):  # noqa: F811
    monkeypatch.setattr("app.briefing.FIRST_ROWS", 3)
    app = open_page(demo_lake, "brief", monkeypatch)
    document = build(Lake(demo_lake).snapshot(), DEMO_END, policy, today=dt.date.today())
    low = document.section("coverage").rows  # a table without a 合计 row
    assert len(low) > 3
    [shown] = brief_html(app)
    assert shown == to_html(document, max_rows=3)
    assert f"此处列出前 3 行，共 {len(low)} 行；下载的简报包含全部行" in shown
    assert "每个表格列出前 3 行；下载的简报包含全部行" in texts(app, "caption")
    app.toggle(key="brief_all_rows").set_value(True).run()
    assert brief_html(app) == [to_html(document)]


def brief_html(app) -> list[str]:
    """The brief's HTML block(s) on the page (its own style sheet first)."""
    return [block for block in html_blocks(app) if block.startswith("<style>\n.brief")]


@pytest.mark.parametrize("page, title", [("dispatch", "调度建议"), ("letters", "提示函"), ("brief", "周调度简报")])
def test_thin_lake_pages_render(thin_lake, monkeypatch, page, title):  # noqa: F811
    app = open_page(thin_lake, page, monkeypatch)
    assert texts(app, "title") == [title]


def test_lines_in_force_show_dispatch_and_letters(demo_lake, monkeypatch):  # noqa: F811
    app = open_page(demo_lake, "risk", monkeypatch)
    app.session_state["risk_policy_open"] = True  # the lines in force, once the reader opens them
    app.run()
    lines = wrapped_table(app, "规则")
    rules = dict(zip(lines["指标"], lines["规则"]))
    assert "未来 30 天应发工资" in rules["调度建议"]
    assert "连续 2 个月末低于提示线" in rules["提示函"] and "10 天内回复" in rules["提示函"]
    assert rules["发文机关"] == "XX市财政局，文号 X财库函〔年份〕序号号"


def test_a_county_without_treasury_data_is_no_data_on_the_dispatch_page(tmp_path, monkeypatch):
    from tests.conftest import D, frame

    treasury = [("000001", D(2025, m, 10), 500.0, 100.0, 1000.0) for m in range(1, 5)]
    root = tmp_path / "blind"
    account = [("000001", D(2025, 4, 10), 0.0)]  # both daily extracts present: 有数县 is not blind
    Lake(root).replace_all({"counties": frame("counties", [("000001", "有数县", "测试市"), ("000002", "无数县", "测试市")]),
                            "treasury": frame("treasury", treasury), "payroll_account": frame("payroll_account", account)},
                           user="test")
    app = open_page(root, "dispatch", monkeypatch)
    # listed by default beside the counties needing cash (none here), and named under the count
    assert app.toggle(key="dispatch_only_needing").value
    assert wrapped_table(app, "库款底线（万元）")["县区"].tolist() == ["无数县"]
    needing = next(k for k in kpi_cards(app) if k["label"] == "需调度县区")
    assert (needing["value"], needing["delta"], needing["arrow"]) == ("0 个县区", "另有 1 个县区无数据、无法测算", None)
    assert needing["colour"] == GREY
    app.toggle(key="dispatch_only_needing").set_value(False).run()
    table = wrapped_table(app, "库款底线（万元）").set_index("县区")
    assert table.at["无数县", "风险等级"] == "无数据"
    assert table.at["有数县", "风险等级"] != "无数据"
