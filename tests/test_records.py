"""Record tables: append-only, versioned with the lake, read at a version, kept out of rollbacks,
empty (with their columns) in a lake that does not have them yet."""
from __future__ import annotations

import pandas as pd
import pytest

from fiscal.lake import Lake, LakeChanged
from fiscal.queries import source_params
from fiscal.records import RECORD_KINDS
from fiscal.service import COMMITTED, MOVED_ON, REJECTED, Rejected, WriteService
from tests.conftest import D, frame
from tests.test_lake import lake_fingerprint

AT = pd.Timestamp("2026-01-05 08:00:00", tz="UTC")


@pytest.fixture
def lake(make_lake):
    return make_lake(treasury=[("000001", D(2025, 1, 1), 100.0, 0.0, 0.0)],
                     counties=[("000001", "甲县", "测试市"), ("000002", "乙县", "测试市")])


@pytest.fixture
def service(lake, tmp_path):
    return WriteService(lake, clock=lambda: AT)


def focus_row(code="000001", action="add", reason="库款紧张", start=D(2025, 1, 1), until=None) -> pd.DataFrame:
    return pd.DataFrame([{"county_code": code, "action": action, "reason": reason, "effective_from": start,
                          "until": until}])


def test_every_record_kind_has_user_and_at_after_its_own_fields():
    for spec in RECORD_KINDS.values():
        assert spec.column_names[-2:] == ["user", "at"]
        assert str(spec.arrow_schema().field("at").type) == "timestamp[us, tz=UTC]"


def test_an_old_lake_without_record_tables_reads_them_empty_with_their_columns(lake):
    for kind, spec in RECORD_KINDS.items():
        data = lake.read(kind)
        assert data.empty and list(data.columns) == spec.column_names
        assert lake.read(kind, lake_version=0).empty
    snapshot = lake.snapshot()
    assert snapshot.files["focus"] == [] and dict(snapshot.versions)["focus"] == -1
    assert "focus" not in source_params(snapshot)  # read as its columns, without rows


def test_append_stamps_who_and_when_and_is_one_lake_version(lake, service):
    outcome = service.append("focus", lambda _: focus_row(), user="张三")
    assert (outcome.status, outcome.version) == (COMMITTED, 1)
    rows = lake.read("focus")
    assert rows[["county_code", "action", "reason", "user"]].values.tolist() == [["000001", "add", "库款紧张", "张三"]]
    assert rows["at"].tolist() == [AT]
    newest = lake.history()[0]
    assert (newest.lake_version, newest.kinds, newest.user, newest.operation_label, newest.rows, newest.inserted) == (
        1, ("focus",), "张三", "业务记录", 1, 1)


def test_appends_never_change_earlier_rows_and_read_at_a_version(lake, service):
    service.append("focus", lambda _: focus_row(reason="第一次"), user="a")
    service.append("focus", lambda _: focus_row(action="remove", reason="第二次"), user="b")
    assert lake.read("focus", lake_version=0).empty
    assert lake.read("focus", lake_version=1)["reason"].tolist() == ["第一次"]
    assert sorted(lake.read("focus", lake_version=2)["reason"]) == ["第一次", "第二次"]
    assert sorted(lake.read("focus")["reason"]) == ["第一次", "第二次"]


def test_duckdb_reads_a_record_table_of_the_snapshot(lake, service):
    service.append("focus", lambda _: focus_row(), user="a")
    snapshot = lake.snapshot()
    assert dict(snapshot.versions)["focus"] == 0 and len(snapshot.files["focus"]) == 1
    assert "focus:0" in snapshot.key and "focus" not in snapshot.extracts_key


def test_rollback_restores_extracts_and_keeps_records(lake, service):
    lake.upsert("treasury", frame("treasury", [("000001", D(2025, 1, 1), 999.0, 0.0, 0.0)]), user="bad upload")
    service.append("focus", lambda _: focus_row(), user="张三")  # a decision taken after the bad upload
    outcome = service.rollback(0, user="组长")
    assert (outcome.status, outcome.version) == (COMMITTED, 3)
    assert lake.read("treasury")["balance"].tolist() == [100.0]
    assert lake.read("focus")["user"].tolist() == ["张三"]
    assert lake.history()[0].kinds == ("treasury",)


def test_a_rollback_that_would_change_no_extract_is_refused(lake, service):
    service.append("focus", lambda _: focus_row(), user="张三")
    before = lake_fingerprint(lake.root)
    outcome = service.rollback(0, user="组长")
    assert outcome.status == REJECTED and "业务记录不随回滚撤销" in outcome.problems[0]
    assert lake_fingerprint(lake.root) == before


def test_a_rejected_append_writes_nothing_and_is_audited(lake, service):
    before = lake_fingerprint(lake.root)

    def prepare(_):
        raise Rejected("文号已登记", "县区不对")

    outcome = service.append("focus", prepare, user="张三", request={"county_code": "000001"})
    assert (outcome.status, outcome.problems) == (REJECTED, ("文号已登记", "县区不对"))
    assert lake_fingerprint(lake.root) == before
    record = service.log.read()[0]
    assert (record["event"], record["kind"], record["problems"], record["county_code"]) == (
        "edit_rejected", "focus", "文号已登记；县区不对", "000001")


def test_an_empty_user_is_rejected(lake, service):
    assert service.append("focus", lambda _: focus_row(), user="  ").problems == ("操作人不能为空",)


def test_expected_version_refuses_a_lake_that_moved_on(lake, service):
    before_first = lake.lake_version()
    service.append("focus", lambda _: focus_row(), user="a")
    before = lake_fingerprint(lake.root)
    outcome = service.append("focus", lambda _: focus_row(), user="b", expected_version=before_first)
    assert (outcome.status, outcome.current) == (MOVED_ON, 1)
    assert lake_fingerprint(lake.root) == before
    assert service.log.read()[0]["event"] == "edit_conflict"
    with pytest.raises(LakeChanged):
        lake.append("focus", focus_row().assign(user="c", at=AT), user="c", expected_version=0)


def test_without_an_expected_version_a_moved_lake_is_checked_again(lake, service):
    seen = []

    def prepare(current: Lake):
        seen.append(current.lake_version())
        if len(seen) == 1:  # another writer commits between the check and the write
            lake.upsert("treasury", frame("treasury", [("000001", D(2025, 1, 2), 1.0, 0.0, 0.0)]), user="other")
        return focus_row()

    outcome = service.append("focus", prepare, user="a")
    assert seen == [0, 1] and (outcome.status, outcome.version) == (COMMITTED, 2)
    assert len(lake.read("focus")) == 1


def test_the_audit_line_names_the_user_the_route_and_the_row(lake, tmp_path):
    cli = WriteService(lake, via="cli", clock=lambda: AT)
    cli.append("focus", lambda _: focus_row(until=D(2025, 6, 30)), user="李四")
    record = cli.log.read()[0]
    assert {k: record[k] for k in ("event", "user", "via", "kind", "version", "rows", "county_code", "action",
                                   "effective_from", "until")} == {
        "event": "focus_entry", "user": "李四", "via": "cli", "kind": "focus", "version": 1, "rows": 1,
        "county_code": "000001", "action": "add", "effective_from": "2025-01-01", "until": "2025-06-30"}
    assert not str(cli.log.path).startswith(str(lake.root))

