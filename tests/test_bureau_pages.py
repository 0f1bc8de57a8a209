"""The 重点关注 list and the 工作台账 on the pages (AppTest): an analyst edits through the write
service and sees the result; a viewer cannot; meeting mode shows the records without forms."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app.columns import COLUMNS
from fiscal.audit import AuditLog
from fiscal.lake import Lake
from fiscal.service import WriteService
from tests.test_lake import lake_fingerprint
from tests.test_pages_apptest import wrapped_table, wrapped_tables
from tests.upload_support import ANALYST, PASSWORD, ROOT, analyst_site, build_demo

ENTRY = ROOT / "tests" / "dashboard_entry.py"
TIER3_COUNTY, OTHER_COUNTY = "990106", "990103"  # tier 3 / tier 0 in the demo lake at its latest date


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory):
    return build_demo(tmp_path_factory.mktemp("template") / "lake")


@pytest.fixture
def site(demo_template, tmp_path, monkeypatch):
    return Lake(analyst_site(demo_template, tmp_path, monkeypatch)), AuditLog(tmp_path / "audit")


def run(app: AppTest) -> AppTest:
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def open_app(*, signed_in: bool, page: str, **query) -> AppTest:
    app = AppTest.from_file(str(ENTRY), default_timeout=30)
    app.query_params.update(query)
    run(app)
    if signed_in:
        app.switch_page("../pages/data.py")
        run(app)
        app.text_input(key="dm_user").set_value(ANALYST)
        app.text_input(key="dm_password").set_value(PASSWORD)
        next(b for b in app.button if b.label == "登录").click()
        run(app)
    app.switch_page(f"../pages/{page}.py")
    return run(app)


def table(app: AppTest, field: str) -> pd.DataFrame:
    """The first list on the page with that catalogue field, as its cells read, its columns
    named by field (where a label names one field only)."""
    by_label = {}
    for name, column in COLUMNS.items():
        by_label.setdefault(column.label, []).append(name)
    shown = wrapped_tables(app, COLUMNS[field].label)[0]
    return shown.rename(columns={label: names[0] for label, names in by_label.items() if len(names) == 1})


def shown_focus_list(app: AppTest):
    """The 重点关注 list as shown: an HTML table whose reasons wrap."""
    return wrapped_table(app, "来源")


def submit(app: AppTest, form_prefix: str) -> AppTest:
    next(b for b in app.button if b.label in ("保存调整", "保存措施", "保存更新") and form_prefix in str(b.form_id)).click()
    return run(app)


def test_an_analyst_adds_and_removes_counties_with_reasons(site):
    lake, log = site
    app = open_app(signed_in=True, page="risk")
    assert shown_focus_list(app)["县区"].tolist() == ["演示县06", "演示县17"]
    # take the tier-3 county off the list until a date
    app.radio(key="focus_form_0_action").set_value("remove")
    app.selectbox(key="focus_form_0_county").set_value(TIER3_COUNTY)
    app.text_area(key="focus_form_0_reason").set_value("已调度资金 5,000 万元，工资专户已足额")
    app.date_input(key="focus_form_0_until").set_value(dt.date(2026, 12, 31))
    submit(app, "focus_form_0")
    assert any(s.startswith("已移出：演示县06") for s in [e.value for e in app.success])
    # and put another county on it
    app.radio(key="focus_form_1_action").set_value("add")
    app.selectbox(key="focus_form_1_county").set_value(OTHER_COUNTY)
    app.text_area(key="focus_form_1_reason").set_value("收入大幅下滑")
    submit(app, "focus_form_1")
    listed = shown_focus_list(app)
    assert listed[["县区", "原因", "操作人"]].values.tolist() == [["演示县03", "收入大幅下滑", ANALYST],
                                                         ["演示县17", listed["原因"].iloc[1], "—"]]
    assert listed["原因"].iloc[1].startswith("库款保障水平")  # computed: the tier reasons, in full
    assert listed["来源"].tolist() == ["人工", "计算"]
    app.session_state["focus_history_open"] = True  # the records, once the reader opens them
    entries = table(run(app), "action_label")
    assert entries[["action_label", "county_name", "by"]].values.tolist() == [["列入", "演示县03", ANALYST],
                                                                             ["移出", "演示县06", ANALYST]]
    events = [(r["event"], r["user"], r["via"], r.get("county_code")) for r in log.read() if r["event"] == "focus_entry"]
    assert events == [("focus_entry", ANALYST, "dashboard", OTHER_COUNTY), ("focus_entry", ANALYST, "dashboard", TIER3_COUNTY)]


def test_an_edit_without_a_reason_is_refused_and_the_lake_is_untouched(site):
    lake, log = site
    app = open_app(signed_in=True, page="risk")
    before = lake_fingerprint(lake.root)
    app.selectbox(key="focus_form_0_county").set_value(OTHER_COUNTY)
    submit(app, "focus_form_0")
    assert [e.value for e in app.error] == ["未保存：理由不能为空：每次调整重点关注名单都要写明理由"]
    assert lake_fingerprint(lake.root) == before
    assert log.read()[0]["event"] == "edit_rejected"


def test_an_edit_on_a_page_someone_else_changed_meanwhile_is_refused(site):
    lake, _ = site
    app = open_app(signed_in=True, page="risk")
    WriteService(lake).enter_focus(OTHER_COUNTY, "add", "另一位分析员先提交", user="乙")
    before = lake_fingerprint(lake.root)
    app.selectbox(key="focus_form_0_county").set_value(TIER3_COUNTY)
    app.text_area(key="focus_form_0_reason").set_value("基于旧页面")
    submit(app, "focus_form_0")
    assert app.error[0].value.startswith("数据已被他人更新到版本 1")
    assert lake_fingerprint(lake.root) == before


def test_a_viewer_sees_the_records_but_no_form(site):
    lake, _ = site
    WriteService(lake).enter_focus(OTHER_COUNTY, "add", "收入大幅下滑", user="张三", effective_from=dt.date(2026, 11, 1))
    WriteService(lake).add_measure(OTHER_COUNTY, "压减一般性支出", "预算科", dt.date(2026, 12, 15), user="张三")
    app = open_app(signed_in=False, page="risk")
    assert "演示县03" in shown_focus_list(app)["县区"].tolist()
    assert table(app, "measure")["measure"].tolist() == ["压减一般性支出"]
    assert not [b for b in app.button if b.label == "保存调整"] and not app.text_area
    county = open_app(signed_in=False, page="county", county=OTHER_COUNTY)
    assert table(county, "measure")["measure"].tolist() == ["压减一般性支出"]
    assert not [b for b in county.button if b.label in ("保存措施", "保存更新")]


def test_an_analyst_records_and_updates_measures_on_the_county_page(site):
    lake, log = site
    app = open_app(signed_in=True, page="county", county=OTHER_COUNTY)
    form = f"ledger_add_{OTHER_COUNTY}_0"
    app.text_area(key=f"{form}_measure").set_value("压减一般性支出 10%")
    app.text_input(key=f"{form}_owner").set_value("预算科 王")
    app.date_input(key=f"{form}_due").set_value(dt.date(2020, 1, 31))  # long past: 已逾期
    submit(app, form)
    form = f"ledger_add_{OTHER_COUNTY}_1"
    app.text_area(key=f"{form}_measure").set_value("盘活存量资金")
    app.text_input(key=f"{form}_owner").set_value("国库科 李")
    app.date_input(key=f"{form}_due").set_value(dt.date(2099, 12, 31))
    submit(app, form)
    measures = table(app, "measure")
    assert measures[["measure", "owner", "状态"]].values.tolist() == [
        ["压减一般性支出 10%", "预算科 王", "已逾期"], ["盘活存量资金", "国库科 李", "未开始"]]
    # mark the first one done
    app.selectbox(key="ledger_update_pick").set_value(1)
    run(app)
    update = "ledger_update_1_1_0"
    app.selectbox(key=f"{update}_status").set_value("done")
    app.text_input(key=f"{update}_note").set_value("已完成，见 12 月报告")
    submit(app, update)
    measures = table(app, "measure")
    assert measures[["measure", "状态"]].values.tolist() == [
        ["压减一般性支出 10%", "已完成"], ["盘活存量资金", "未开始"]]
    assert measures["note"].tolist() == ["已完成，见 12 月报告", "—"]
    history = table(app, "revision")
    assert history[["measure_id", "revision", "by"]].values.tolist() == [["1", "2", ANALYST], ["2", "1", ANALYST],
                                                                        ["1", "1", ANALYST]]
    assert [r["event"] for r in log.read()][:3] == ["ledger_entry"] * 3


def test_meeting_mode_shows_the_open_measures_overdue_first_without_forms(site):
    lake, _ = site
    service = WriteService(lake)
    service.add_measure(TIER3_COUNTY, "督促足额存入工资专户", "国库科", dt.date(2099, 1, 31), user="张三")
    service.add_measure(TIER3_COUNTY, "约谈县财政局", "预算科", dt.date(2020, 1, 31), user="张三")
    service.add_measure(TIER3_COUNTY, "已办结的事项", "预算科", dt.date(2020, 1, 31), status="done", user="张三")
    service.add_measure(OTHER_COUNTY, "不在名单上的县区", "预算科", dt.date(2020, 1, 31), user="张三")
    app = open_app(signed_in=True, page="risk", meeting="1")
    measures = table(app, "measure")
    assert measures[["county_name", "measure", "状态"]].values.tolist() == [
        ["演示县06", "约谈县财政局", "已逾期"], ["演示县06", "督促足额存入工资专户", "未开始"]]
    assert not [b for b in app.button if b.label == "保存调整"]


def test_the_whole_story_a_new_analyst_the_meeting_the_cli_and_a_rollback(site):
    """Sign in, take a tier-3 county off the list until a date, add another, record two measures
    for it, see it all in meeting mode and in the audit log, get the same list as `focus list`,
    then upload an extract and roll it back without losing any of it."""
    from fiscal.focus import focus_list
    from fiscal.policy import load_policy
    from tests.upload_support import UPLOADS

    lake, log = site
    app = open_app(signed_in=True, page="risk")
    app.radio(key="focus_form_0_action").set_value("remove")
    app.selectbox(key="focus_form_0_county").set_value(TIER3_COUNTY)
    app.text_area(key="focus_form_0_reason").set_value("已调度资金，工资专户已足额")
    app.date_input(key="focus_form_0_until").set_value(dt.date(2026, 12, 31))
    submit(app, "focus_form_0")
    app.selectbox(key="focus_form_1_county").set_value(OTHER_COUNTY)
    app.text_area(key="focus_form_1_reason").set_value("收入大幅下滑")
    submit(app, "focus_form_1")

    app.switch_page("../pages/county.py")
    run(app)
    app.selectbox(key="county").set_value(OTHER_COUNTY)
    run(app)
    for n, (measure, due) in enumerate((("压减一般性支出", dt.date(2026, 12, 15)), ("盘活存量资金", dt.date(2026, 11, 30)))):
        form = f"ledger_add_{OTHER_COUNTY}_{n}"
        app.text_area(key=f"{form}_measure").set_value(measure)
        app.text_input(key=f"{form}_owner").set_value("预算科")
        app.date_input(key=f"{form}_due").set_value(due)
        submit(app, form)

    app.switch_page("../pages/risk.py")
    run(app)
    app.toggle(key="meeting").set_value(True)
    run(app)
    shown = shown_focus_list(app)
    assert shown[["县区", "来源"]].values.tolist() == [["演示县03", "人工"], ["演示县17", "计算"]]
    assert table(app, "measure")["measure"].tolist() == ["盘活存量资金", "压减一般性支出"]  # by due date
    assert not [b for b in app.button if b.label == "保存调整"]

    snapshot = lake.snapshot()
    as_of = app.date_input(key="as_of").value
    assert focus_list(snapshot, as_of, load_policy())[["county_code", "source"]].values.tolist() == [
        [OTHER_COUNTY, "manual"], ["990207", "computed"]]

    app.toggle(key="meeting").set_value(False)
    app.switch_page("../pages/data.py")
    run(app)
    [audit] = [d.value["事件"].tolist() for d in app.dataframe if "事件" in d.value.columns]  # the audit log: a grid
    assert audit[:4] == ["记录工作台账", "记录工作台账", "调整重点关注名单", "调整重点关注名单"]

    before_upload = lake.lake_version()
    app.file_uploader[0].set_value(("good_treasury.csv", (UPLOADS / "good_treasury.csv").read_bytes(), "text/csv"))
    run(app)
    app.button(key="dm_commit").click()
    run(app)
    assert lake.lake_version() == before_upload + 1
    entries, measures = lake.read("focus"), lake.read("ledger")
    app.selectbox(key=f"dm_rb_version_{before_upload + 1}").set_value(before_upload)
    app.button(key="dm_rb_start").click()
    run(app)
    app.button(key="dm_rb_confirm").click()
    run(app)
    assert lake.history()[0].operation == "rollback"
    assert lake.read("focus").equals(entries) and lake.read("ledger").equals(measures)
    assert focus_list(lake.snapshot(), as_of, load_policy())[["county_code", "source"]].values.tolist() == [
        [OTHER_COUNTY, "manual"], ["990207", "computed"]]
    assert [r["event"] for r in log.read()][:2] == ["rollback", "ingest"]
