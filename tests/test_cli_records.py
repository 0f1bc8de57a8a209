"""`focus` and `ledger` on the command line (SPEC §9.6), as outside checks run them, and the
whole story: entries and measures survive the rollback of an extract upload; every write is audited."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fiscal.audit import AuditLog
from fiscal.focus import FOCUS_KEYS
from fiscal.ledger import LEDGER_KEYS
from tests.test_lake import lake_fingerprint

ROOT = Path(__file__).resolve().parent.parent
A = "2026-11-20"  # the demo lake's latest treasury date


@pytest.fixture
def demo(tmp_path):
    lake = shutil.copytree(ROOT / "data" / "demo", tmp_path / "demo")
    return lake, tmp_path / "audit"


def fiscal(demo, *args: str) -> subprocess.CompletedProcess:
    lake, audit = demo
    return subprocess.run([sys.executable, "-m", "fiscal", *map(str, args), "--data", str(lake)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env={**os.environ, "FISCAL_AUDIT": str(audit)})


def listed(demo, as_of: str = A) -> list[dict]:
    result = fiscal(demo, "focus", "list", "--as-of", as_of, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def reasons_of(demo, code: str) -> str:
    result = fiscal(demo, "metrics", "--as-of", A, "--format", "json")
    return "；".join(next(r for r in json.loads(result.stdout) if r["county_code"] == code)["reasons"])


def test_the_list_with_a_removal_and_an_addition(demo):
    computed = listed(demo)
    assert [(r["county_code"], r["tier"], r["source"]) for r in computed] == [("990106", 3, "computed"),
                                                                               ("990207", 3, "computed")]
    assert [tuple(r) for r in computed] == [FOCUS_KEYS] * 2
    assert computed[0]["reason"] == reasons_of(demo, "990106")

    removed = fiscal(demo, "focus", "remove", "990106", "--reason", "已调度资金 5000 万元", "--from", "2026-11-18",
                     "--until", "2026-12-31", "--user", "张三")
    assert removed.returncode == 0, removed.stderr
    added = fiscal(demo, "focus", "add", "990103", "--reason", "收入大幅下滑", "--from", "2026-11-01", "--user", "张三")
    assert added.returncode == 0 and "新版本 2" in added.stdout
    assert listed(demo) == [
        {"county_code": "990103", "county_name": "演示县03", "city_name": "演示甲市", "tier": 0, "source": "manual",
         "reason": "收入大幅下滑"},
        {"county_code": "990207", "county_name": "演示县17", "city_name": "演示乙市", "tier": 3, "source": "computed",
         "reason": reasons_of(demo, "990207")},
    ]
    # before the entries took effect the list was the computed one; after the removal ends 990106 is back
    assert [r["county_code"] for r in listed(demo, "2026-10-31")] == ["990106", "990207"]
    assert "990106" not in [r["county_code"] for r in listed(demo, "2026-11-18")]


@pytest.mark.parametrize("args, message", [
    (("focus", "add", "999999", "--reason", "库款紧张"), "县区代码 999999 不在县区名录中"),
    (("focus", "remove", "990106", "--reason", ""), "理由不能为空"),
    (("focus", "add", "990106"), "理由不能为空"),
    (("focus", "remove", "990106", "--reason", "好转", "--from", "2026-12-01", "--until", "2026-11-01"), "早于生效日期"),
    (("ledger", "add", "999999", "--measure", "措施", "--owner", "人", "--due", "2026-12-01"), "不在县区名录中"),
    (("ledger", "update", "5", "--status", "done"), "没有编号为 5 的措施"),
])
def test_a_refused_command_exits_1_and_leaves_the_lake_byte_identical(demo, args, message):
    lake, audit = demo
    before = lake_fingerprint(lake)
    result = fiscal(demo, *args)
    assert result.returncode == 1
    assert message in result.stderr and "数据湖未改变" in result.stderr
    assert lake_fingerprint(lake) == before
    assert AuditLog(audit).read()[0]["event"] == "edit_rejected"


def test_ledger_add_update_list(demo):
    first = fiscal(demo, "ledger", "add", "990103", "--measure", "压减一般性支出", "--owner", "预算科", "--due",
                   "2026-12-15", "--user", "张三")
    assert first.returncode == 0, first.stderr
    record = json.loads(first.stdout)
    assert tuple(record) == LEDGER_KEYS
    assert {k: record[k] for k in ("measure_id", "revision", "county_name", "status", "status_label", "overdue")} == {
        "measure_id": 1, "revision": 1, "county_name": "演示县03", "status": "not_started", "status_label": "未开始",
        "overdue": False}
    updated = json.loads(fiscal(demo, "ledger", "update", "1", "--status", "推进中", "--note", "已约谈", "--user",
                                "李四").stdout)
    assert (updated["revision"], updated["status"], updated["note"], updated["user"], updated["created_by"]) == (
        2, "in_progress", "已约谈", "李四", "张三")
    fiscal(demo, "ledger", "add", "990207", "--measure", "申请调度资金", "--owner", "国库科", "--due", "2026-11-30",
           "--status", "done", "--user", "张三")
    measures = json.loads(fiscal(demo, "ledger", "list", "--today", "2026-12-20").stdout)
    assert [(m["measure_id"], m["status_label"], m["overdue"]) for m in measures] == [(1, "已逾期", True),
                                                                                      (2, "已完成", False)]
    assert [m["measure_id"] for m in json.loads(fiscal(demo, "ledger", "list", "--open").stdout)] == [1]
    assert [m["measure_id"] for m in json.loads(fiscal(demo, "ledger", "list", "--county", "990207").stdout)] == [2]
    history = json.loads(fiscal(demo, "ledger", "list", "--history").stdout)
    assert [(h["measure_id"], h["revision"]) for h in history] == [(2, 1), (1, 2), (1, 1)]


def test_a_rollback_of_an_upload_keeps_the_list_and_the_ledger(demo):
    lake, audit = demo
    fiscal(demo, "focus", "remove", "990106", "--reason", "已调度资金", "--from", "2026-11-18", "--user", "张三")
    fiscal(demo, "ledger", "add", "990106", "--measure", "督促足额存入工资专户", "--owner", "国库科", "--due",
           "2026-11-25", "--user", "张三")
    ingested = fiscal(demo, "ingest", ROOT / "tests" / "files" / "uploads" / "good_treasury.csv", "--kind", "treasury",
                      "--user", "李四")
    assert ingested.returncode == 0 and "已导入，新版本 3" in ingested.stdout
    fiscal(demo, "focus", "add", "990103", "--reason", "收入下滑", "--from", "2026-11-01", "--user", "张三")
    ledger_before = fiscal(demo, "ledger", "list", "--history").stdout
    list_before = listed(demo)

    rolled = fiscal(demo, "rollback", "2", "--user", "李四")
    assert rolled.returncode == 0 and "新版本 5" in rolled.stdout
    assert "2026-11-21" not in fiscal(demo, "metrics", "--format", "json").stdout  # the upload's day is gone
    assert listed(demo) == list_before  # the list keeps both entries (one made after the upload)
    assert fiscal(demo, "ledger", "list", "--history").stdout == ledger_before
    refused = fiscal(demo, "rollback", "9", "--user", "李四")
    assert refused.returncode == 1 and "没有版本 9" in refused.stderr

    events = [(r["event"], r["user"], r["via"]) for r in AuditLog(audit).read()][::-1]
    assert events == [("focus_entry", "张三", "cli"), ("ledger_entry", "张三", "cli"), ("ingest", "李四", "cli"),
                      ("focus_entry", "张三", "cli"), ("rollback", "李四", "cli"), ("rollback_failed", "李四", "cli")]
