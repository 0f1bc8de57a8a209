"""The 数据管理 page through Streamlit's AppTest: access, the report, the preview, commit, rollback, audit."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from fiscal import offload
from fiscal.audit import AuditLog
from fiscal.ingest import ingest
from fiscal.lake import Lake
from fiscal.reports import latest_date
from tests.upload_support import ANALYST, PASSWORD, ROOT, UPLOADS, analyst_site, build_demo, fingerprint

ENTRY = ROOT / "tests" / "dashboard_entry.py"  # the router, as `streamlit run dashboard.py` runs it


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory):
    return build_demo(tmp_path_factory.mktemp("template") / "lake")


class Page:
    def __init__(self, tmp: Path):
        self.lake = Lake(tmp / "lake")
        self.secrets = tmp / "secrets.toml"
        self.log = AuditLog(tmp / "audit")
        self.at = self.new_session()

    def new_session(self) -> AppTest:
        app = AppTest.from_file(str(ENTRY), default_timeout=30)
        self.on_data_page = False
        return app

    def run(self):
        if not self.on_data_page:  # the first run lands on 总览; then open 数据管理 through the router
            self.at.run()
            self.at.switch_page("../pages/data.py")
            self.on_data_page = True
        self.at.run()
        assert not self.at.exception, [e.value for e in self.at.exception]
        return self

    def texts(self, kind: str) -> list[str]:
        """The page's own elements of a kind: main area, without the theme's <style> block."""
        return [e.value for e in getattr(self.at.main, kind) if not str(e.value).startswith("<style")]

    def sign_in(self, name: str = ANALYST, password: str = PASSWORD):
        self.at.text_input(key="dm_user").set_value(name)
        self.at.text_input(key="dm_password").set_value(password)
        next(b for b in self.at.button if b.label == "登录").click()
        return self.run()

    def upload(self, path: Path, name: str | None = None, data: bytes | None = None):
        content = path.read_bytes() if data is None else data
        self.at.file_uploader[0].set_value((name or path.name, content, "application/octet-stream"))
        return self.run()

    def button(self, key: str):
        return self.at.button(key=key)

    def has_button(self, key: str) -> bool:
        return any(b.key == key for b in self.at.button)

    def tables(self, column: str) -> list:
        """The st.dataframe values that have `column` (AppTest does not expose their keys)."""
        return [d.value for d in self.at.dataframe if column in d.value.columns]

    def errors_table(self):
        assert self.texts("error") and self.texts("error")[0].startswith("发现")
        return self.tables("问题")[0]

    def events(self) -> list[str]:
        return [r["event"] for r in self.log.read()]


@pytest.fixture
def page(demo_template, tmp_path, monkeypatch):
    analyst_site(demo_template, tmp_path, monkeypatch)
    monkeypatch.delenv("FISCAL_MAX_UPLOAD_BYTES", raising=False)
    return Page(tmp_path)


@pytest.fixture
def analyst(page):
    return page.run().sign_in()


# ---------------------------------------------------------------- access

def test_without_accounts_uploading_is_disabled_with_a_clear_message(page):
    page.secrets.unlink()
    page.run()
    assert page.texts("warning") == ["尚未配置分析员账号：上传、导入和回滚数据已停用（查看不受影响）。"
                                     "管理员可在服务器上运行 `python -m fiscal add-user 用户名` 添加账号。"]
    assert not page.at.file_uploader and not page.at.text_input
    assert page.tables("版本")[0]["版本"].tolist() == [0]  # viewing stays open


def test_a_viewer_sees_versions_but_not_the_log_and_cannot_upload_or_roll_back(page):
    page.log.append("login_failure", ANALYST, method="password", failures=1)
    page.run()
    assert not page.at.file_uploader
    assert "上传和导入需要分析员登录。" in page.texts("info") and "回滚需要分析员登录。" in page.texts("info")
    assert not page.has_button("dm_rb_start") and not page.has_button("dm_commit")
    history = page.tables("版本")[0]
    assert history.iloc[0][["版本", "操作"]].tolist() == [0, "演示数据"] and "操作人" not in history
    assert "操作日志仅对已登录的分析员显示。" in page.texts("info")
    assert not page.tables("事件")  # no audit table for a viewer


def test_one_session_is_throttled_before_the_account_locks_and_two_lock_it(page):
    page.run()
    page.sign_in(password="wrong-1")
    assert page.texts("error") == ["用户名或密码错误（再错 4 次将锁定 15 分钟）"]
    for attempt in range(2, 4):
        page.sign_in(password=f"wrong-{attempt}")
    page.sign_in(password="wrong-4")
    [message] = page.texts("error")
    assert message.startswith("本机登录失败次数过多，已暂停登录，请于 ")
    page.sign_in()  # throttled: even the right password waits
    assert page.texts("error")[0].startswith("本机登录失败次数过多") and not page.at.file_uploader
    page.at = page.new_session()  # another browser session: the fifth failure locks the account
    page.run().sign_in(password="wrong-5")
    assert page.texts("error")[0].startswith("连续 5 次登录失败，账户已锁定 15 分钟，请于 ")
    page.at = page.new_session()
    page.run().sign_in()
    assert page.texts("error")[0].startswith("账户已锁定") and not page.at.file_uploader
    assert page.events()[:3] == ["login_locked", "lockout", "login_failure"]
    assert page.events().count("login_failure") == 5 and page.events().count("login_throttled") == 1


def test_sign_in_and_out(analyst):
    assert analyst.texts("markdown")[0] == f"已登录分析员：**{ANALYST}**\u3000可以上传、导入和回滚数据。"
    assert analyst.at.file_uploader and "回滚需要分析员登录。" not in analyst.texts("info")
    analyst.button("dm_logout").click()
    analyst.run()
    assert not analyst.at.file_uploader
    assert analyst.events()[:2] == ["logout", "login_success"]


def test_a_removed_account_is_signed_out_on_the_next_run(analyst):
    analyst.secrets.write_text('[analysts."someone-else"]\npassword_hash = "scrypt$1$1$1$AA==$AA=="\n', encoding="utf-8")
    analyst.run()
    assert not analyst.at.file_uploader and analyst.at.text_input(key="dm_user")


def test_a_sign_in_expires_after_eight_hours(analyst):
    since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=8, minutes=1)
    analyst.at.session_state["dm_identity"] = {"name": ANALYST, "since": since.isoformat()}
    analyst.run()
    assert not analyst.at.file_uploader and analyst.at.text_input(key="dm_user")


def test_oidc_user_on_the_allow_list_is_an_analyst(page):
    page.secrets.write_text('[oidc_analysts]\nemails = ["li@czj.example.gov.cn"]\n', encoding="utf-8")
    page.at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x"}
    page.at.user = {"is_logged_in": True, "email": "li@czj.example.gov.cn"}
    page.run()
    assert page.texts("markdown")[0].startswith(  # a word joiner before @ stops Markdown's e-mail autolink
        "已登录分析员：**li\u2060@" + r"czj\.example\.gov\.cn（统一身份认证）**")
    assert page.at.file_uploader
    page.run()
    assert page.events() == ["login_success"]  # once per session
    page.at.user = {"is_logged_in": True, "email": "wang@czj.example.gov.cn"}
    page.run()
    assert "wang\u2060@" + r"czj\.example\.gov\.cn 不在分析员名单中，不能上传、导入和回滚数据。" in page.texts("warning")
    assert not page.at.file_uploader


# ---------------------------------------------------------------- a good upload

def test_good_upload_preview_then_commit_changes_what_the_dashboards_read(analyst):
    lake, before = analyst.lake, fingerprint(analyst.lake.root)
    key_before = lake.snapshot().key
    analyst.upload(UPLOADS / "good_treasury.csv", name="C:\\报表\\11月21日库款.csv")
    assert analyst.at.selectbox(key=next(s.key for s in analyst.at.selectbox if s.key.startswith("dm_kind_"))).value == "treasury"
    assert [(m.label, m.value) for m in analyst.at.metric] == [("新增行", "2"), ("替换行", "1"), ("涉及县区", "2")]
    assert "**日期范围**：2026-11-20 至 2026-11-21" in analyst.texts("markdown")
    assert any("文件「11月21日库款\\.csv」：库款日报" in c for c in analyst.texts("caption"))  # Markdown-escaped
    assert fingerprint(lake.root) == before  # nothing written by the preview
    analyst.button("dm_commit").click()
    analyst.run()
    [success] = analyst.texts("success")
    assert success == "已导入「11月21日库款\\.csv」：库款日报 3 行，新增 2 行，替换 1 行，新版本 1。各看板已使用新数据。"
    newest = lake.history()[0]
    assert (newest.lake_version, newest.user, newest.file_name, newest.inserted, newest.updated) == \
        (1, ANALYST, "11月21日库款.csv", 2, 1)
    snapshot = lake.snapshot()
    assert snapshot.key != key_before and latest_date(snapshot) == dt.date(2026, 11, 21)
    record = analyst.log.read()[0]
    assert (record["event"], record["user"], record["kind"], record["version"], record["rows"], record["sha256"]) == \
        ("ingest", ANALYST, "treasury", 1, 3, newest.sha256)
    assert not analyst.has_button("dm_commit")  # the uploader was reset
    assert analyst.tables("版本")[0]["版本"].tolist() == [1, 0]


def test_units_in_yuan_are_detected_and_the_preview_is_the_same(analyst):
    analyst.upload(UPLOADS / "good_treasury_gbk_yuan.csv")
    assert any("金额单位元" in c for c in analyst.texts("caption"))
    assert [m.value for m in analyst.at.metric] == ["2", "1", "2"]
    analyst.at.selectbox(key="dm_unit").set_value("万元")
    analyst.run()
    assert analyst.errors_table()["问题"].iloc[0].startswith("上传时选择的单位是「万元」，但文件中写明单位为「元」")
    assert not analyst.has_button("dm_commit")


def test_a_file_without_a_unit_needs_the_analyst_to_choose_one(analyst):
    analyst.upload(UPLOADS / "treasury_no_unit.csv")
    assert any("金额单位未写明（暂按万元读取）" in c for c in analyst.texts("caption"))
    assert any(w.startswith("文件中没有写明金额单位") for w in analyst.texts("warning"))
    assert not analyst.has_button("dm_commit") and [m.value for m in analyst.at.metric] == ["2", "1", "2"]
    analyst.at.selectbox(key="dm_unit").set_value("万元")
    analyst.run()
    assert analyst.has_button("dm_commit") and any("金额单位万元" in c for c in analyst.texts("caption"))


def test_the_lake_moving_on_between_check_and_commit_asks_again(analyst):
    analyst.upload(UPLOADS / "good_treasury.csv")
    assert [m.value for m in analyst.at.metric][:2] == ["2", "1"]
    # Another analyst commits the same rows meanwhile.
    ingest(analyst.lake, UPLOADS / "good_treasury.csv", user="other")
    analyst.button("dm_commit").click()
    analyst.run()
    assert analyst.lake.lake_version() == 1  # not committed on the strength of a stale preview
    assert "检查之后数据湖已更新到版本 1，已按最新数据重新计算变更预览，请确认后再导入" in analyst.texts("warning")
    assert [m.value for m in analyst.at.metric][:2] == ["0", "3"]
    analyst.button("dm_commit").click()
    analyst.run()
    assert analyst.lake.lake_version() == 2 and analyst.texts("success")


# ---------------------------------------------------------------- bad uploads

BAD_FILES = [
    ("unknown_headers.csv", "无法判断文件的数据类型：第 1 行的列名为「编号」「名称」「金额」，与任何一类数据的必需列都不匹配"),
    ("missing_column.csv", "无法判断文件的数据类型：第 1 行的列名为「区划代码」「日期」「库款余额」「库款流入」，与任何一类数据的"
                           "必需列都不匹配；最接近「库款日报」，缺少：库款流出（可用列名：库款流出、本期库款流出、流出、outflow）"),
    ("text_amount.csv", "不是有效的数字"),
    ("formula_amount.csv", "不是有效的数字"),
    ("duplicate_keys.csv", "与第 2 行重复：同一「区划代码、日期」只能有一行"),
    ("unknown_county.csv", "区划代码不在县区名录中，请先在县区名录中补充该县区"),
    ("negative_balance.csv", "金额不能为负数"),
    ("revenue_totals.xlsx", "收入类别不能是合计/总计/小计：合计数由系统按类别汇总，一并上传会重复计算，请删除此行"),
    ("empty.csv", "文件为空"),
    ("header_only.csv", "只有表头，没有数据行"),
    ("corrupt.xlsx", "文件已损坏或不是有效的 Excel（.xlsx）文件，无法打开"),
    ("not_excel.xlsx", "文件已损坏或不是有效的 Excel（.xlsx）文件，无法打开"),
    ("old_format.xls", "这是旧版 Excel（.xls）或加密的 Excel 文件，请在 Excel 中另存为不加密的 .xlsx 后再上传"),
]
ROWS = {"text_amount.csv": (3, "库款余额", "一万二"), "formula_amount.csv": (2, "库款余额", "=1+2"),
        "duplicate_keys.csv": (3, "区划代码 + 日期", "990101，2026/11/21"),
        "unknown_county.csv": (3, "区划代码", "999999"), "negative_balance.csv": (2, "库款余额", "-12.5"),
        "revenue_totals.xlsx": (5, "收入类别", "合计")}


@pytest.mark.parametrize("name, rule", BAD_FILES, ids=[n for n, _ in BAD_FILES])
def test_each_bad_file_is_rejected_with_its_message_and_the_lake_untouched(analyst, name, rule):
    before = fingerprint(analyst.lake.root)
    analyst.upload(UPLOADS / name)
    assert analyst.texts("error")[0].startswith("发现 1 个错误，整个文件不能导入，数据未做任何改变。")
    table = analyst.errors_table()
    assert list(table.columns) == ["行", "列", "值", "问题"] and table["问题"].tolist() == [rule]
    if name in ROWS:
        assert tuple(table.iloc[0][["行", "列", "值"]]) == ROWS[name]
    assert not analyst.has_button("dm_commit") and not analyst.at.metric
    assert {b.key for b in analyst.at.get("download_button")} >= {"dm_report_csv", "dm_report_xlsx"}
    assert fingerprint(analyst.lake.root) == before
    assert analyst.events()[0] == "upload_rejected"


def test_the_file_is_checked_in_a_child_process_with_its_stages_shown(analyst):
    analyst.upload(UPLOADS / "good_treasury.csv")
    assert [s.label for s in analyst.at.get("status")] == ["读取、校验完成"]
    analyst.button("dm_commit").click()
    analyst.run()
    assert analyst.texts("success")[0].startswith("已导入")


def test_a_check_past_its_time_limit_is_stopped_with_a_chinese_message(analyst, monkeypatch):
    monkeypatch.setattr(offload, "CHECK_SECONDS", 0.001)  # the child cannot finish in a millisecond
    before = fingerprint(analyst.lake.root)
    analyst.upload(UPLOADS / "good_treasury.csv")
    assert analyst.errors_table()["问题"].tolist() == [
        "文件检查超过 0.001 秒仍未完成，已停止，数据未做任何改变；请导出为 CSV，或按月份、地区拆分后分批上传"]
    assert [s.label for s in analyst.at.get("status")] == ["读取、校验结束：发现问题（见下方）"]
    assert not analyst.has_button("dm_commit") and fingerprint(analyst.lake.root) == before
    assert analyst.events()[0] == "upload_rejected"


def test_wrong_kind_chosen_for_the_file(analyst):
    before = fingerprint(analyst.lake.root)
    analyst.upload(UPLOADS / "payroll_account.csv")
    kind = next(s for s in analyst.at.selectbox if s.key.startswith("dm_kind_"))
    assert kind.value == "payroll_account" and kind.label == "数据类型（已按表头识别，请确认）"
    kind.set_value("treasury")
    analyst.run()
    assert analyst.errors_table()["问题"].tolist() == [
        "文件看起来是「工资专户余额」而不是「库款日报」，请检查所选的数据类型或上传的文件"]
    assert not analyst.has_button("dm_commit") and fingerprint(analyst.lake.root) == before


def test_a_file_over_the_limit(analyst, monkeypatch):
    monkeypatch.setenv("FISCAL_MAX_UPLOAD_BYTES", "1024")
    analyst.run()  # the uploader is redrawn with the new limit (which resets it)
    assert "单个文件不超过 1.0 KB" in analyst.at.file_uploader[0].label
    before = fingerprint(analyst.lake.root)
    good = (UPLOADS / "good_treasury.csv").read_bytes()
    analyst.upload(UPLOADS / "good_treasury.csv", name="big.csv", data=good + b"\n" * 2000)
    assert analyst.errors_table()["问题"].tolist() == ["文件大小 2.1 KB，超过上限 1.0 KB，请拆分后分批上传"]
    assert fingerprint(analyst.lake.root) == before


def test_warnings_are_shown_apart_and_do_not_block(analyst, tmp_path):
    path = tmp_path / "warn.csv"
    path.write_text("单位：万元\n区划代码,日期,库款余额,库款流入,库款流出\n990103,2026-11-20,100000,0,0\n"
                    "990103,2026-11-21,100050,0,0\n", encoding="utf-8")
    analyst.upload(path)
    assert analyst.texts("warning")[0] == "1 个提示（不影响导入，请核实）"
    warning = analyst.tables("问题")[-1]
    assert warning.iloc[0]["行"] == 4 and warning.iloc[0]["问题"].startswith("库款余额不衔接")
    assert analyst.has_button("dm_commit") and not analyst.texts("error")


# ---------------------------------------------------------------- rollback

def test_rollback_needs_confirmation_and_brings_the_data_back(analyst):
    analyst.upload(UPLOADS / "good_treasury.csv")
    analyst.button("dm_commit").click()
    analyst.run()
    lake = analyst.lake
    assert latest_date(lake.snapshot()) == dt.date(2026, 11, 21)
    analyst.at.selectbox(key="dm_rb_version_1").set_value(0)
    analyst.button("dm_rb_start").click()
    analyst.run()
    assert any(w.startswith("确认回滚：各类上报数据将恢复到版本 0") for w in analyst.texts("warning"))
    assert lake.lake_version() == 1  # nothing happens before the confirmation
    analyst.button("dm_rb_cancel").click()
    analyst.run()
    assert not analyst.has_button("dm_rb_confirm") and lake.lake_version() == 1
    analyst.button("dm_rb_start").click()
    analyst.run()
    analyst.button("dm_rb_confirm").click()
    analyst.run()
    assert analyst.texts("success") == ["已回滚到版本 0，新版本 2。各看板已使用回滚后的数据；重点关注名单调整和工作台账保持不变。"]
    assert latest_date(lake.snapshot()) == dt.date(2026, 11, 20)
    newest = lake.history()[0]
    assert (newest.lake_version, newest.operation, newest.user, newest.note) == (2, "rollback", ANALYST, "回滚到版本 0")
    record = analyst.log.read()[0]
    assert (record["event"], record["to_version"], record["version"], record["via"]) == ("rollback", 0, 2, "dashboard")


# ---------------------------------------------------------------- the audit log on the page

def test_the_audit_log_is_shown_newest_first(analyst):
    analyst.upload(UPLOADS / "empty.csv")
    table = analyst.tables("事件")[0]
    assert table["事件"].tolist()[:2] == ["上传被拒绝", "登录成功"]
    assert table["用户"].tolist()[:2] == [ANALYST, ANALYST]
    assert "文件：empty.csv" in table["详情"].iloc[0]


def test_file_names_are_shown_literally_never_as_markdown(analyst):
    analyst.upload(UPLOADS / "good_treasury.csv", name="[点我](javascript:alert(1))**.csv")
    [caption] = [c for c in analyst.texts("caption") if c.startswith("文件「")]
    assert caption.startswith(r"文件「\[点我\]\(javascript\:alert\(1\)\)\*\*\.csv」")


def test_preview_shows_converted_sample_rows_and_old_against_new(analyst):
    analyst.upload(UPLOADS / "good_treasury_gbk_yuan.csv")  # in 元; line 4 replaces the lake's 2026-11-20 row
    sample = analyst.tables("库款余额")[0]
    assert sample["库款余额"].tolist()[:2] == [9854.67, 12345.67]  # 98,546,700.00 元 → 9,854.67 万元
    # dates shown as dates (a timestamp column would read 2026-11-20 00:00:00)
    [shown] = [d for d in analyst.at.dataframe if "库款流入" in d.value.columns and "区划代码" in d.value.columns]
    assert json.loads(shown.proto.columns)["日期"]["type_config"] == {"type": "date", "format": "YYYY-MM-DD"}
    [replaced] = analyst.tables("库款余额（新值）")
    row = replaced.iloc[0]
    assert row["区划代码"] == "990101" and str(row["日期"]) == "2026-11-20"
    lake = analyst.lake.read("treasury")
    now = lake[(lake["county_code"] == "990101") & (lake["date"].astype(str) == "2026-11-20")]["balance"].item()
    assert row["库款余额（新值）"] == 9854.67 and row["库款余额（现值）"] == now
