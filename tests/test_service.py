"""The write service under stress: a writer killed mid-write, two writers at once, rejected
focus edits, uploads and rollbacks audited like every other write."""
from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from fiscal.audit import AuditLog
from fiscal.lake import Lake
from fiscal.service import COMMITTED, MOVED_ON, REJECTED, WriteService
from tests.conftest import D
from tests.test_lake import committed_log, kill_once_data_file_appears, lake_fingerprint

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def lake(make_lake):
    return make_lake(treasury=[("000001", D(2025, 1, 1), 100.0, 0.0, 0.0), ("000002", D(2025, 1, 1), 50.0, 0.0, 0.0)])


@pytest.mark.parametrize("code, action, reason, start, until, problem", [
    ("999999", "add", "库款紧张", None, None, "县区代码 999999 不在县区名录中"),
    ("", "add", "库款紧张", None, None, "县区代码不能为空"),
    ("000001", "add", "   ", None, None, "理由不能为空"),
    ("000001", "remove", "好转", D(2025, 3, 1), D(2025, 2, 1), "截止日期 2025-02-01 早于生效日期 2025-03-01"),
    ("000001", "delete", "好转", None, None, "调整方式只能是 add（列入）或 remove（移出）"),
    ("000001", "add", "长" * 501, None, None, "理由过长"),
])
def test_a_rejected_focus_edit_leaves_every_byte_of_the_lake(lake, code, action, reason, start, until, problem):
    service = WriteService(lake)
    service.enter_focus("000002", "add", "先有一条", user="a")  # the table exists, so its files must stay too
    before = lake_fingerprint(lake.root)
    outcome = service.enter_focus(code, action, reason, user="张三", effective_from=start, until=until)
    assert outcome.status == REJECTED and any(p.startswith(problem) for p in outcome.problems), outcome.problems
    assert lake_fingerprint(lake.root) == before
    record = service.log.read()[0]
    assert (record["event"], record["user"], record["kind"]) == ("edit_rejected", "张三", "focus")
    assert problem in record["problems"]


def test_a_dashboard_edit_on_a_stale_view_is_refused(lake):
    service = WriteService(lake)
    shown = lake.lake_version()
    service.enter_focus("000001", "add", "甲先提交", user="甲")
    before = lake_fingerprint(lake.root)
    outcome = service.enter_focus("000001", "remove", "乙看的是旧版本", user="乙", expected_version=shown)
    assert (outcome.status, outcome.current) == (MOVED_ON, 1)
    assert "数据已被他人更新到版本 1" in outcome.message
    assert lake_fingerprint(lake.root) == before


def test_ingest_and_rollback_are_audited_with_their_route(lake, tmp_path):
    service = WriteService(lake, via="cli")
    good = tmp_path / "库款.csv"
    good.write_text("区划代码,日期,库款余额,库款流入,库款流出\n000001,2025-01-02,90,0,10\n", encoding="utf-8")
    bad = tmp_path / "坏.csv"
    bad.write_text("区划代码,日期,库款余额,库款流入,库款流出\n000009,2025-01-02,-1,0,10\n", encoding="utf-8")
    assert service.ingest(bad, kind="treasury", user="张三").status == REJECTED
    ingested = service.ingest(good, kind="treasury", user="张三")
    assert (ingested.status, ingested.version) == (COMMITTED, 1)
    assert service.rollback(0, user="李四").status == COMMITTED
    assert service.rollback(9, user="李四").status == REJECTED
    events = [(r["event"], r["user"], r["via"], r.get("version")) for r in service.log.read()][::-1]
    assert events == [("upload_rejected", "张三", "cli", None), ("ingest", "张三", "cli", 1),
                      ("rollback", "李四", "cli", 2), ("rollback_failed", "李四", "cli", None)]


# ---- a writer killed in the middle of a list write ---------------------------------------------
WRITER = """
import sys
import numpy as np, pandas as pd
from fiscal.lake import Lake
n = 2_000_000
rows = pd.DataFrame({"county_code": "000001", "action": "add", "reason": np.char.add("理由", np.arange(n).astype(str)),
                     "effective_from": pd.Timestamp("2025-01-01").date(), "until": None, "user": "killed",
                     "at": pd.Timestamp("2025-06-01", tz="UTC")})
print("writing", flush=True)
Lake(sys.argv[1]).append("focus", rows, user="killed")
print("committed", flush=True)
"""


@pytest.mark.slow
def test_sigkill_during_a_list_write_leaves_the_previous_version_readable(lake, tmp_path):
    WriteService(lake).enter_focus("000001", "add", "库款紧张", user="张三")
    table = lake.root / "focus"
    before_log = committed_log(table)
    caught = False
    for attempt in range(4):
        root = tmp_path / f"attempt{attempt}"
        shutil.copytree(lake.root, root)
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(root)], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert proc.stdout.readline().strip() == "writing"
        assert kill_once_data_file_appears(proc, root / "focus", set((root / "focus").glob("*.parquet")))
        proc.communicate()
        assert proc.returncode == -signal.SIGKILL
        reopened = Lake(root)
        if reopened.lake_version() == 1:  # killed before its commit: the previous version, exactly
            caught = True
            assert committed_log(root / "focus") == before_log
            assert reopened.read("focus")[["county_code", "reason", "user"]].values.tolist() == [
                ["000001", "库款紧张", "张三"]]
            # and the next write goes through (the dead writer's lock is gone) and sweeps its file
            assert WriteService(reopened).enter_focus("000002", "add", "收入下滑", user="李四").version == 2
            assert len(reopened.read("focus")) == 2
            referenced = {Path(u.removeprefix("file://")) for u in reopened.table("focus").file_uris()}
            assert set((root / "focus").glob("*.parquet")) == referenced
            break
        assert len(reopened.read("focus")) == 2_000_001  # or the whole new version
    assert caught


# ---- two writers at once --------------------------------------------------------------------------
def _write_entries(root: str, audit: str, writer: int, count: int) -> None:
    service = WriteService(Lake(root), AuditLog(audit), via="cli")
    for i in range(count):
        outcome = service.enter_focus("000001" if i % 2 else "000002", "add", f"写入者{writer}第{i}条", user=f"w{writer}")
        assert outcome.committed, outcome


def test_two_writers_at_once_are_serialised(lake, tmp_path):
    context = multiprocessing.get_context("spawn")
    procs = [context.Process(target=_write_entries, args=(str(lake.root), str(tmp_path / "audit"), n, 6))
             for n in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(180)
        assert p.exitcode == 0
    entries = lake.read("focus")
    assert sorted(entries["reason"]) == sorted(f"写入者{n}第{i}条" for n in range(2) for i in range(6))
    history = lake.history()
    assert [c.lake_version for c in history] == list(range(12, -1, -1))  # one version each, none lost or shared
    audited = [r for r in AuditLog(tmp_path / "audit").read() if r["event"] == "focus_entry"]
    assert sorted(r["version"] for r in audited) == list(range(1, 13))
    by_version = {c.lake_version: c.user for c in history if c.kinds == ("focus",)}
    assert all(by_version[r["version"]] == r["user"] for r in audited)


def test_a_write_that_cannot_get_the_lock_is_rejected_and_changes_nothing(lake, monkeypatch):
    from filelock import FileLock

    from fiscal.lake import LOCK_NAME

    lock = FileLock(str(lake.root / LOCK_NAME), timeout=0.2)
    monkeypatch.setattr("fiscal.lake.LOCK_TIMEOUT_S", 0.5)
    with lock:
        before = lake_fingerprint(lake.root)
        outcome = WriteService(lake).enter_focus("000001", "add", "等锁", user="甲")
        assert outcome.status == REJECTED and outcome.problems[0].startswith("写入失败，数据未改变")
        assert lake_fingerprint(lake.root) == before
    assert WriteService(lake).enter_focus("000001", "add", "等锁", user="甲").committed


def test_rows_written_are_returned(lake):
    outcome = WriteService(lake, clock=lambda: pd.Timestamp("2025-02-01", tz="UTC")).enter_focus(
        "000001", "remove", "  好转  ", user=" 张三 ", effective_from=D(2025, 1, 15))
    assert outcome.rows[["county_code", "action", "reason", "user"]].values.tolist() == [["000001", "remove", "好转", "张三"]]
