"""SPEC §9.1 调度建议 against a hand-worked example, and the `dispatch` command (§9.6)."""
from __future__ import annotations

import json

import pytest

from fiscal.dispatch import DISPATCH_KEYS, city_totals, dispatch
from fiscal.indicators import json_records
from tests.conftest import D
from tests.test_cli import fiscal

A = D(2025, 4, 10)  # horizon 30 days: paydays in (04-10, 05-10]


def worked_lake(make_lake):
    """000001 and 000002 differ only in their treasury balance at A; 000003 has no treasury at all.

    Reference months Jan–Mar 2025: outflow 1000 + 1200 + 800 → avg 1000; inflow avg 1000.
    """
    treasury = []
    for code, balance in (("000001", 500.0), ("000002", 900.0)):
        treasury += [(code, D(2025, 1, 20), 0.0, 900.0, 1000.0), (code, D(2025, 2, 20), 0.0, 1100.0, 1200.0),
                     (code, D(2025, 3, 20), 0.0, 1000.0, 800.0), (code, D(2025, 4, 8), balance, 0.0, 0.0)]
    schedule = []
    for code in ("000001", "000002"):
        schedule += [
            (code, A, 5000.0),  # on A: the last payday, not inside the horizon
            (code, D(2025, 4, 15), 400.0),
            (code, D(2025, 5, 10), 300.0),  # exactly A + 30 days: inside
            (code, D(2025, 5, 12), 999.0),  # after the horizon, inside M5's three months
        ]
    schedule.append(("000003", D(2025, 4, 20), 100.0))
    account = [(c, D(2025, 4, 9), 250.0) for c in ("000001", "000002")]
    return make_lake(treasury=treasury, payroll_schedule=schedule, payroll_account=account,
                     counties=[(c, f"测试县{c[-1]}", "甲市" if c != "000003" else "乙市")
                               for c in ("000001", "000002", "000003")])


def records(lake, policy):
    return {r["county_code"]: r for r in json_records(dispatch(lake.snapshot(), A, policy), DISPATCH_KEYS)}


def test_worked_example(make_lake, policy):
    r = records(worked_lake(make_lake), policy)
    # floor 0.3 × 1000; top-up (400 + 300) − 250; need 300 + 450 − 500
    assert r["000001"] == {
        "county_code": "000001", "county_name": "测试县1", "city_name": "甲市", "as_of": "2025-04-10",
        "treasury_balance": 500.0, "cash_floor": pytest.approx(300.0), "payroll_topup": 450.0,
        "dispatch_need": pytest.approx(250.0),
        # M5: need 400 + 300 + 999 = 1699; available 500 + 250 + 3 × (1000 − (1000 − 0)) = 750
        "payroll_gap_3m": pytest.approx(949.0),
    }
    # a balance above floor + top-up: nothing to move; M5 available 1150 → gap 549
    assert r["000002"]["dispatch_need"] == 0
    assert r["000002"]["payroll_gap_3m"] == pytest.approx(549.0)
    # no treasury history: floor 0, missing balance 0, M5 null
    assert (r["000003"]["cash_floor"], r["000003"]["payroll_topup"], r["000003"]["dispatch_need"]) == (0, 100.0, 100.0)
    assert r["000003"]["treasury_balance"] is None and r["000003"]["payroll_gap_3m"] is None


def test_sorted_by_need_then_code_with_exact_keys(make_lake, policy):
    rows = json_records(dispatch(worked_lake(make_lake).snapshot(), A, policy), DISPATCH_KEYS)
    assert [r["county_code"] for r in rows] == ["000001", "000003", "000002"]
    assert all(tuple(r) == DISPATCH_KEYS for r in rows)


def test_a_fully_funded_payroll_account_needs_no_top_up(make_lake, policy):
    lake = make_lake(payroll_schedule=[("000001", D(2025, 4, 15), 400.0)],
                     payroll_account=[("000001", D(2025, 4, 1), 650.0)])
    r = records(lake, policy)["000001"]
    assert (r["payroll_topup"], r["dispatch_need"]) == (0, 0)


def test_the_horizon_comes_from_the_policy(make_lake, policy):
    from dataclasses import replace

    r = records(worked_lake(make_lake), replace(policy, dispatch_horizon_days=5))["000001"]
    assert r["payroll_topup"] == pytest.approx(150.0)  # only 04-15's 400 − 250


def test_city_totals(make_lake, policy):
    totals = city_totals(dispatch(worked_lake(make_lake).snapshot(), A, policy)).set_index("city_name")
    assert totals.loc["甲市", ["counties", "needing"]].tolist() == [2, 1]
    assert totals.loc["甲市", "dispatch_need"] == pytest.approx(250.0)
    assert totals.loc["乙市", "dispatch_need"] == pytest.approx(100.0)
    assert list(totals.index) == ["甲市", "乙市"]


def test_cli_on_the_shipped_demo_lake_matches_metrics():
    result = fiscal("dispatch", "--as-of", "2026-11-20", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) == 30 and all(tuple(r) == DISPATCH_KEYS for r in rows)
    needs = [(-r["dispatch_need"], r["county_code"]) for r in rows]
    assert needs == sorted(needs)
    metrics = {r["county_code"]: r for r in json.loads(fiscal("metrics", "--as-of", "2026-11-20").stdout)}
    for r in rows:
        m = metrics[r["county_code"]]
        assert r["treasury_balance"] == m["treasury_balance"]
        assert r["cash_floor"] == pytest.approx(0.3 * (m["avg_monthly_outflow"] or 0))
        assert r["dispatch_need"] == pytest.approx(max(0, r["cash_floor"] + r["payroll_topup"] - (m["treasury_balance"] or 0)))


# ---- the policy lines of SPEC §9 ------------------------------------------------------------
@pytest.mark.parametrize("old, new, message", [
    ("horizon_days = 30", "horizon_days = 0", "调度建议的工资测算天数应在 1 到 92 之间"),
    ("persistent_months = 2", "persistent_months = 13", "连续月数应在 1 到 12 之间"),
    ("reply_days = 10", "reply_days = 2.5", "应为整数"),
    ('bureau_name = "XX市财政局"', 'bureau_name = "  "', "[letters] bureau_name 不能为空"),
    ('bureau_name = "XX市财政局"', "bureau_name = 110", "应为文字"),
    ('number_prefix = "X财库函"', 'number_prefix = "X财库函〔2026〕"', "文号前缀只写机关代字"),
])
def test_new_policy_lines_are_validated_in_chinese(tmp_path, old, new, message):
    from fiscal.policy import PolicyError, load_policy
    from fiscal.settings import DEFAULT_POLICY_PATH

    text = DEFAULT_POLICY_PATH.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "policy.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(PolicyError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_policy(path)


def test_shipped_policy_lines_for_dispatch_and_letters(policy):
    assert (policy.dispatch_horizon_days, policy.persistent_months, policy.reply_days) == (30, 2, 10)
    assert (policy.bureau_name, policy.number_prefix) == ("XX市财政局", "X财库函")
    assert "bureau_name" not in policy.sql_params()
