"""The 重点关注 list (SPEC §9.3): the deciding-entry rule, since when, and the list's history
across month-ends — on hand-made tiers and entries with hand-computed expectations."""
from __future__ import annotations

import itertools

import pandas as pd
import pytest

from fiscal import focus, reports
from fiscal.demo import DEMO_END
from fiscal.service import WriteService
from tests.conftest import D

JAN, FEB, MAR = D(2025, 1, 31), D(2025, 2, 28), D(2025, 3, 31)  # two month-ends and A
A = MAR
CODES = [f"00000{i}" for i in range(1, 10)]
# county → its tier at JAN, FEB, MAR
TIERS = {
    "000001": (2, 3, 3),  # becomes tier 3 at FEB, no entries
    "000002": (1, 1, 1),  # add (from 01-01), later a remove (from 03-01)
    "000003": (1, 1, 1),  # remove (from 03-01), later an add (from 01-01): the later entry decides
    "000004": (3, 3, 3),  # a removal that expired on 02-28
    "000005": (1, 1, 1),  # an add dated in the future (from 04-15)
    "000006": (3, 3, 3),  # removed although tier 3, from 03-01
    "000007": (0, 0, 0),  # added from 03-01 until 03-31 (the until day is in force)
    "000008": (3, 2, 2),  # drops out of tier 3 at FEB
    "000009": (1, 1, 1),  # added from 01-01 until 02-15: lapses before FEB
}


def tiers_frame() -> pd.DataFrame:
    rows = []
    for code, tiers in TIERS.items():
        for day, tier in zip((JAN, FEB, MAR), tiers):
            rows.append({"county_code": code, "county_name": f"县{code[-1]}", "city_name": "测试市",
                         "as_of": pd.Timestamp(day), "tier": tier, "reasons": f"{code} 在 {day:%m-%d} 的原因"})
    return pd.DataFrame(rows)


@pytest.fixture
def lake(make_lake):
    lake = make_lake(treasury=[(c, D(2025, 1, 1), 1.0, 0.0, 0.0) for c in CODES],
                     counties=[(c, f"县{c[-1]}", "测试市") for c in CODES])
    ticks = itertools.count()
    service = WriteService(lake, clock=lambda: pd.Timestamp("2025-04-01", tz="UTC") + pd.Timedelta(minutes=next(ticks)))
    entries = [  # in the order they are recorded (each later `at` than the one before)
        ("000002", "add", "收入下滑", D(2025, 1, 1), None),
        ("000003", "remove", "已调度资金", D(2025, 3, 1), None),
        ("000004", "remove", "约谈后暂缓", D(2025, 1, 1), D(2025, 2, 28)),
        ("000005", "add", "预计四月缺口", D(2025, 4, 15), None),
        ("000006", "remove", "省级资金已到位", D(2025, 3, 1), None),
        ("000007", "add", "专项检查", D(2025, 3, 1), D(2025, 3, 31)),
        ("000009", "add", "临时关注", D(2025, 1, 1), D(2025, 2, 15)),
        ("000002", "remove", "风险已化解", D(2025, 3, 1), None),
        ("000003", "add", "债务到期集中", D(2025, 1, 1), None),
    ]
    for code, action, reason, start, until in entries:
        assert service.enter_focus(code, action, reason, user=f"用户{code[-1]}", effective_from=start,
                                   until=until).committed
    return lake


@pytest.fixture
def members(lake):
    return focus.membership(lake.snapshot(), tiers_frame())


def test_the_deciding_entry_rule_at_a(members):
    listed = focus.on_list(members, A)
    assert listed[["county_code", "tier", "source", "reason"]].values.tolist() == [
        ["000001", 3, "computed", "000001 在 03-31 的原因"],  # tier 3, no entry
        ["000003", 1, "manual", "债务到期集中"],  # the later add beats the earlier remove, both in force
        ["000004", 3, "computed", "000004 在 03-31 的原因"],  # the removal expired on 02-28
        ["000007", 0, "manual", "专项检查"],  # the until day itself is in force
    ]
    # 000002: the later remove decides; 000005: the add starts after A; 000006: removed at tier 3;
    # 000008: tier 2 now; 000009: the add ran out on 02-15


def test_the_json_records_have_exactly_the_spec_keys(members):
    records = focus.to_records(focus.on_list(members, A))
    assert [tuple(r) for r in records] == [focus.FOCUS_KEYS] * 4
    assert records[1] == {"county_code": "000003", "county_name": "县3", "city_name": "测试市", "tier": 1,
                          "source": "manual", "reason": "债务到期集中"}


def test_the_list_at_each_month_end(members):
    on = {day: focus.on_list(members, day)["county_code"].tolist() for day in (JAN, FEB, MAR)}
    assert on[JAN] == ["000002", "000003", "000006", "000008", "000009"]  # 000004 removed until 02-28
    assert on[FEB] == ["000001", "000002", "000003", "000006"]
    assert on[MAR] == ["000001", "000003", "000004", "000007"]


def test_since_when_each_county_is_on_the_list(members):
    listed = focus.on_list(members, A).set_index("county_code")
    assert listed["since"].dt.date.to_dict() == {
        "000001": FEB,  # first month-end at tier 3
        "000003": JAN,  # on the list at every date shown …
        "000004": MAR,  # back on the list when the removal expired
        "000007": D(2025, 3, 1),  # a manual add: its effective date (after the previous month-end)
    }
    assert listed["since_open"].to_dict() == {"000001": False, "000003": True, "000004": False, "000007": False}


def test_history_who_entered_and_left_and_why(members):
    moves = focus.moves(members)
    assert moves[["as_of", "change", "county_code", "basis", "why", "by"]].assign(
        as_of=moves["as_of"].dt.date).values.tolist() == [
        [MAR, "进入", "000004", "computed", "人工移出期满，等级仍为重点关注：000004 在 03-31 的原因", ""],
        [MAR, "进入", "000007", "manual", "专项检查", "用户7"],
        [MAR, "退出", "000002", "manual", "风险已化解", "用户2"],
        [MAR, "退出", "000006", "manual", "省级资金已到位", "用户6"],
        [FEB, "进入", "000001", "computed", "等级升为重点关注：000001 在 02-28 的原因", ""],
        [FEB, "退出", "000008", "computed", "等级由重点关注降为预警", ""],
        [FEB, "退出", "000009", "computed", "人工列入期满，等级为提示", ""],
    ]


def test_every_entry_is_kept_newest_first_with_who_and_when(lake):
    entries = focus.entries(lake.snapshot())
    assert len(entries) == 9
    assert entries[["county_code", "action", "reason", "user"]].iloc[0].tolist() == ["000003", "add", "债务到期集中",
                                                                                    "用户3"]
    assert entries["at"].is_monotonic_decreasing
    assert entries.loc[entries["county_code"] == "000004", "until"].dt.date.tolist() == [D(2025, 2, 28)]


def test_a_lake_without_entries_lists_the_tier_3_counties(make_lake):
    lake = make_lake(treasury=[(c, D(2025, 1, 1), 1.0, 0.0, 0.0) for c in CODES],
                     counties=[(c, f"县{c[-1]}", "测试市") for c in CODES])
    listed = focus.on_list(focus.membership(lake.snapshot(), tiers_frame()), A)
    assert listed["county_code"].tolist() == ["000001", "000004", "000006"]
    assert set(listed["source"]) == {"computed"}


def test_without_entries_the_moves_follow_the_tier_matrix(demo, panel):
    dates = reports.history_dates(DEMO_END)
    moves = focus.moves(focus.membership(demo, panel[panel["as_of"].isin(pd.to_datetime(dates))]))
    matrix = reports.tier_matrix(panel, DEMO_END).set_index("county_code")
    assert not moves.empty and set(moves["basis"]) == {"computed"}
    for row in moves.itertuples():
        after = row.as_of.date()
        before = dates[dates.index(after) - 1]
        was, now = matrix.at[row.county_code, before], matrix.at[row.county_code, after]
        assert (row.change == "进入") == (now == 3 and was != 3)
        assert (row.change == "退出") == (was == 3 and now != 3)
    entered = sum((matrix[a] == 3) & (matrix[b] != 3) for b, a in zip(dates, dates[1:])).sum()
    assert (moves["change"] == "进入").sum() == entered
