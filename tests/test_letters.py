"""SPEC §9.2 提示函: selection, months_below at its boundaries, the Word letter read back, and the
register (numbers per year, one batch a month, idempotent re-runs, refusals leave the lake as it was)."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json

import pytest
from docx import Document

from fiscal.audit import AuditLog
from fiscal.indicators import json_records
from fiscal.issuing import ISSUED, REFUSED, UNCHANGED, issue
from fiscal.letters import LETTER_KEYS, letter_file_name, letter_rows
from tests.conftest import D
from tests.test_cli import fiscal
from tests.test_lake import lake_fingerprint

A = D(2025, 12, 10)
ISSUED_ON = D(2025, 12, 11)


def month_ends(first: dt.date, last: dt.date) -> list[dt.date]:
    ends, day = [], first
    while day <= last:
        nxt = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        ends.append(nxt - dt.timedelta(days=1))
        day = nxt
    return ends


def county_rows(code: str, first: dt.date, balances: dict[dt.date, float], default: float, at_a: float):
    """One treasury row on each month-end from `first` to 2025-11-30 (outflow 1,000, so every
    coverage is balance ÷ 1,000 once three months of history exist), and one row before A."""
    rows = [(code, end, balances.get(end, default), 1000.0, 1000.0) for end in month_ends(first, D(2025, 11, 30))]
    return rows + [(code, D(2025, 12, 5), at_a, 0.0, 0.0)]


def boundary_lake(make_lake):
    treasury = (
        # below in November (0.40), exactly at the prompt line in October (0.50 is not below) → 1
        county_rows("000001", D(2024, 1, 31), {D(2025, 10, 31): 500.0, D(2025, 11, 30): 400.0}, 2000.0, 200.0)
        # below at every month-end for two years → capped at 12
        + county_rows("000002", D(2024, 1, 31), {}, 100.0, 450.0)
        # rows from July 2025 only: coverage null until October → the run stops at September → 2
        + county_rows("000003", D(2025, 7, 31), {}, 100.0, 100.0)
        # exactly at the prompt line at A: no letter
        + county_rows("000004", D(2024, 1, 31), {}, 100.0, 500.0)
    )
    return make_lake(
        treasury=treasury,
        payroll_schedule=[("000001", D(2025, 12, 15), 300.0)],
        counties=[(c, f"测试县{c[-2:]}", "测试市") for c in ("000001", "000002", "000003", "000004")],
    )


@pytest.fixture
def lake(make_lake):
    return boundary_lake(make_lake)


def rows_by_code(lake, policy):
    frame = letter_rows(lake.snapshot(), A, policy)
    return {r["county_code"]: r for r in frame.to_dict("records")}


def test_months_below_boundaries(lake, policy):
    rows = rows_by_code(lake, policy)
    assert {c: rows[c]["months_below"] for c in rows} == {"000001": 1, "000002": 12, "000003": 2, "000004": 12}
    assert {c: bool(rows[c]["persistent"]) for c in rows} == {
        "000001": False, "000002": True, "000003": True, "000004": True}


def test_selection_is_coverage_below_the_prompt_line_at_a(lake, policy):
    rows = rows_by_code(lake, policy)
    assert {c for c, r in rows.items() if r["letter_due"]} == {"000001", "000002", "000003"}
    assert rows["000004"]["coverage_months"] == pytest.approx(0.5)
    assert rows["000001"]["coverage_months"] == pytest.approx(0.2) and rows["000001"]["coverage_band"] == "预警"
    assert rows["000002"]["coverage_band"] == "偏低"


def test_persistent_months_comes_from_the_policy(lake, policy):
    from dataclasses import replace

    rows = rows_by_code(lake, replace(policy, persistent_months=3))
    assert {c: bool(r["persistent"]) for c, r in rows.items() if r["letter_due"]} == {
        "000001": False, "000002": True, "000003": False}


def test_json_keys_and_order(lake, policy):
    result = issue(lake, A, policy, user="张三", issued_on=ISSUED_ON)
    files = {l.county_code: l.file_name for l in result.letters}
    records = json_records(result.rows.assign(file=result.rows["county_code"].map(files)), LETTER_KEYS)
    assert [tuple(r) for r in records] == [LETTER_KEYS] * 3
    assert [r["county_code"] for r in records] == ["000001", "000002", "000003"]
    assert records[0] | {"coverage_months": None} == {
        "county_code": "000001", "county_name": "测试县01", "city_name": "测试市", "as_of": "2025-12-10",
        "coverage_months": None, "coverage_band": "预警", "months_below": 1, "persistent": False,
        "file": "000001_测试县01_库款保障提示函.docx"}
    assert records[1]["persistent"] is True and records[1]["months_below"] == 12


def paragraphs(content: bytes) -> list[str]:
    return [p.text for p in Document(io.BytesIO(content)).paragraphs if p.text.strip()]


def test_the_letter_read_back(lake, policy):
    letters = {l.county_code: l for l in issue(lake, A, policy, user="张三", issued_on=ISSUED_ON).letters}
    doc = Document(io.BytesIO(letters["000001"].content))
    text = paragraphs(letters["000001"].content)
    assert text[:4] == ["XX市财政局", "X财库函〔2025〕1号", "关于测试县01\n库款保障水平偏低的提示函", "测试县01财政局："]
    body = "\n".join(text)
    # floor 0.3 × 1,000 = 300; top-up 300 (payday 12-15, empty payroll account); need 300 + 300 − 200 = 400
    for phrase in ("截至2025年12月10日，测试县01国库库款余额200.00万元，前12个月月均库款支出1,000.00万元",
                   "库款保障水平为0.20个月，低于预警线（0.30个月），处于“预警”区间",
                   "上月末测试县01库款保障水平已低于提示线",
                   "下次发薪日为2025年12月15日，应发工资300.00万元，须于2025年12月8日（发薪日前7天）前足额存入工资专户；"
                   "截至2025年12月10日，工资专户余额0.00万元",  # no payroll-account row: 0, never "—"
                   "需保有库款600.00万元（其中库款底线300.00万元，工资专户待补足300.00万元），现有库款200.00万元，资金缺口400.00万元",
                   "合理安排支出顺序，优先保障“三保”",
                   "请于2025年12月21日前", "特此函告。"):
        assert phrase in body, phrase
    assert text[-3:] == ["XX市财政局", "2025年12月11日",
                         "（数据截至2025年12月10日，金额单位：万元；库款保障水平＝库款余额÷月均库款支出）"]
    # the month-end trend: six month-ends and A
    table = doc.tables[0]
    assert [c.text for c in table.rows[0].cells][:4] == ["时点", "库款余额（万元）", "月均库款支出（万元）", "库款保障水平（月）"]
    assert [r.cells[0].text for r in table.rows[1:]] == [f"2025年{m}月末" for m in range(6, 12)] + ["2025年12月10日"]
    assert [r.cells[3].text for r in table.rows[-3:]] == ["0.50", "0.40", "0.20"]
    # 公文 layout: A4, margins 37/35/28/26 mm, the red heading, 仿宋_GB2312 body
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert [round(m.mm) for m in (section.top_margin, section.bottom_margin, section.left_margin,
                                  section.right_margin)] == [37, 35, 28, 26]
    heading = doc.paragraphs[0].runs[0]
    assert str(heading.font.color.rgb) == "FF0000"
    opening = next(p for p in doc.paragraphs if p.text.startswith("经监测"))
    fonts = opening.runs[0]._element.rPr.rFonts
    assert fonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia") == "仿宋_GB2312"
    persistent = "\n".join(paragraphs(letters["000002"].content))
    assert "库款保障水平持续偏低的提示函" in persistent and "已连续12个月月末库款保障水平低于提示线，库款持续紧张" in persistent


def test_register_numbers_and_idempotent_rerun(lake, policy, tmp_path):
    first = issue(lake, A, policy, user="张三", issued_on=ISSUED_ON)
    assert first.status == ISSUED
    assert [l.number for l in first.letters] == [f"X财库函〔2025〕{n}号" for n in (1, 2, 3)]
    register = lake.read("letters").sort_values("sequence")
    assert register["number"].tolist() == [l.number for l in first.letters]
    assert register["user"].unique().tolist() == ["张三"]
    assert register["sha256"].tolist() == [hashlib.sha256(l.content).hexdigest() for l in first.letters]
    assert [bytes(c) for c in register["content"]] == [l.content for l in first.letters]
    events = [r for r in AuditLog.for_lake(lake.root).read() if r["event"] == "letters_issued"]
    assert len(events) == 1 and events[0]["user"] == "张三" and events[0]["letters"] == 3

    before = lake_fingerprint(lake.root)
    again = issue(lake, A, policy, user="李四", issued_on=D(2025, 12, 20))  # a re-run days later
    assert again.status == UNCHANGED
    assert [(l.number, l.content, l.issued_on) for l in again.letters] == [
        (l.number, l.content, ISSUED_ON) for l in first.letters]
    assert lake_fingerprint(lake.root) == before


def test_a_second_batch_in_the_month_is_refused_unless_confirmed(lake, policy):
    issue(lake, A, policy, user="张三", issued_on=ISSUED_ON)
    before = lake_fingerprint(lake.root)
    refused = issue(lake, D(2025, 12, 12), policy, user="张三", issued_on=D(2025, 12, 12))
    assert refused.status == REFUSED and not refused.ok
    assert "2025年12月的提示函已签发 3 份" in refused.message and "--again" in refused.message
    assert lake_fingerprint(lake.root) == before
    assert AuditLog.for_lake(lake.root).read(1)[0]["event"] == "edit_rejected"

    confirmed = issue(lake, D(2025, 12, 12), policy, user="张三", issued_on=D(2025, 12, 12), again=True)
    assert confirmed.status == ISSUED
    assert [l.number for l in confirmed.letters] == [f"X财库函〔2025〕{n}号" for n in (4, 5, 6)]


def test_numbers_restart_with_the_year_of_issue(lake, policy):
    issue(lake, A, policy, user="张三", issued_on=ISSUED_ON)
    january = issue(lake, D(2026, 1, 5), policy, user="张三", issued_on=D(2026, 1, 6))
    assert january.status == ISSUED
    assert january.letters[0].number == "X财库函〔2026〕1号"


def test_file_names_are_never_paths():
    assert letter_file_name("000001", "../../etc/passwd") == "000001_etcpasswd_库款保障提示函.docx"
    assert letter_file_name("000001", "A县\n<b>") == "000001_A县b_库款保障提示函.docx"


def test_cli_writes_the_files_and_a_rerun_gives_the_same_json(lake, tmp_path):
    out = tmp_path / "out"
    first = fiscal("letters", "--data", lake.root, "--as-of", "2025-12-10", "--out", out, "--format", "json")
    assert first.returncode == 0, first.stderr
    records = json.loads(first.stdout)
    assert [r["county_code"] for r in records] == ["000001", "000002", "000003"]
    assert all(tuple(r) == LETTER_KEYS and (out / r["file"]).is_file() for r in records)
    assert "测试县02财政局：" in paragraphs((out / records[1]["file"]).read_bytes())
    rerun = fiscal("letters", "--data", lake.root, "--as-of", "2025-12-10", "--out", tmp_path / "again")
    assert rerun.returncode == 0 and json.loads(rerun.stdout) == records
    assert (tmp_path / "again" / records[0]["file"]).read_bytes() == (out / records[0]["file"]).read_bytes()
    refused = fiscal("letters", "--data", lake.root, "--as-of", "2025-12-11", "--out", tmp_path / "third")
    assert refused.returncode == 1 and "--again" in refused.stderr
