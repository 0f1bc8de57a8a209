"""Uploads are checked in a child process: another PID, stages reported, killed on time, bounded in memory."""
from __future__ import annotations

import os
import time

import pytest

from fiscal import offload
from fiscal.ingest import check
from fiscal.lake import Lake
from tests.upload_support import UPLOADS, build_demo, copy_lake, fingerprint


def _pid_and_stages(*, report):
    report("read")
    report("check")
    return os.getpid()


def _sleep_forever(*, report):
    report(os.getpid())
    time.sleep(600)


def _allocate(gib: int, *, report):
    return len(bytearray(gib * offload.GIB))


def _fail(*, report):
    raise KeyError("boom")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return build_demo(tmp_path_factory.mktemp("offload") / "lake")


def test_the_work_runs_in_another_process_and_reports_its_stages():
    stages = []
    pid = offload.run(_pid_and_stages, (), seconds=60, memory_bytes=None, on_stage=stages.append)
    assert pid != os.getpid()
    assert stages == ["read", "check"]


def test_past_the_time_limit_the_child_is_killed_with_a_chinese_message():
    seen = []
    # Long enough for a child started cold on a busy machine to import and report its PID.
    with pytest.raises(offload.Stopped) as stopped:
        offload.run(_sleep_forever, (), seconds=15, memory_bytes=None, on_stage=seen.append)
    assert str(stopped.value) == ("文件检查超过 15 秒仍未完成，已停止，数据未做任何改变；"
                                  "请导出为 CSV，或按月份、地区拆分后分批上传")
    [child] = seen
    with pytest.raises(ProcessLookupError):  # killed and reaped: no such process any more
        os.kill(child, 0)


def test_an_allocation_past_the_memory_limit_stops_the_child():
    with pytest.raises(offload.Stopped) as stopped:
        offload.run(_allocate, (3,), seconds=60, memory_bytes=2 * offload.GIB)
    assert str(stopped.value) == ("文件检查所需内存超过上限（2 GB），已停止，数据未做任何改变；"
                                  "请按月份、地区拆分后分批上传")


def test_an_unexpected_error_is_named_by_its_type_only():
    with pytest.raises(offload.Stopped) as stopped:
        offload.run(_fail, (), seconds=60, memory_bytes=None)
    assert str(stopped.value) == "文件无法读取（KeyError），请检查文件格式后重新上传"


@pytest.mark.parametrize("name", ["good_treasury.csv", "duplicate_keys.csv", "revenue_totals.xlsx", "corrupt.xlsx"])
def test_the_isolated_check_gives_what_the_check_in_process_gives(demo, name):
    lake = Lake(demo)
    stages = []
    isolated = offload.check_isolated(lake, UPLOADS / name, on_stage=stages.append)
    here = check(lake, UPLOADS / name)
    assert isolated.problems == here.problems and isolated.preview == here.preview
    assert (isolated.sha256, isolated.lake_version) == (here.sha256, here.lake_version)
    assert (isolated.extract is None) == (here.extract is None)
    if here.extract is not None:
        assert isolated.extract.frame.equals(here.extract.frame)
        assert isolated.extract.rows.equals(here.extract.rows)
    assert stages == (["read"] if name == "corrupt.xlsx" else ["read", "check"])


def test_a_check_past_the_time_limit_is_an_error_and_leaves_the_lake_as_it_was(demo, tmp_path, monkeypatch):
    lake = Lake(copy_lake(demo, tmp_path / "lake"))
    before = fingerprint(lake.root)
    monkeypatch.setattr(offload, "CHECK_SECONDS", 0.001)  # no child gets anything done in a millisecond
    checked = offload.check_isolated(lake, UPLOADS / "good_treasury.csv")
    assert not checked.ok and checked.extract is None
    assert [p.message for p in checked.problems] == [
        "文件检查超过 0.001 秒仍未完成，已停止，数据未做任何改变；请导出为 CSV，或按月份、地区拆分后分批上传"]
    assert fingerprint(lake.root) == before
