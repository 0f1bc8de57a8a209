"""Indicators M1–M6 and tiers against hand-computed values (SPEC §4, §5, §7)."""
from __future__ import annotations

import pandas as pd
import pytest

from fiscal.indicators import METRIC_KEYS, indicators, metrics, tier_changes, tier_history, to_records, month_ends_before
from tests.conftest import D


def one(lake, as_of, policy, code="000001") -> dict:
    records = {r["county_code"]: r for r in to_records(metrics(lake.snapshot(), as_of, policy))}
    return records[code]


# ---- SPEC §7 worked example --------------------------------------------------------
WORKED = dict(
    treasury=[
        ("000001", D(2024, 12, 16), 1000.0, 0.0, 3000.0),
        ("000001", D(2025, 1, 15), 900.0, 0.0, 2500.0),
        ("000001", D(2025, 2, 14), 700.0, 0.0, 2200.0),
        ("000001", D(2025, 3, 9), 650.0, 0.0, 0.0),
    ],
    payroll_schedule=[("000001", D(2025, 3, 5), 800.0)],
    payroll_account=[
        ("000001", D(2025, 2, 20), 300.0),
        ("000001", D(2025, 2, 28), 800.0),
        ("000001", D(2025, 3, 5), 0.0),
    ],
)


def test_worked_example(make_lake, policy):
    r = one(make_lake(**WORKED), D(2025, 3, 10), policy)
    assert r["treasury_balance"] == 650.0
    assert r["treasury_date"] == "2025-03-09"
    assert r["avg_monthly_outflow"] == pytest.approx(7700 / 3)
    assert r["coverage_months"] == pytest.approx(650 / (7700 / 3))
    assert round(r["coverage_months"], 4) == 0.2532
    assert r["coverage_band"] == "预警"
    assert r["last_payday"] == "2025-03-05"
    assert r["last_payday_status"] == "funded_late"
    assert r["last_payday_ratio"] == pytest.approx(0.375)
    assert r["last_payday_shortfall"] == 0
    assert r["next_payday"] is None and r["next_payday_status"] is None
    assert r["tier"] == 2 and r["tier_label"] == "预警"
    assert r["reasons"] == [
        "库款保障水平 0.25 低于预警线 0.30",
        "2025-03-05 工资 迟于发薪日前7天足额存入（截止日存入比例 37.5%）",
    ]


def test_json_keys_exactly_in_spec_order(make_lake, policy):
    r = one(make_lake(**WORKED), D(2025, 3, 10), policy)
    assert tuple(r) == METRIC_KEYS
    assert r["as_of"] == "2025-03-10"


# ---- M1/M2 coverage: boundaries and short history ---------------------------------
def coverage_lake(make_lake, balance: float, months: int = 3):
    """Outflow 1,000 in each of `months` months before April 2025; balance on 2025-04-01."""
    rows = [("000001", D(2025, 3 - i, 10), 5000.0, 0.0, 1000.0) for i in range(months)]
    rows.append(("000001", D(2025, 4, 1), balance, 0.0, 0.0))
    return make_lake(treasury=rows)


@pytest.mark.parametrize(
    "balance, band, severity",
    [(299.0, "预警", 2), (300.0, "偏低", 1), (499.0, "偏低", 1), (500.0, "正常", 0),
     (800.0, "正常", 0), (801.0, "闲置", 0)],
)
def test_coverage_bands_at_the_lines(make_lake, policy, balance, band, severity):
    r = one(coverage_lake(make_lake, balance), D(2025, 4, 2), policy)
    assert r["coverage_months"] == pytest.approx(balance / 1000)
    assert r["coverage_band"] == band
    assert r["tier"] == severity


def test_coverage_needs_three_months_of_history(make_lake, policy):
    r = one(coverage_lake(make_lake, 100.0, months=2), D(2025, 4, 2), policy)
    assert r["treasury_balance"] == 100.0
    assert r["avg_monthly_outflow"] is None and r["coverage_months"] is None and r["coverage_band"] is None
    assert r["tier"] == 0 and r["reasons"] == []


def test_reference_months_exclude_as_of_month_and_older_than_twelve(make_lake, policy):
    rows = [
        ("000001", D(2024, 3, 29), 0.0, 0.0, 99999.0),  # 13 months back: outside the window
        ("000001", D(2024, 4, 30), 0.0, 0.0, 1200.0),
        ("000001", D(2024, 12, 31), 0.0, 0.0, 600.0),
        ("000001", D(2025, 3, 3), 0.0, 0.0, 300.0),
        ("000001", D(2025, 4, 1), 450.0, 0.0, 88888.0),  # A's own month: excluded
    ]
    r = one(make_lake(treasury=rows), D(2025, 4, 15), policy)
    assert r["avg_monthly_outflow"] == pytest.approx(700.0)  # (1200 + 600 + 300) / 3
    assert r["coverage_months"] == pytest.approx(450 / 700)


def test_latest_balance_ignores_rows_after_as_of_in_the_same_month(make_lake, policy):
    rows = [("000001", D(2025, 2, 27), 70.0, 0.0, 0.0), ("000001", D(2025, 2, 28), 80.0, 0.0, 0.0),
            ("000001", D(2025, 3, 2), 90.0, 0.0, 0.0), ("000001", D(2025, 3, 9), 95.0, 0.0, 0.0)]
    lake = make_lake(treasury=rows)
    assert (one(lake, D(2025, 3, 1), policy)["treasury_date"], one(lake, D(2025, 3, 1), policy)["treasury_balance"]) == ("2025-02-28", 80.0)
    assert one(lake, D(2025, 3, 8), policy)["treasury_balance"] == 90.0
    assert one(lake, D(2025, 2, 1), policy)["treasury_balance"] is None


def test_county_without_any_data(make_lake, policy):
    lake = make_lake(treasury=WORKED["treasury"], counties=[("000001", "有数县", "测试市"), ("000009", "空县", "测试市")])
    r = one(lake, D(2025, 3, 10), policy, "000009")
    assert {k for k, v in r.items() if v not in (None, [])} == {
        "county_code", "county_name", "city_name", "as_of", "tier", "tier_label"}
    assert r["tier"] == 0 and r["tier_label"] == "正常" and r["reasons"] == []


# ---- M3 payroll statuses -----------------------------------------------------------
PAYDAY = D(2025, 5, 10)  # cutoff 2025-05-03


def payroll_lake(make_lake, balances):
    return make_lake(payroll_schedule=[("000001", PAYDAY, 1000.0)],
                     payroll_account=[("000001", d, b) for d, b in balances])


def test_exactly_due_at_cutoff_is_on_time(make_lake, policy):
    r = one(payroll_lake(make_lake, [(D(2025, 5, 3), 1000.0), (PAYDAY, 0.0)]), D(2025, 5, 12), policy)
    assert (r["last_payday"], r["last_payday_status"], r["last_payday_ratio"]) == ("2025-05-10", "funded_on_time", 1.0)
    assert r["last_payday_shortfall"] == 0 and r["tier"] == 0


def test_shortfall_on_payday_eve(make_lake, policy):
    lake = payroll_lake(make_lake, [(D(2025, 5, 1), 400.0), (D(2025, 5, 9), 900.0), (PAYDAY, 0.0)])
    r = one(lake, D(2025, 5, 20), policy)
    assert r["last_payday_status"] == "shortfall"
    assert r["last_payday_shortfall"] == pytest.approx(100.0)
    assert r["last_payday_ratio"] == pytest.approx(0.4)
    assert r["tier"] == 3 and r["tier_label"] == "重点关注"
    assert r["reasons"] == ["2025-05-10 工资 发薪日前工资专户仍缺 100.00 万元（截止日存入比例 40.0%）"]


def test_shortfall_reason_groups_thousands_as_every_amount(make_lake, policy):
    lake = make_lake(payroll_schedule=[("000001", PAYDAY, 12000.0)],
                     payroll_account=[("000001", D(2025, 5, 1), 600.0), ("000001", D(2025, 5, 9), 6663.55)])
    r = one(lake, D(2025, 5, 20), policy)
    assert r["last_payday_shortfall"] == pytest.approx(5336.45)
    # 12,000 − 6,663.55 = 5,336.45; 600 / 12,000 = 5.0%
    assert r["reasons"] == ["2025-05-10 工资 发薪日前工资专户仍缺 5,336.45 万元（截止日存入比例 5.0%）"]


def test_no_balance_rows_means_shortfall_of_everything(make_lake, policy):
    r = one(payroll_lake(make_lake, []), D(2025, 5, 10), policy)  # P = A counts as the last payday
    assert r["last_payday_status"] == "shortfall" and r["last_payday_shortfall"] == 1000.0
    assert r["last_payday_ratio"] == 0.0 and r["next_payday"] is None


def test_next_payday_pending_uses_todays_balance(make_lake, policy):
    r = one(payroll_lake(make_lake, [(D(2025, 4, 28), 250.0)]), D(2025, 5, 2), policy)
    assert (r["next_payday"], r["next_payday_status"]) == ("2025-05-10", "pending")
    assert r["next_payday_ratio"] == pytest.approx(0.25)
    assert r["last_payday"] is None and r["last_payday_shortfall"] is None
    assert r["tier"] == 0


def test_next_payday_overdue_after_cutoff(make_lake, policy):
    r = one(payroll_lake(make_lake, [(D(2025, 5, 1), 200.0)]), D(2025, 5, 5), policy)
    assert r["next_payday_status"] == "overdue" and r["next_payday_ratio"] == pytest.approx(0.2)
    assert r["tier"] == 2
    assert r["reasons"] == ["2025-05-10 工资 已过发薪日前7天截止日仍未足额存入（截止日存入比例 20.0%）"]


def test_next_payday_funded_after_cutoff_is_late(make_lake, policy):
    r = one(payroll_lake(make_lake, [(D(2025, 5, 1), 200.0), (D(2025, 5, 4), 1000.0)]), D(2025, 5, 5), policy)
    assert r["next_payday_status"] == "funded_late" and r["next_payday_ratio"] == pytest.approx(0.2)
    assert r["tier"] == 1


def test_next_payday_on_time_when_cutoff_reached(make_lake, policy):
    r = one(payroll_lake(make_lake, [(D(2025, 5, 3), 1000.0)]), D(2025, 5, 3), policy)
    assert r["next_payday_status"] == "funded_on_time" and r["next_payday_ratio"] == 1.0


# ---- M4 revenue, M5 forward payroll, M6 advances, tiers ----------------------------
# County 000001 is healthy; 000002 lags on revenue, advances and forward payroll.
def rich_lake(make_lake):
    months = [D(2025, 1, 15), D(2025, 2, 14), D(2025, 3, 14)]
    treasury = [("000001", d, 0.0, i, o) for d, i, o in zip(months, (1000.0, 1200.0, 800.0), (900.0, 1000.0, 1100.0))]
    treasury += [("000001", D(2025, 4, 8), 500.0, 0.0, 0.0)]
    treasury += [("000002", d, 0.0, 500.0, 1000.0) for d in months] + [("000002", D(2025, 4, 8), 600.0, 0.0, 0.0)]
    schedule = [(c, D(2025, m, 12), 300.0) for c in ("000001", "000002") for m in range(1, 8)]
    account = [("000001", D(2025, 3, 1), 300.0), ("000001", D(2025, 3, 12), 0.0), ("000001", D(2025, 4, 3), 300.0),
               ("000002", D(2025, 3, 1), 300.0), ("000002", D(2025, 3, 12), 0.0), ("000002", D(2025, 4, 3), 300.0)]
    revenue = [
        ("000001", 2025, 2, "税收收入", 1200.0, 150.0), ("000001", 2025, 2, "非税收入", 300.0, 40.0),
        ("000001", 2025, 3, "税收收入", 1200.0, 250.0), ("000001", 2025, 3, "非税收入", 300.0, 50.0),
        ("000001", 2025, 5, "税收收入", 1200.0, 600.0), ("000001", 2025, 5, "非税收入", 300.0, 100.0),
        ("000001", 2024, 12, "税收收入", 1100.0, 1100.0),
        ("000002", 2025, 3, "税收收入", 1000.0, 40.0),
    ]
    advances = [
        ("000001", 2024, 12, 300.0, 10000.0, 2000.0),
        ("000001", 2025, 3, 540.0, 3000.0, 600.0),
        ("000002", 2025, 3, 800.0, 3000.0, 600.0),
    ]
    return make_lake(treasury=treasury, payroll_schedule=schedule, payroll_account=account,
                     revenue=revenue, advances=advances)


AS_OF = D(2025, 4, 10)


def test_revenue_progress_uses_latest_month_up_to_as_of(make_lake, policy):
    r = one(rich_lake(make_lake), AS_OF, policy)
    assert r["revenue_month"] == 3
    assert r["revenue_progress"] == pytest.approx(300 / 1500)
    assert r["time_progress"] == pytest.approx(0.25)
    assert r["revenue_gap_pp"] == pytest.approx(-5.0)


def test_forward_payroll_cover(make_lake, policy):
    # available = 500 + 300 + 3 × (1000 − (1000 − 300)) = 1700; need = Apr + May + Jun paydays = 900
    r = one(rich_lake(make_lake), AS_OF, policy)
    assert r["payroll_cover_3m"] == pytest.approx(1700 / 900)
    assert r["coverage_months"] == pytest.approx(0.5) and r["coverage_band"] == "正常"
    assert (r["next_payday"], r["next_payday_status"], r["next_payday_ratio"]) == ("2025-04-12", "funded_on_time", 1.0)
    assert (r["last_payday"], r["last_payday_status"]) == ("2025-03-12", "funded_on_time")


def test_payroll_account_on_as_of_with_and_without_paydays(make_lake, policy):
    # 000001 has paydays; 000003 has none, but its account still counts in what is available:
    # 500 + 250 + 3 × (1000 − (1000 − 0)) = 750 (no payroll in its reference months).
    lake = rich_lake(make_lake)
    extra = make_lake("extra", treasury=[("000003", d, 0.0, 1000.0, 1000.0) for d in (D(2025, 1, 15), D(2025, 2, 14),
                                                                                     D(2025, 3, 14))]
                      + [("000003", D(2025, 4, 8), 500.0, 0.0, 0.0)],
                      payroll_account=[("000003", D(2025, 4, 9), 250.0), ("000003", D(2025, 4, 11), 999.0)])
    for kind in ("counties", "treasury", "payroll_account"):
        lake.upsert(kind, extra.read(kind), user="test")
    rows = indicators(lake.snapshot(), [AS_OF], policy).set_index("county_code")
    assert rows.loc["000001", "account_balance"] == 300.0 and rows.loc["000001", "forward_available"] == 1700.0
    assert rows.loc["000003", "account_balance"] == 250.0 and rows.loc["000003", "forward_available"] == 750.0
    assert rows.loc["000003", "next_payday"] is None or pd.isna(rows.loc["000003", "next_payday"])


def test_advances_ratio_against_previous_december(make_lake, policy):
    r = one(rich_lake(make_lake), AS_OF, policy)
    assert r["advances_ratio"] == pytest.approx(540 / 12000)
    assert r["tier"] == 0 and r["reasons"] == []


def test_two_warnings_make_a_focus_county(make_lake, policy):
    r = one(rich_lake(make_lake), AS_OF, policy, "000002")
    assert r["revenue_gap_pp"] == pytest.approx(100 * (0.04 - 0.25))
    # no previous December: annualise month 3 → 3600 × 12 / 3 = 14400
    assert r["advances_ratio"] == pytest.approx(800 / 14400)
    # 600 + 300 + 3 × (500 − (1000 − 300)) = 300; need 900
    assert r["payroll_cover_3m"] == pytest.approx(300 / 900)
    assert r["coverage_months"] == pytest.approx(0.6)
    assert r["tier"] == 3
    assert r["reasons"] == [
        "未来3个月工资保障倍数 0.33 低于预警线 1.00",
        "收入进度 4.0% 较序时进度 25.0% 相差 -21.0 个百分点，低于预警线 -20",
        "暂付款比例 5.6% 高于控制线 5.0%",  # percentages with one decimal, as on every page
    ]


def test_sorted_by_tier_then_code(make_lake, policy):
    codes = [r["county_code"] for r in to_records(metrics(rich_lake(make_lake).snapshot(), AS_OF, policy))]
    assert codes == ["000002", "000001"]


def test_revenue_gap_exactly_at_prompt_line_is_not_flagged(make_lake, policy):
    lake = make_lake(revenue=[("000001", 2025, 3, "税收收入", 100.0, 17.0)])
    r = one(lake, D(2025, 3, 31), policy)
    assert r["revenue_gap_pp"] == pytest.approx(-8.0)
    assert r["tier"] == 0


# ---- history and change ------------------------------------------------------------
def test_month_ends_before():
    assert month_ends_before(D(2025, 3, 10), 3) == [D(2024, 12, 31), D(2025, 1, 31), D(2025, 2, 28)]


def test_tier_history_and_changes(make_lake, policy):
    lake = payroll_lake(make_lake, [(D(2025, 5, 1), 200.0)])
    history = tier_history(lake.snapshot(), D(2025, 5, 5), policy)
    assert len(history) == 13
    assert history.set_index("as_of").loc["2025-04-30", "tier"] == 0  # pending then
    assert history.set_index("as_of").loc["2025-05-05", "tier"] == 2  # overdue now
    changes = tier_changes(lake.snapshot(), D(2025, 5, 5), policy)
    assert changes[["county_code", "tier_before", "tier_now"]].values.tolist() == [["000001", 0, 2]]
