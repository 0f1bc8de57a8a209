"""The Delta lake: upsert by key, lake-wide history, rollback, crash safety."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from fiscal.lake import TEMPORARY_COMMIT, Lake, LakeChanged, LakeError
from tests.conftest import D, counties, frame

ROOT = Path(__file__).resolve().parent.parent


def treasury_rows(lake: Lake) -> list[tuple]:
    data = lake.read("treasury").sort_values(["county_code", "date"])
    return [(r.county_code, pd.Timestamp(r.date).date(), r.balance) for r in data.itertuples()]


def lake_fingerprint(root: Path) -> dict[str, str]:
    """sha256 of every file in the lake directory (the writer's lock file aside)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != ".write.lock"}


def committed_log(table: Path) -> dict[str, str]:
    """The committed entries of a table's Delta log (temporary commit files aside)."""
    return {k: v for k, v in lake_fingerprint(table / "_delta_log").items() if not TEMPORARY_COMMIT.fullmatch(k)}


@pytest.fixture
def lake(make_lake):
    return make_lake(treasury=[("000001", D(2025, 1, 1), 100.0, 0.0, 0.0),
                               ("000001", D(2025, 1, 2), 110.0, 10.0, 0.0)],
                     counties=[("000001", "甲县", "测试市"), ("000002", "乙县", "测试市")])


def test_upsert_replaces_same_key_and_keeps_others(lake):
    version = lake.upsert("treasury", frame("treasury", [("000001", D(2025, 1, 2), 120.0, 20.0, 0.0),
                                                          ("000002", D(2025, 1, 2), 50.0, 0.0, 0.0)]),
                          user="分析员", file_name="周报.csv", sha256="ab" * 32)
    assert version == 1
    assert treasury_rows(lake) == [("000001", D(2025, 1, 1), 100.0), ("000001", D(2025, 1, 2), 120.0),
                                   ("000002", D(2025, 1, 2), 50.0)]
    newest = lake.history()[0]
    assert (newest.lake_version, newest.operation_label, newest.user, newest.kinds) == (1, "导入", "分析员", ("treasury",))
    assert (newest.file_name, newest.sha256, newest.rows, newest.inserted, newest.updated) == ("周报.csv", "ab" * 32, 2, 1, 1)


def stored_files(lake: Lake, kind: str) -> list[list[tuple]]:
    """The rows of each current file of a table, in the order they are stored."""
    import pyarrow.parquet as pq

    return [[(r["county_code"], r["date"], r["balance"]) for r in pq.read_table(path).to_pylist()]
            for path in lake.snapshot().files[kind]]


def test_a_daily_table_is_stored_in_date_order_whatever_order_it_came_in(tmp_path):
    lake = Lake(tmp_path / "lake")
    lake.upsert("counties", counties("000001", "000002"), user="a")
    by_county = [(code, D(2025, 1, day), float(day)) for code in ("000002", "000001") for day in (3, 1, 2)]
    lake.upsert("treasury", frame("treasury", [(*row, 0.0, 0.0) for row in by_county]), user="a")
    # sorted by date only (stable): within a day the rows keep the order of the upload
    assert stored_files(lake, "treasury") == [[
        ("000002", D(2025, 1, 1), 1.0), ("000001", D(2025, 1, 1), 1.0), ("000002", D(2025, 1, 2), 2.0),
        ("000001", D(2025, 1, 2), 2.0), ("000002", D(2025, 1, 3), 3.0), ("000001", D(2025, 1, 3), 3.0)]]
    first_load = lake.history()[0]
    assert (first_load.inserted, first_load.updated) == (6, 0)


def test_an_upload_rewrites_the_whole_files_of_its_date_range_in_date_order(tmp_path, monkeypatch):
    import fiscal.lake

    # small files so that the table spans several (the writer cuts files every thousand rows or so)
    monkeypatch.setattr(fiscal.lake, "TARGET_FILE_BYTES", 1)
    monkeypatch.setattr(fiscal.lake, "ROW_GROUP_ROWS", 512)
    day = [D(2021, 1, 1) + dt.timedelta(days=n) for n in range(2001)]
    lake = Lake(tmp_path / "lake")
    lake.upsert("counties", counties("000001", "000002"), user="a")
    lake.upsert("treasury", frame("treasury", [(code, day[n], float(n), 0.0, 0.0)
                                               for code in ("000001", "000002") for n in range(2000)]), user="a")
    before = dict(zip(lake.snapshot().files["treasury"], stored_files(lake, "treasury")))
    # days 1000 and 1001 of one county corrected, day 2000 new for both
    upload = [("000001", day[1001], -1.0, 0.0, 0.0), ("000001", day[1000], -2.0, 0.0, 0.0),
              ("000002", day[2000], -3.0, 0.0, 0.0), ("000001", day[2000], -4.0, 0.0, 0.0)]
    lake.upsert("treasury", frame("treasury", upload), user="b")

    after = dict(zip(lake.snapshot().files["treasury"], stored_files(lake, "treasury")))
    expected = {(code, day[n]): float(n) for code in ("000001", "000002") for n in range(2000)}
    expected |= {("000001", day[1001]): -1.0, ("000001", day[1000]): -2.0,
                 ("000002", day[2000]): -3.0, ("000001", day[2000]): -4.0}
    assert sorted(row for rows in after.values() for row in rows) == sorted((c, d, b) for (c, d), b in expected.items())
    # every file is in date order, but the writer's copy of a date shared with an untouched file
    for rows in after.values():
        dates = [r[1] for r in rows]
        assert dates == sorted(dates) or len(set(dates)) == 1
    # files that hold no date from 1000 to the end were not rewritten
    early = {path for path, rows in before.items() if rows[-1][1] < day[1000]}
    assert len(before) >= 3 and early and early <= set(after)
    newest = lake.history()[0]
    assert (newest.rows, newest.inserted, newest.updated) == (4, 2, 2)


@pytest.mark.parametrize(("spans", "upload", "rewritten"), [
    # one file holding everything (a table written before it was kept in date order): all of it
    ([(1, 30)], (10, 12), (1, 30)),
    # the file holding the upload's days, whole; the neighbours untouched
    ([(1, 9), (10, 19), (20, 30)], (12, 13), (10, 19)),
    # neighbours sharing a first or last date: those dates stay theirs
    ([(1, 10), (10, 20), (20, 30)], (12, 13), (11, 19)),
    # an upload that reaches into a neighbour takes it whole, and so on along shared dates
    ([(1, 10), (10, 20), (20, 30)], (9, 13), (1, 19)),
    # new days after every file touch nothing
    ([(1, 10), (11, 20)], (21, 27), (21, 27)),
    # a file with no recorded dates may hold any date: touched by any upload, it widens the
    # range up to the dates of the files that are not (the writer copies its other rows)
    ([(1, 10), (None, None), (11, 20)], (21, 27), (21, 27)),
    ([(1, 10), (None, None)], (5, 6), (1, 10)),
])
def test_the_rewritten_range_is_whole_files_and_no_date_of_an_untouched_one(spans, upload, rewritten):
    from fiscal.lake import whole_files

    def days(*numbers):
        return tuple(None if n is None else D(2025, 1, 1) + dt.timedelta(days=n - 1) for n in numbers)

    assert whole_files([days(*s) for s in spans], *days(*upload)) == days(*rewritten)


def test_upsert_with_an_expected_version_refuses_a_lake_that_moved_on(lake):
    lake.upsert("treasury", frame("treasury", [("000001", D(2025, 1, 3), 1.0, 0.0, 0.0)]), user="a")
    before = lake_fingerprint(lake.root)
    with pytest.raises(LakeChanged) as refused:
        lake.upsert("treasury", frame("treasury", [("000001", D(2025, 1, 4), 2.0, 0.0, 0.0)]), user="b",
                    expected_version=0)
    assert refused.value.current == 1 and lake_fingerprint(lake.root) == before
    assert lake.upsert("treasury", frame("treasury", [("000001", D(2025, 1, 4), 2.0, 0.0, 0.0)]), user="b",
                       expected_version=1) == 2


def test_history_is_lake_wide_and_newest_first(lake):
    lake.upsert("treasury", frame("treasury", [("000001", D(2025, 1, 3), 1.0, 0.0, 0.0)]), user="a")
    lake.upsert("payroll_schedule", frame("payroll_schedule", [("000001", D(2025, 2, 5), 80.0)]), user="b")
    assert [(c.lake_version, c.kinds) for c in lake.history()] == [
        (2, ("payroll_schedule",)), (1, ("treasury",)), (0, ("counties", "treasury"))]


def test_rollback_restores_every_table_and_is_itself_a_version(lake):
    before = treasury_rows(lake)
    lake.upsert("treasury", frame("treasury", [("000001", D(2025, 1, 1), 999.0, 0.0, 0.0)]), user="a")
    lake.upsert("payroll_schedule", frame("payroll_schedule", [("000001", D(2025, 2, 5), 80.0)]), user="a")
    version = lake.rollback(0, user="组长")
    assert version == 3
    assert treasury_rows(lake) == before
    assert lake.read("payroll_schedule").empty  # created after version 0: emptied
    newest = lake.history()[0]
    assert (newest.operation_label, newest.user, newest.note) == ("回滚", "组长", "回滚到版本 0")
    # and rolling forward again is possible: version 2 had both changes
    lake.rollback(2, user="组长")
    assert treasury_rows(lake)[0] == ("000001", D(2025, 1, 1), 999.0)
    assert len(lake.read("payroll_schedule")) == 1


def test_read_at_an_earlier_version(lake):
    lake.upsert("treasury", frame("treasury", [("000001", D(2025, 1, 1), 999.0, 0.0, 0.0)]), user="a")
    lake.upsert("payroll_schedule", frame("payroll_schedule", [("000001", D(2025, 2, 5), 80.0)]), user="a")
    assert lake.read("treasury", lake_version=0)["balance"].tolist() == [100.0, 110.0]
    assert sorted(lake.read("treasury", lake_version=1)["balance"]) == [110.0, 999.0]
    assert lake.read("payroll_schedule", lake_version=1).empty
    assert len(lake.read("payroll_schedule", lake_version=2)) == 1


def test_rollback_to_unknown_or_current_version_is_refused(lake):
    with pytest.raises(LakeError, match="没有版本 7"):
        lake.rollback(7, user="x")
    with pytest.raises(LakeError, match="已是当前版本"):
        lake.rollback(0, user="x")


def test_snapshot_key_changes_with_each_commit(lake):
    first = lake.snapshot().key
    lake.upsert("treasury", frame("treasury", [("000001", D(2025, 1, 3), 1.0, 0.0, 0.0)]), user="a")
    assert lake.snapshot().key != first


WRITER = """
import sys
import numpy as np, pandas as pd
from fiscal.lake import Lake
n = 3_000_000
data = pd.DataFrame({"county_code": np.char.zfill(np.arange(n).astype(str), 6),
                     "date": pd.Timestamp("2025-01-01").date(), "balance": np.arange(n, dtype=float),
                     "inflow": 0.0, "outflow": 0.0})
print("writing", flush=True)
Lake(sys.argv[1]).upsert("treasury", data, user="killed")
print("committed", flush=True)
"""


def kill_once_data_file_appears(proc: subprocess.Popen, table: Path, known: set[Path]) -> bool:
    """SIGKILL the writer as soon as it has started a new data file; True if it was caught mid-write."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if set(table.glob("*.parquet")) - known:
            proc.send_signal(signal.SIGKILL)
            return True
        time.sleep(0.001)
    return False


@pytest.mark.slow
def test_sigkill_during_commit_leaves_old_or_new_version_never_a_mix(lake, tmp_path):
    """Kill the writer the moment its data file appears. Each attempt runs on a fresh copy of
    the lake and must end with exactly the old version (log byte-identical) or exactly the
    new one; the kill lands before the commit in most attempts, and at least one is required."""
    before_rows = treasury_rows(lake)
    before_log = committed_log(lake.root / "treasury")
    outcomes = []
    for attempt in range(6):
        root = tmp_path / f"attempt{attempt}"
        shutil.copytree(lake.root, root)
        table = root / "treasury"
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(root)], cwd=ROOT,
                                stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert proc.stdout.readline().strip() == "writing"
        assert kill_once_data_file_appears(proc, table, set(table.glob("*.parquet")))
        proc.communicate()
        assert proc.returncode == -signal.SIGKILL
        reopened = Lake(root)
        if reopened.history()[0].lake_version == 0:
            outcomes.append("old")
            assert treasury_rows(reopened) == before_rows
            assert committed_log(table) == before_log
            leftover_root = root
        else:
            outcomes.append("new")
            assert reopened.history()[0].lake_version == 1
            assert len(reopened.read("treasury")) == 3_000_001  # one existing row replaced, one kept
    assert "old" in outcomes, outcomes

    # the lock died with the writer: the next commit goes through and sweeps the leftovers
    lake = Lake(leftover_root)
    table = leftover_root / "treasury"
    referenced_before = {Path(u.removeprefix("file://")) for u in lake.table("treasury").file_uris()}
    assert set(table.glob("*.parquet")) - referenced_before  # the killed writer's file is there
    lake.upsert("treasury", frame("treasury", [("000001", D(2025, 1, 3), 1.0, 0.0, 0.0)]), user="a")
    assert lake.history()[0].lake_version == 1
    referenced_now = {Path(u.removeprefix("file://")) for u in lake.table("treasury").file_uris()}
    assert set(table.glob("*.parquet")) == referenced_before | referenced_now
    assert not [p for p in (table / "_delta_log").iterdir() if TEMPORARY_COMMIT.fullmatch(p.name)]
    assert len(treasury_rows(lake)) == 3
    lake.rollback(0, user="a")  # files of older versions survive the sweep
    assert treasury_rows(lake) == before_rows


def test_snapshot_is_reused_until_a_table_has_a_new_commit_even_in_a_lake_written_anew(tmp_path):
    def write(rows: list[tuple]) -> Lake:
        lake = Lake(tmp_path / "lake")
        lake.replace_all({"counties": counties("000001"), "treasury": frame("treasury", rows)}, user="test")
        return lake

    lake = write([("000001", D(2025, 1, 2), 100.0, 0.0, 0.0)])
    first = lake.snapshot()
    assert Lake(tmp_path / "lake").snapshot() is first  # nothing committed since: the same snapshot
    lake.upsert("treasury", frame("treasury", [("000001", D(2025, 1, 3), 90.0, 0.0, 10.0)]), user="test")
    second = lake.snapshot()
    assert second.key != first.key and len(second.files["treasury"]) == 2

    shutil.rmtree(tmp_path / "lake")  # the same directory, the same commit names, other files
    rebuilt = write([("000001", D(2025, 1, 2), 500.0, 0.0, 0.0)]).snapshot()
    assert rebuilt.files["treasury"] != first.files["treasury"]
    assert all(Path(f).exists() for f in rebuilt.files["treasury"])
