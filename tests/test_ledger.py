"""The 工作台账 (SPEC §9.4): measures, revisions kept, 已逾期 at the boundary date, open measures."""
from __future__ import annotations

import itertools

import pandas as pd
import pytest

from fiscal import ledger
from fiscal.service import COMMITTED, REJECTED, WriteService
from tests.conftest import D
from tests.test_lake import lake_fingerprint

TODAY = D(2025, 6, 10)


@pytest.fixture
def lake(make_lake):
    return make_lake(treasury=[("000001", D(2025, 1, 1), 1.0, 0.0, 0.0), ("000002", D(2025, 1, 1), 1.0, 0.0, 0.0)])


@pytest.fixture
def service(lake):
    ticks = itertools.count()
    return WriteService(lake, clock=lambda: pd.Timestamp("2025-06-01 09:00", tz="UTC") + pd.Timedelta(hours=next(ticks)))


def test_overdue_when_due_before_today_and_not_done(lake, service):
    for measure, due, status in (("昨天到期", D(2025, 6, 9), "in_progress"),
                                 ("今天到期", TODAY, "not_started"),
                                 ("昨天到期已完成", D(2025, 6, 9), "done"),
                                 ("明天到期", D(2025, 6, 11), "not_started")):
        assert service.add_measure("000001", measure, "王科长", due, status=status, user="张三").committed
    measures = ledger.current(lake.snapshot(), TODAY).set_index("measure")
    assert measures["overdue"].to_dict() == {"昨天到期": True, "今天到期": False, "昨天到期已完成": False, "明天到期": False}
    assert measures["status_label"].to_dict() == {"昨天到期": "已逾期", "今天到期": "未开始", "昨天到期已完成": "已完成",
                                                  "明天到期": "未开始"}
    assert measures["status"].to_dict()["昨天到期"] == "in_progress"  # the stored status is kept
    # a day later, the measure due today is overdue too
    assert ledger.current(lake.snapshot(), D(2025, 6, 11)).set_index("measure")["overdue"]["今天到期"]


def test_an_update_is_a_new_revision_and_the_history_is_kept(lake, service):
    service.add_measure("000001", "压减一般性支出", "预算科", D(2025, 6, 30), user="张三")
    service.add_measure("000002", "盘活存量资金", "国库科", D(2025, 7, 15), user="张三")
    outcome = service.update_measure(1, status="in_progress", note="已约谈县财政局", user="李四")
    assert outcome.status == COMMITTED
    service.update_measure(1, status="done", user="王五")
    current = ledger.current(lake.snapshot(), TODAY)
    assert current[["measure_id", "revision", "county_code", "status", "note", "user", "created_by"]].values.tolist() == [
        [1, 3, "000001", "done", "已约谈县财政局", "王五", "张三"],
        [2, 1, "000002", "not_started", "", "张三", "张三"],
    ]
    history = ledger.history(lake.snapshot())
    assert history[["measure_id", "revision", "status", "user"]].values.tolist() == [
        [1, 3, "done", "王五"], [1, 2, "in_progress", "李四"], [2, 1, "not_started", "张三"], [1, 1, "not_started", "张三"]]
    assert len(lake.read("ledger")) == 4  # nothing overwritten


@pytest.mark.parametrize("call, problem", [
    (lambda s: s.add_measure("999999", "措施", "人", D(2025, 7, 1), user="u"), "县区代码 999999 不在县区名录中"),
    (lambda s: s.add_measure("000001", " ", "人", D(2025, 7, 1), user="u"), "措施不能为空"),
    (lambda s: s.add_measure("000001", "措施", "", D(2025, 7, 1), user="u"), "责任人不能为空"),
    (lambda s: s.add_measure("000001", "措施", "人", None, user="u"), "完成时限不能为空"),
    (lambda s: s.add_measure("000001", "措施", "人", D(2025, 7, 1), status="overdue", user="u"), "状态只能是"),
    (lambda s: s.update_measure(7, status="done", user="u"), "没有编号为 7 的措施"),
    (lambda s: s.update_measure(1, status="not_started", user="u"), "与当前记录相同"),
])
def test_a_rejected_ledger_edit_leaves_the_lake_byte_identical(lake, service, call, problem):
    service.add_measure("000001", "措施", "人", D(2025, 7, 1), user="u")
    before = lake_fingerprint(lake.root)
    outcome = call(service)
    assert outcome.status == REJECTED and any(p.startswith(problem) for p in outcome.problems), outcome.problems
    assert lake_fingerprint(lake.root) == before
    assert service.log.read()[0]["event"] == "edit_rejected"


def test_open_measures_of_some_counties_overdue_first(lake, service):
    service.add_measure("000001", "甲", "人", D(2025, 6, 30), user="u")
    service.add_measure("000001", "乙", "人", D(2025, 6, 1), user="u")  # overdue
    service.add_measure("000002", "丙", "人", D(2025, 6, 5), status="done", user="u")
    service.add_measure("000002", "丁", "人", D(2025, 6, 20), user="u")
    measures = ledger.current(lake.snapshot(), TODAY)
    assert ledger.open_measures(measures, ["000001", "000002"])["measure"].tolist() == ["乙", "丁", "甲"]
    assert ledger.open_measures(measures, ["000002"])["measure"].tolist() == ["丁"]


def test_json_records(lake, service):
    service.add_measure("000001", "压减支出", "预算科", D(2025, 6, 9), note="周调度会议定", user="张三")
    [record] = ledger.to_records(ledger.current(lake.snapshot(), TODAY))
    assert tuple(record) == ledger.LEDGER_KEYS
    assert record == {"measure_id": 1, "revision": 1, "county_code": "000001", "county_name": "测试县01",
                      "measure": "压减支出", "owner": "预算科", "due": "2025-06-09", "status": "not_started",
                      "status_label": "已逾期", "overdue": True, "note": "周调度会议定", "user": "张三",
                      "at": "2025-06-01T09:00:00+00:00", "created_by": "张三", "created_at": "2025-06-01T09:00:00+00:00"}
