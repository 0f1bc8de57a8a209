"""The audit log: where it lives, append-only JSON Lines, serialised appends, tolerant reading."""
from __future__ import annotations

import json
import multiprocessing
import threading

import pytest

from fiscal.audit import AuditError, AuditLog, audit_dir_for, describe


def test_default_location_is_beside_the_lake_never_inside(tmp_path, monkeypatch):
    monkeypatch.delenv("FISCAL_AUDIT", raising=False)
    lake = tmp_path / "data" / "demo"
    assert audit_dir_for(lake) == (tmp_path / "data" / "audit" / "demo").resolve()
    monkeypatch.setenv("FISCAL_AUDIT", str(tmp_path / "elsewhere"))
    assert audit_dir_for(lake) == (tmp_path / "elsewhere").resolve()
    for inside in (lake, lake / "audit"):
        monkeypatch.setenv("FISCAL_AUDIT", str(inside))
        with pytest.raises(AuditError, match="位于数据湖"):
            audit_dir_for(lake)


def test_records_come_back_newest_first(tmp_path):
    log = AuditLog(tmp_path / "audit")
    assert log.read() == []
    log.append("login_success", "张三", method="password")
    log.append("ingest", "张三", kind="treasury", file_name="库款.csv", sha256="ab" * 32, rows=3, version=1)
    records = log.read()
    assert [r["event"] for r in records] == ["ingest", "login_success"]
    assert records[0]["user"] == "张三" and records[0]["rows"] == 3 and records[0]["ts"].endswith("+00:00")
    assert [r["event"] for r in log.read(limit=1)] == ["ingest"]
    assert "库款.csv" in log.path.read_text(encoding="utf-8")  # UTF-8, not \u escapes


def test_appending_never_rewrites_earlier_bytes(tmp_path):
    log = AuditLog(tmp_path / "audit")
    log.append("login_failure", "a", failures=1)
    before = log.path.read_bytes()
    log.append("lockout", "a", failures=5)
    after = log.path.read_bytes()
    assert after.startswith(before) and after.count(b"\n") == 2


def test_a_torn_line_is_skipped_and_later_lines_still_read(tmp_path):
    log = AuditLog(tmp_path / "audit")
    log.append("login_success", "a")
    with open(log.path, "ab") as handle:
        handle.write(b'{"ts": "2026-01-01T00:00:00+00:00", "event": "ing')  # a writer died mid-line
        handle.write(b"\n")
    log.append("logout", "a")
    assert [r["event"] for r in log.read()] == ["logout", "login_success"]


def test_concurrent_appends_from_threads_all_land_intact(tmp_path):
    log = AuditLog(tmp_path / "audit")

    def work(n):
        for i in range(40):
            log.append("ingest", f"user{n}", note="x" * 500, i=i)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = log.path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 240 and all(json.loads(line)["note"] == "x" * 500 for line in lines)


def _append_many(folder: str, n: int) -> None:
    log = AuditLog(folder)
    for i in range(30):
        log.append("login_failure", f"p{n}", i=i, padding="填" * 1000)


def test_concurrent_appends_from_processes_all_land_intact(tmp_path):
    folder = tmp_path / "audit"
    context = multiprocessing.get_context("spawn")
    procs = [context.Process(target=_append_many, args=(str(folder), n)) for n in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    records = [json.loads(line) for line in (folder / "audit.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(records) == 120
    assert {(r["user"], r["i"]) for r in records} == {(f"p{n}", i) for n in range(4) for i in range(30)}


def test_describe_names_the_details_in_chinese():
    text = describe({"ts": "x", "event": "ingest", "user": "u", "kind": "treasury", "file_name": "a.csv",
                     "sha256": "0123456789abcdef" * 4, "rows": 3, "version": 4, "inserted": 2, "updated": 1})
    assert text == "数据类型：库款日报；文件：a.csv；行数：3；新版本：4；新增：2；替换：1；SHA-256：0123456789abcdef…"
    assert describe({"event": "lockout", "failures": 5, "locked_until": "2026-11-21T01:15:00+00:00"}) == \
        "连续失败次数：5；锁定至：2026-11-21 09:15（北京时间）"
