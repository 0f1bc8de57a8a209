"""Every page through streamlit.testing AppTest: it renders, raises nothing, shows what it should."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import lxml.html
import pandas as pd

import pytest
from streamlit.testing.v1 import AppTest

from app import formatting as fmt
from app.columns import BAND_TAG_COLORS
from app.widgets import CHART_COMPONENT
from fiscal import reports
from fiscal.demo import DEMO_END, build_frames
from fiscal.indicators import metrics
from fiscal.lake import Lake
from fiscal.vocabulary import GREEN, RED
from tests.conftest import D, counties, frame

ENTRY = Path(__file__).resolve().parent / "dashboard_entry.py"
TIMEOUT = 30


@pytest.fixture(scope="module")
def demo_lake(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("apptest") / "demo"
    Lake(root).replace_all(build_frames(counties=30, years=3), user="demo", operation="demo")
    return root


@pytest.fixture(scope="module")
def thin_lake(tmp_path_factory) -> Path:
    """Only counties and a few months of treasury rows: every other extract is missing."""
    root = tmp_path_factory.mktemp("apptest") / "thin"
    treasury = [("000001", D(2025, m, 10), 500.0 + m, 100.0, 90.0) for m in range(1, 7)]
    Lake(root).replace_all({"counties": counties("000001"), "treasury": frame("treasury", treasury)}, user="test")
    return root


def open_page(lake: Path, page: str | None, monkeypatch, **query) -> AppTest:
    monkeypatch.setenv("FISCAL_DATA", str(lake))
    app = AppTest.from_file(str(ENTRY), default_timeout=TIMEOUT)
    app.query_params.update(query)
    app.run()
    if page:
        app.switch_page(f"../pages/{page}.py").run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def riskiest(lake: Path, policy) -> tuple[str, str]:
    """Code and name of the county 县区详情 opens by default (the first by tier, then code)."""
    first = metrics(Lake(lake).snapshot(), DEMO_END, policy).iloc[0]
    return first["county_code"], first["county_name"]


def county_names(lake: Path) -> dict[str, str]:
    table = Lake(lake).read("counties")
    return dict(zip(table["county_code"], table["county_name"]))


def texts(app: AppTest, kind: str) -> list[str]:
    return [element.value for element in getattr(app, kind)]


def figures(app: AppTest) -> list[dict]:
    """The Plotly figures the page sends the browser (app/widgets.chart), in order."""
    return [json.loads(c.proto.bytes)["figure"] for c in app.get("bidi_component") if c.proto.component_name == CHART_COMPONENT]


def charts(app: AppTest) -> int:
    return len(figures(app))


def chart_font_sizes(app: AppTest) -> set[float]:
    return {round(f["layout"]["font"]["size"], 1) for f in figures(app)}


def html_blocks(app: AppTest) -> list[str]:
    """The page's HTML blocks (st.html: the tables)."""
    return [element.proto.body for element in app.get("html")]


def kpi_cards(app: AppTest) -> list[dict[str, str | None]]:
    """The KPI cards (app/widgets.kpis) as a reader sees them: label, value, the delta (its arrow
    apart), its colour, the note after it, and the help on the label's ? mark."""
    cards = []
    for block in html_blocks(app):
        if not block.startswith('<div class="kpi-cards">'):
            continue
        for card in lxml.html.fromstring(block).find_class("kpi-card"):
            [label], [value] = card.find_class("kpi-label"), card.find_class("kpi-value")
            helps, deltas, notes = card.find_class("kpi-help"), card.find_class("kpi-delta"), card.find_class("kpi-note")
            delta = deltas[0].text_content() if deltas else None
            cards.append({"label": label.text, "value": value.text_content(),
                          "arrow": delta[:2] if delta and delta[:2] in ("↑ ", "↓ ") else None,
                          "delta": delta.removeprefix("↑ ").removeprefix("↓ ") if delta else None,
                          "colour": deltas[0].get("style").removeprefix("--kpi:") if deltas else None,
                          "note": notes[0].text_content() if notes else None,
                          "help": helps[0].get("title") if helps else None})
    return cards


def markdown(app: AppTest) -> str:
    """Everything the page writes as Markdown or HTML."""
    return "\n".join([*texts(app, "markdown"), *html_blocks(app)])


def wrapped_table(app: AppTest, column: str = "风险原因") -> pd.DataFrame:
    """The page's on-screen HTML table with that column, as its cells read."""
    [table] = wrapped_tables(app, column)
    return table


def wrapped_tables(app: AppTest, column: str) -> list[pd.DataFrame]:
    """Every on-screen HTML table of the page with that column, in page order."""
    tables = []
    for block in html_blocks(app):
        if block.startswith('<div class="wrapped-table') and f">{column}</th>" in block:
            root = lxml.html.fromstring(block)
            rows = [[cell.text_content() for cell in row.findall("td")] for row in root.iter("tr")]
            tables.append(pd.DataFrame([r for r in rows if r], columns=[th.text_content() for th in root.iter("th")]))
    return tables


# ---- one test per page -------------------------------------------------------------------
def test_overview(demo_lake, monkeypatch, policy):
    app = open_page(demo_lake, None, monkeypatch)
    assert texts(app, "title") == ["总览"]
    assert app.date_input(key="as_of").value == DEMO_END  # default: the latest treasury date
    page = markdown(app)
    for label in ("重点关注", "预警", "提示", "正常", "数据最新日期", "演示数据（虚构）"):
        assert label in page
    assert [k["label"] for k in kpi_cards(app)] == ["下次发薪未足额", "库款保障水平中位数", "收入进度"]
    assert texts(app, "subheader")[0].startswith("需关注县区")
    assert {"各县区指标", "本周变化"} <= set(texts(app, "subheader"))
    # no data grid on the first page a reader opens: both tables are HTML, each its own print copy
    assert len(app.dataframe) == 0
    [links] = [lxml.html.fromstring(b) for b in html_blocks(app) if b.startswith('<ul class="county-links">')]
    # the counties to watch link to their 县区详情 at this date, riskiest first
    assert [a.get("href") for a in links.iter("a")][:1] == [f"county?county={riskiest(demo_lake, policy)[0]}&as_of={DEMO_END}"]
    assert list(wrapped_table(app, "原等级")) == ["变化", "县区", "所属市", "原等级", "现等级", "详情"]
    assert '<div class="wrapped-table printed"><table><thead><tr><th>变化</th>' in page
    assert len(app.get("download_button")) == 4  # CSV and Excel under each table


def test_the_overview_lists_the_riskiest_twenty_counties_until_all_are_asked_for(demo_lake, monkeypatch, policy):
    app = open_page(demo_lake, None, monkeypatch)
    ranked = metrics(Lake(demo_lake).snapshot(), DEMO_END, policy)
    names = county_names(demo_lake)
    assert list(wrapped_table(app)["县区"]) == [names[c] for c in ranked["county_code"].head(20)]
    assert "共 30 个县区，显示前 20 个；下载的表格包含全部县区" in texts(app, "caption")
    app.toggle(key="overview_counties_all_rows").set_value(True).run()
    assert len(wrapped_table(app)) == 30


def test_payroll(demo_lake, monkeypatch):
    app = open_page(demo_lake, "payroll", monkeypatch)
    assert texts(app, "title") == ["工资保障"]
    assert {"下次发薪", "近 12 个月发薪状态"} <= set(texts(app, "subheader"))
    assert "下次发薪未足额" in [k["label"] for k in kpi_cards(app)]
    # both lists are HTML tables: the next paydays, unfunded first, and the paydays missed
    assert charts(app) == 1 and len(app.dataframe) == 0
    assert len(wrapped_table(app, "下次发薪日")) == 30
    assert set(wrapped_table(app, "缺口（万元）")["状态"]) <= {"存在缺口", "逾期未足额", "迟于截止日"}


def test_treasury(demo_lake, monkeypatch):
    app = open_page(demo_lake, "treasury", monkeypatch)
    assert texts(app, "title") == ["库款保障"]
    assert {"库款保障水平走势（月末）", "各市库款保障水平分布", "县区库款日报"} <= set(texts(app, "subheader"))
    assert len(app.multiselect(key="treasury_compare").value) == 3
    # the idle-cash list: an HTML table, largest idle amount first, with each county's link
    assert charts(app) == 3 and len(app.dataframe) == 0
    idle = wrapped_table(app, "超出闲置线金额（万元）")
    assert list(idle) == ["县区", "所属市", "库款余额（万元）", "月均库款支出（万元）", "库款保障水平（月）",
                          "超出闲置线金额（万元）", "详情"]
    amounts = idle["超出闲置线金额（万元）"].str.replace(",", "").astype(float)
    assert len(idle) == 3 and amounts.is_monotonic_decreasing and (amounts > 0).all()


def test_revenue(demo_lake, monkeypatch):
    app = open_page(demo_lake, "revenue", monkeypatch)
    assert texts(app, "title") == ["收入进度"]
    assert [k["label"] for k in kpi_cards(app)] == ["收入进度", "序时进度", "累计完成", "同比增长"]
    assert {"各县区收入进度与序时进度", "分类别（与上年同期比较）", "各县区明细"} <= set(texts(app, "subheader"))
    assert charts(app) == 2 and len(app.dataframe) == 0
    assert "税收收入" in wrapped_table(app, "收入类别")["收入类别"].tolist() and len(wrapped_table(app, "序时进度")) == 30


def test_risk(demo_lake, monkeypatch):
    app = open_page(demo_lake, "risk", monkeypatch)
    assert texts(app, "title") == ["风险分级"]
    assert {"重点关注名单", "重点关注县区在办措施（工作台账）", "各县区风险等级与原因", "风险等级历史（各月末）",
            "重点关注名单变动（近 12 个月）", "未来三个月工资保障"} <= set(texts(app, "subheader"))
    assert charts(app) == 2
    # the list, the tiers with their reasons and the forward payroll are HTML tables, read in full
    # (no measures yet); the policy lines, the list's moves and entries and the tier history once opened
    assert len(app.dataframe) == 0
    assert list(wrapped_table(app, "未来三个月工资保障倍数"))[:3] == ["风险等级", "县区", "所属市"]
    downloads = len(app.get("download_button"))
    for opened, tables, grids in (("risk_policy", 1, 0), ("focus_history", 2, 0), ("risk_history", 3, 1)):
        app.session_state[f"{opened}_open"] = True
        app.run()
        assert len(app.dataframe) == grids and len(app.get("download_button")) == downloads + 2 * tables
    assert "调度建议" in wrapped_table(app, "规则")["指标"].tolist()
    [history] = [d for d in app.dataframe if "2026-11-20" in d.value]
    assert len(history.value) == 30  # every county of the demo lake
    assert wrapped_table(app, "来源")["来源"].tolist() == ["计算", "计算"]
    assert "修改需要分析员登录。" in texts(app, "caption")  # a viewer gets no form


def test_county(demo_lake, monkeypatch, policy):
    app = open_page(demo_lake, "county", monkeypatch)
    assert texts(app, "title") == ["县区详情"]
    code, name = riskiest(demo_lake, policy)
    assert app.selectbox(key="county").value == code  # the riskiest county by default
    assert name in markdown(app) and "重点关注" in markdown(app)
    assert len(kpi_cards(app)) == 8 and charts(app) == 5


def test_kpi_cards_show_value_delta_note_and_help(demo_lake, monkeypatch, policy):
    """Each card reads as Streamlit's metric did: a signed delta gets its arrow and green or red, a
    coloured one (a band, a status) no arrow; the help is on the label's ? mark."""
    app = open_page(demo_lake, "county", monkeypatch)
    code, _ = riskiest(demo_lake, policy)
    row = metrics(Lake(demo_lake).snapshot(), DEMO_END, policy).set_index("county_code").loc[code]
    cards = {card["label"]: card for card in kpi_cards(app)}
    coverage = cards["库款保障水平"]
    assert coverage["value"] == f"{row.coverage_months:.2f} 个月" and coverage["delta"] == row.coverage_band
    assert coverage["arrow"] is None and coverage["colour"] == BAND_TAG_COLORS[row.coverage_band]
    assert coverage["help"].startswith("库款余额 ÷ 月均库款支出（")
    revenue = cards["收入进度"]
    assert revenue["delta"] == f"{row.revenue_gap_pp:+.1f} 个百分点" and revenue["note"] == "较序时进度"
    assert (revenue["arrow"], revenue["colour"]) == (("↓ ", RED) if row.revenue_gap_pp < 0 else ("↑ ", GREEN))
    assert cards["工资专户余额"]["delta"] is None and cards["工资专户余额"]["help"] is None


# ---- links, filters, meeting mode ------------------------------------------------------------
def view_button(app: AppTest) -> str:
    """The label of the sidebar's popover that holds 截至日期 and 地市."""
    [label] = [block.proto.popover.label for block in app.sidebar.children.values()
               if block.type == "popover"]
    return label


def test_the_view_button_names_the_date_and_cities_the_pages_show(demo_lake, monkeypatch):
    app = open_page(demo_lake, None, monkeypatch)
    assert view_button(app) == f"截至 {DEMO_END:%Y-%m-%d} · 全部地市"
    assert app.date_input(key="as_of").value == DEMO_END and app.multiselect(key="cities").value == []
    app = open_page(demo_lake, None, monkeypatch, city=["演示甲市", "演示乙市"], as_of="2026-10-31")
    assert view_button(app) == "截至 2026-10-31 · 演示甲市、演示乙市"
    app.date_input(key="as_of").set_value(dt.date(2026, 9, 30)).run()
    assert view_button(app) == "截至 2026-09-30 · 演示甲市、演示乙市"


def test_county_link_sets_county_and_as_of(demo_lake, monkeypatch):
    names = county_names(demo_lake)
    linked, other = sorted(names)[5], sorted(names)[0]
    app = open_page(demo_lake, "county", monkeypatch, county=linked, as_of="2026-10-31")
    assert app.selectbox(key="county").value == linked
    assert app.date_input(key="as_of").value == D(2026, 10, 31)
    assert "截至 2026-10-31" in markdown(app) and names[linked] in markdown(app)
    app.selectbox(key="county").set_value(other).run()
    assert not app.exception and names[other] in markdown(app)


def test_county_pickers_list_one_city_at_a_time(demo_lake, monkeypatch, policy):
    """县区详情 and 库款保障's daily report pick a city, then one of its counties (in code order), never
    from every county; another city shows its riskiest county, and the link follows."""
    table = Lake(demo_lake).read("counties").sort_values("county_code")
    names, city_of = county_names(demo_lake), dict(zip(table["county_code"], table["city_name"]))
    linked = table["county_code"].iloc[15]  # a county of the second city
    app = open_page(demo_lake, "county", monkeypatch, county=linked)
    assert app.selectbox(key="county_city").value == city_of[linked]
    assert app.selectbox(key="county_city").options == list(dict.fromkeys(table["city_name"]))
    in_city = table[table["city_name"] == city_of[linked]]
    assert app.selectbox(key="county").options == in_city["county_name"].tolist()
    assert app.selectbox(key="county").value == linked

    other_city = table["city_name"].iloc[-1]
    ranked = metrics(Lake(demo_lake).snapshot(), DEMO_END, policy)
    riskiest_there = ranked[ranked["city_name"] == other_city]["county_code"].iloc[0]
    app.selectbox(key="county_city").set_value(other_city).run()
    assert not app.exception
    assert app.selectbox(key="county").value == riskiest_there
    assert app.query_params["county"] == riskiest_there and names[riskiest_there] in markdown(app)

    treasury = open_page(demo_lake, "treasury", monkeypatch)
    lowest = ranked.dropna(subset=["coverage_months"]).sort_values("coverage_months")["county_code"].iloc[0]
    assert treasury.selectbox(key="treasury_county").value == lowest
    assert treasury.selectbox(key="treasury_county_city").value == city_of[lowest]
    assert treasury.selectbox(key="treasury_county").options == \
        table[table["city_name"] == city_of[lowest]]["county_name"].tolist()


def test_unknown_county_in_link_falls_back_with_a_warning(demo_lake, monkeypatch, policy):
    app = open_page(demo_lake, "county", monkeypatch, county="123456")
    assert any("123456" in w for w in texts(app, "warning"))
    assert app.selectbox(key="county").value == riskiest(demo_lake, policy)[0]


def test_city_filter_narrows_every_table(demo_lake, monkeypatch):
    table = Lake(demo_lake).read("counties")
    city = table["city_name"].iloc[0]
    app = open_page(demo_lake, None, monkeypatch, city=city)
    assert app.multiselect(key="cities").value == [city]
    shown = wrapped_table(app)
    assert len(shown) == (table["city_name"] == city).sum() < len(table)
    assert set(shown["所属市"]) == {city}


def test_meeting_mode_from_url_and_back(demo_lake, monkeypatch):
    app = open_page(demo_lake, "risk", monkeypatch, meeting="1")
    assert app.toggle(key="meeting").value
    assert "html {font-size: 20px;}" in markdown(app)  # the meeting-mode CSS (it also hides the sidebar)
    assert not app.get("download_button")
    assert chart_font_sizes(app) == {18.2}  # 13 × 1.4: every chart's text larger on the projector
    app.button(key="exit_meeting").click().run()
    assert not app.exception and not app.toggle(key="meeting").value
    assert "html {font-size: 20px;}" not in markdown(app) and app.get("download_button")
    assert chart_font_sizes(app) == {13}


def test_meeting_mode_survives_a_page_switch(demo_lake, monkeypatch):
    app = open_page(demo_lake, None, monkeypatch)
    app.toggle(key="meeting").set_value(True).run()
    app.switch_page("../pages/treasury.py").run()
    assert not app.exception and app.toggle(key="meeting").value
    assert [b.label for b in app.button] == ["退出会议模式"]


def test_changing_the_as_of_date_recomputes(demo_lake, monkeypatch):
    app = open_page(demo_lake, None, monkeypatch)
    before = wrapped_table(app)
    app.date_input(key="as_of").set_value(D(2026, 6, 30)).run()
    assert not app.exception and "截至 2026-06-30" in markdown(app)
    assert not wrapped_table(app).equals(before)


def test_stale_extracts_are_marked(demo_lake, tmp_path, monkeypatch):
    policy = tmp_path / "policy.toml"
    policy.write_text("[freshness]\nstale_days = 1\n", encoding="utf-8")
    monkeypatch.setenv("FISCAL_POLICY", str(policy))
    page = markdown(open_page(demo_lake, None, monkeypatch))
    fresh = reports.freshness(Lake(demo_lake).snapshot(), DEMO_END, stale_days=1)
    assert fresh["stale"].any() and not fresh["stale"].all()
    for row in fresh.itertuples():
        text = f"{row.label} {row.latest:%Y-%m-%d}"
        assert (f"{text}（过期）</span>" in page) == row.stale and text in page


# ---- empty states ---------------------------------------------------------------------------
@pytest.mark.parametrize("page, missing", [
    (None, []), ("payroll", ["工资发放计划"]), ("treasury", []), ("revenue", ["收入进度"]), ("risk", []),
    ("county", ["工资发放计划", "收入进度"]),
])
def test_pages_with_only_counties_and_treasury(thin_lake, monkeypatch, page, missing):
    app = open_page(thin_lake, page, monkeypatch)
    infos = texts(app, "info")
    for label in missing:
        assert f"尚无{label}数据，请在数据管理页上传{label}表" in infos
    if page is None:  # the overview's freshness line marks every missing extract in red
        assert '<span class="stale">收入进度 无数据</span>' in markdown(app)
        assert "库款日报 2025-06-10" in markdown(app)


def test_empty_lake_says_what_is_missing(tmp_path, monkeypatch):
    app = open_page(tmp_path / "no-lake", None, monkeypatch)
    infos = texts(app, "info")
    assert "尚无县区名录数据，请在数据管理页上传县区名录表" in infos
    assert "尚无库款日报数据，请在数据管理页上传库款日报表" in infos


def test_broken_policy_is_reported_not_raised(demo_lake, tmp_path, monkeypatch):
    policy = tmp_path / "policy.toml"
    policy.write_text("[coverage]\nwarning_line = 0.9\n", encoding="utf-8")
    monkeypatch.setenv("FISCAL_POLICY", str(policy))
    app = open_page(demo_lake, None, monkeypatch)
    assert any("政策文件" in e for e in texts(app, "error"))


@pytest.mark.parametrize("wan, text", [
    (None, "—"), (float("nan"), "—"), (0.0, "0.00 万元"), (99.456, "99.46 万元"), (9992.0, "9,992.00 万元"),
    (16_300.0, "16,300.00 万元"), (-25_000.0, "-25,000.00 万元"), (327_140_000.0, "327,140,000.00 万元"),
])
def test_amounts_have_one_unit_and_format_everywhere(wan, text):
    assert fmt.amount(wan) == text


@pytest.mark.parametrize("asked, shown, note", [
    ("2030-01-01", None, "链接中的截至日期 2030-01-01 超出可选范围"),  # None: the latest choosable day
    ("1990-05-01", "2000-01-01", "链接中的截至日期 1990-05-01 超出可选范围"),
    ("2026-13-40", "2026-11-20", "链接中的截至日期「2026\\-13\\-40」无法识别，已使用默认日期"),
])
def test_a_moved_link_date_is_said_not_silent(demo_lake, monkeypatch, asked, shown, note):
    shown = shown or str(max(DEMO_END, dt.date.today()))
    app = open_page(demo_lake, None, monkeypatch, as_of=asked)
    assert str(app.date_input(key="as_of").value) == shown
    [warning] = [w for w in texts(app, "warning") if w.startswith("链接中的截至日期")]
    assert warning.startswith(note)
    if "超出" in note:
        assert warning.endswith(f"已改为 {shown}")


def test_a_province_sized_list_shows_its_first_rows_until_all_are_asked_for(tmp_path, monkeypatch):
    """120 counties: 报送情况 lists every county; it shows the first 50 in the list's order, says
    how many there are, and all 120 once the toggle is on; the downloads hold all 120 throughout."""
    root = tmp_path / "wide"
    Lake(root).replace_all(build_frames(counties=120, years=1), user="demo", operation="demo")
    downloaded = []  # the rows given to the status list's downloads, at each run

    def downloads(frame, specs, *, key, file_stem):
        if key == "reporting_status":
            downloaded.append(len(frame))

    monkeypatch.setattr("app.widgets.downloads", downloads)
    app = open_page(root, "reporting", monkeypatch)
    snapshot = Lake(root).snapshot()
    listed = reports.reporting_status(snapshot, reports.latest_date(snapshot))["county_name"].tolist()
    assert len(app.dataframe) == 0  # the first rows: an HTML table
    assert wrapped_table(app, "县区")["县区"].tolist() == listed[:50]
    assert "共 120 个县区，显示前 50 个；下载的表格包含全部县区" in texts(app, "caption")
    assert downloaded == [120]
    app.toggle(key="reporting_status_all_rows").run()
    assert app.toggle(key="reporting_status_all_rows").label == "显示全部 120 个县区"
    app.toggle(key="reporting_status_all_rows").set_value(True).run()
    assert not app.exception
    [grid] = [d for d in app.dataframe if "county_name" in d.value]  # every row: a grid, which scrolls and sorts
    assert grid.value["county_name"].tolist() == listed
    assert grid.proto.placeholder == "—"  # what a missing cell reads (the grid's own is "None")
    assert not any("显示前" in c for c in texts(app, "caption"))
    assert downloaded == [120, 120, 120]


def _first_rows_script():
    import pandas as pd
    import streamlit as st

    from app import widgets
    from fiscal.vocabulary import NO_DATA_TIER

    tiers = [3] * 60 + [0] * 60
    for row in st.session_state.get("blind_rows", []):
        tiers[row] = NO_DATA_TIER
    codes = [f"{i:06d}" for i in range(120)] if st.session_state.get("counties", True) else ["000001"] * 120
    frame = pd.DataFrame({"county_code": codes, "tier": tiers}, index=range(1000, 1120))
    st.session_state["shown_rows"] = [i - 1000 for i in widgets._first_rows(frame, key="t")[0].index]


@pytest.mark.parametrize("blind, counties, shown, note", [
    ([], True, list(range(50)), "共 120 个县区，显示前 50 个；下载的表格包含全部县区"),
    # a county without data is never left out of the first rows, wherever the list puts it
    ([7, 80, 119], True, [*range(50), 80, 119], "共 120 个县区，显示前 50 个，另列出无数据的 2 个县区；下载的表格包含全部县区"),
    # more blind counties than first rows: the first 50 of them, and how many there are
    (list(range(10, 120)), True, list(range(100)),
     "共 120 个县区，显示前 50 个，另列出无数据的 50 个县区（无数据的共 110 个县区，打开“显示全部”可见其余）；"
     "下载的表格包含全部县区"),
    ([], False, list(range(50)), "共 120 行，显示前 50 行；下载的表格包含全部行"),  # rows, not counties
])
def test_first_rows_are_the_top_of_the_list_and_every_blind_county(blind, counties, shown, note):
    app = AppTest.from_function(_first_rows_script, default_timeout=TIMEOUT)
    app.session_state["blind_rows"] = blind
    app.session_state["counties"] = counties
    app.run()
    assert not app.exception
    assert app.session_state["shown_rows"] == shown
    assert texts(app, "caption") == [note]
    app.toggle(key="t_all_rows").set_value(True).run()
    assert app.session_state["shown_rows"] == list(range(120)) and not texts(app, "caption")


def chart_trace(app: AppTest, index: int, name: str) -> dict:
    """One trace of the page's `index`-th chart, its arrays decoded (Plotly sends numbers as typed arrays)."""
    import base64

    import numpy as np

    [trace] = [t for t in figures(app)[index]["data"] if t.get("name") == name]
    return {key: np.frombuffer(base64.b64decode(value["bdata"]), value["dtype"]).tolist()
            if isinstance(value, dict) and "bdata" in value else value for key, value in trace.items()}


def test_treasury_charts_follow_the_page_choices(demo_lake, monkeypatch):
    """A chart is built once per view and page choices: another county, time range or comparison is
    drawn anew, and going back draws the first one again."""
    treasury = Lake(demo_lake).read("treasury")
    app = open_page(demo_lake, "treasury", monkeypatch)
    first = app.selectbox(key="treasury_county").value
    other = next(c for c in sorted(county_names(demo_lake)) if c != first)
    shown = chart_trace(app, 2, "库款余额")

    def balances(code: str, days: int) -> list[float]:  # the county's treasury rows over the last `days` days
        dates = pd.to_datetime(treasury["date"])
        rows = treasury[(treasury["county_code"] == code) & dates.between(pd.Timestamp(DEMO_END - dt.timedelta(days=days)),
                                                                           pd.Timestamp(DEMO_END))]
        return rows.sort_values("date")["balance"].tolist()

    assert shown["y"] == pytest.approx(balances(first, 183))
    app.selectbox(key="treasury_county").set_value(other).run()
    assert chart_trace(app, 2, "库款余额")["y"] == pytest.approx(balances(other, 183))
    app.segmented_control(key="treasury_window").set_value("近 3 个月").run()
    assert chart_trace(app, 2, "库款余额")["y"] == pytest.approx(balances(other, 92))
    app.selectbox(key="treasury_county").set_value(first).run()
    app.segmented_control(key="treasury_window").set_value("近 6 个月").run()
    assert chart_trace(app, 2, "库款余额") == shown

    name = county_names(demo_lake)[other]
    app.multiselect(key="treasury_compare").set_value([other]).run()
    drawn = [t.get("name") for t in figures(app)[0]["data"]]
    assert drawn == [None, "四分位区间", "中位数", name]


def test_a_wrapped_table_is_its_own_print_copy(demo_lake, monkeypatch):
    """风险分级's tiers and 重点关注 list show on screen every column they print: one table each, its links
    marked to be hidden on paper. 总览's counties show fewer columns than they print: still one table,
    the columns only printed marked to be hidden on screen."""
    def tables(app: AppTest, column: str) -> dict[str, list[str]]:
        found = {}
        for block in html_blocks(app):
            if block.startswith("<div") and f">{column}</th>" in block:
                root = lxml.html.fromstring(block)
                found[root.get("class")] = [th.text_content() for th in root.iter("th")]
        return found

    risk = open_page(demo_lake, "risk", monkeypatch)
    assert tables(risk, "风险原因") == {"wrapped-table printed": ["风险等级", "县区", "所属市", "风险原因"]}
    [focus] = [b for b in html_blocks(risk) if b.startswith("<div") and ">来源</th>" in b]
    root = lxml.html.fromstring(focus)
    assert root.get("class") == "wrapped-table printed"
    assert [th.text_content() for th in root.xpath(".//th[@class='link']")] == ["详情"]
    links = root.xpath(".//td[@class='link']/a")
    assert links and all(a.get("href").startswith("county?county=") for a in links)

    [counties] = [lxml.html.fromstring(b) for b in html_blocks(open_page(demo_lake, None, monkeypatch))
                  if b.startswith('<div class="wrapped-table printed">') and ">风险原因</th>" in b]
    headers = {th.text_content(): th.get("class") for th in counties.iter("th")}
    assert {name for name, css in headers.items() if css == "print-only"} == {"保障水平区间", "下次发薪日", "收入进度"}
    assert headers["详情"] == "link" and headers["风险等级"] is None
    first_row = counties.xpath(".//tbody/tr[1]/td")
    assert len(first_row) == len(headers)
    assert [i for i, td in enumerate(first_row) if "print-only" in (td.get("class") or "").split()] == \
        [i for i, css in enumerate(headers.values()) if css == "print-only"]
