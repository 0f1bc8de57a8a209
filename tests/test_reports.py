"""Read-side reports of the dashboard (fiscal.reports) against metrics and hand-computed values."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from fiscal import reports
from fiscal.demo import DEMO_END
from fiscal.indicators import metrics, tier_changes, tier_history, tier_moves
from fiscal.lake import Lake
from tests.conftest import D, frame

AS_OF = DEMO_END


# ---- the panel and its views ----------------------------------------------------------
def test_panel_at_as_of_is_metrics(demo, panel, policy):
    expected = metrics(demo, AS_OF, policy)
    got = reports.at_date(panel, AS_OF)
    assert list(got["county_code"]) == list(expected["county_code"])
    assert list(got["tier"]) == list(expected["tier"])
    pd.testing.assert_series_equal(got["coverage_months"], expected["coverage_months"])
    assert list(got["reasons"]) == [reports.REASON_SEPARATOR.join(r) for r in expected["reasons"]]


def test_panel_holds_history_dates_and_week_before(panel):
    dates = {d.date() for d in panel["as_of"].unique()}
    assert dates == {*reports.history_dates(AS_OF), reports.week_before(AS_OF)}
    assert len(reports.history_dates(AS_OF)) == 13
    assert reports.history_dates(AS_OF)[0] == D(AS_OF.year - 1, AS_OF.month + 1, 1) - dt.timedelta(days=1)


def test_tier_moves_equal_indicators_tier_changes(demo, panel, policy):
    expected = tier_changes(demo, AS_OF, policy)
    got = tier_moves(panel, reports.week_before(AS_OF), AS_OF)
    assert not got.empty
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False)


def test_tier_change_summary_counts_entries_and_exits():
    moves = pd.DataFrame({"county_code": ["a", "b", "c"], "tier_before": [0, 1, 2], "tier_now": [2, 3, 1]})
    summary = reports.tier_change_summary(moves).set_index("tier")
    assert summary.loc[3].tolist() == [1, 0]
    assert summary.loc[2].tolist() == [1, 1]
    assert summary.loc[1].tolist() == [1, 1]
    assert summary.loc[0].tolist() == [0, 1]


def test_tier_matrix_matches_tier_history_riskiest_first(demo, panel, policy):
    matrix = reports.tier_matrix(panel, AS_OF)
    history = tier_history(demo, AS_OF, policy)
    dates = reports.history_dates(AS_OF)
    assert list(matrix.columns) == [*reports.COUNTY_COLUMNS, *dates]
    for row in matrix.head(5).itertuples(index=False):
        code = row.county_code
        expected = history[history["county_code"] == code].sort_values("as_of")["tier"].tolist()
        assert list(row[3:]) == expected
    assert matrix[AS_OF].is_monotonic_decreasing


def test_coverage_trend_median_at_as_of(panel):
    trend = reports.coverage_trend(panel, AS_OF)
    assert len(trend) == 13
    at = reports.at_date(panel, AS_OF)
    assert trend.iloc[-1]["median"] == pytest.approx(at["coverage_months"].median())
    assert (trend["q25"] <= trend["median"]).all() and (trend["median"] <= trend["q75"]).all()


def test_county_history_and_city_filter(panel):
    code = panel["county_code"].iloc[0]
    history = reports.county_history(panel, AS_OF, [code])
    assert len(history) == 13 and set(history["county_code"]) == {code}
    city = panel["city_name"].iloc[0]
    assert set(reports.in_cities(panel, [city])["city_name"]) == {city}
    assert len(reports.in_cities(panel, [])) == len(panel)


# ---- payroll ---------------------------------------------------------------------------
def test_payday_history_agrees_with_metrics_for_the_last_payday(demo, panel, policy):
    history = reports.payday_history(demo, AS_OF, policy)
    at = reports.at_date(panel, AS_OF).set_index("county_code")
    last = history[history["payday"] <= pd.Timestamp(AS_OF)].sort_values("payday").groupby("county_code").tail(1)
    assert len(last) == len(at)
    statuses = set()
    for row in last.itertuples():
        expected = at.loc[row.county_code]
        assert row.payday == expected["last_payday"]
        assert row.status == expected["last_payday_status"]
        assert row.ratio == pytest.approx(expected["last_payday_ratio"])
        assert row.shortfall == pytest.approx(expected["last_payday_shortfall"])
        statuses.add(row.status)
    assert {"shortfall", "funded_late", "funded_on_time"} <= statuses  # the demo covers every past status


def test_payday_history_includes_next_payday_once_its_cutoff_passed(demo, panel, policy):
    history = reports.payday_history(demo, AS_OF, policy)
    at = reports.at_date(panel, AS_OF)
    overdue = at[at["next_payday_status"] == "overdue"]
    assert not overdue.empty
    for row in overdue.itertuples():
        match = history[(history["county_code"] == row.county_code) & (history["payday"] == row.next_payday)]
        assert match["status"].tolist() == ["overdue"]
        assert match["ratio"].iloc[0] == pytest.approx(row.next_payday_ratio)
    first_month = pd.Timestamp(D(AS_OF.year - 1, AS_OF.month + 1, 1))  # 12 months up to A's month
    assert (history["payday"] >= first_month).all() and (history["month"] == first_month).any()


WORKED = dict(
    treasury=[("000001", D(2025, 3, 9), 650.0, 0.0, 0.0)],
    payroll_schedule=[("000001", D(2025, 3, 5), 800.0), ("000001", D(2025, 2, 5), 800.0)],
    payroll_account=[("000001", D(2025, 1, 20), 800.0), ("000001", D(2025, 2, 5), 0.0),
                     ("000001", D(2025, 2, 20), 300.0), ("000001", D(2025, 2, 28), 800.0),
                     ("000001", D(2025, 3, 5), 0.0)],
)


def test_payday_history_worked_example(make_lake, policy):
    """SPEC §7: the 2025-03-05 payday is funded late with ratio 0.375; February's was on time."""
    history = reports.payday_history(make_lake(**WORKED).snapshot(), D(2025, 3, 10), policy)
    assert history["payday"].dt.date.tolist() == [D(2025, 2, 5), D(2025, 3, 5)]
    assert history["status"].tolist() == ["funded_on_time", "funded_late"]
    assert history["ratio"].tolist() == pytest.approx([1.0, 0.375])
    assert history["cutoff"].dt.date.tolist() == [D(2025, 1, 29), D(2025, 2, 26)]


def test_payday_matrix_keeps_the_worse_status_of_a_month():
    history = pd.DataFrame({
        "county_code": ["1", "1", "1"], "county_name": ["甲"] * 3, "city_name": ["市"] * 3,
        "month": pd.to_datetime(["2025-01-01", "2025-01-01", "2025-02-01"]),
        "status": ["funded_on_time", "funded_late", "shortfall"],
    })
    matrix = reports.payday_matrix(history)
    assert matrix.iloc[0].tolist() == ["funded_late", "shortfall"]


def payroll_case(status, cutoff, ratio):
    return {"next_payday_status": status, "next_payday_cutoff": pd.Timestamp(cutoff), "next_payday_ratio": ratio}


def test_payroll_unfunded_rules():
    as_of = D(2025, 3, 10)
    frame = pd.DataFrame([
        payroll_case("overdue", "2025-03-08", 0.4),          # cutoff passed, not funded
        payroll_case("pending", "2025-03-17", 0.2),          # cutoff within the week, account short
        payroll_case("pending", "2025-03-17", 1.0),          # within the week but already funded
        payroll_case("pending", "2025-03-18", 0.0),          # cutoff further than a week
        payroll_case("funded_late", "2025-03-08", 0.3),      # late, but funded now
        payroll_case("funded_on_time", "2025-03-08", 1.0),
        payroll_case(None, None, None),                      # no next payday
    ])
    assert reports.payroll_unfunded(frame, as_of).tolist() == [True, True, False, False, False, False, False]


def test_payroll_table_days_left_and_unfunded_first(panel):
    table = reports.payroll_table(reports.at_date(panel, AS_OF), AS_OF)
    first = table.iloc[0]
    assert first["unfunded"]
    assert first["days_to_cutoff"] == (first["next_payday_cutoff"] - pd.Timestamp(AS_OF)).days
    assert (table["days_to_payday"] - table["days_to_cutoff"]).dropna().eq(7).all()


# ---- treasury --------------------------------------------------------------------------
def test_county_daily_carries_the_account_balance_into_the_window(make_lake):
    lake = make_lake(**WORKED)
    daily = reports.county_daily(lake.snapshot(), "000001", D(2025, 2, 25), D(2025, 3, 10))
    assert daily["date"].dt.date.tolist() == [D(2025, 2, 25), D(2025, 2, 28), D(2025, 3, 5), D(2025, 3, 9)]
    assert daily["account_balance"].tolist()[:3] == [300.0, 800.0, 0.0]
    assert daily["treasury_balance"].iloc[-1] == 650.0


# ---- revenue ---------------------------------------------------------------------------
REVENUE = dict(
    revenue=[
        ("000001", 2024, 3, "税收收入", 1000.0, 200.0),
        ("000001", 2024, 3, "非税收入", 500.0, 100.0),
        ("000001", 2025, 2, "税收收入", 1200.0, 180.0),
        ("000001", 2025, 3, "税收收入", 1200.0, 240.0),
        ("000001", 2025, 3, "非税收入", 600.0, 60.0),
        ("000002", 2025, 2, "税收收入", 800.0, 160.0),
    ],
)


def test_revenue_reports_by_county_category_and_total(make_lake, policy):
    snapshot = make_lake(**REVENUE).snapshot()
    as_of = D(2025, 3, 20)
    rows = reports.revenue_rows(snapshot, as_of)
    by_county = reports.revenue_by_county(metrics(snapshot, as_of, policy), rows).set_index("county_code")
    one = by_county.loc["000001"]
    # March: (240 + 60) / (1200 + 600) = 1/6 against 3/12 → −8.33 pp, the prompt severity
    assert (one["month"], one["budget"], one["actual_ytd"], one["prev_actual_ytd"]) == (3, 1800.0, 300.0, 300.0)
    assert one["revenue_progress"] == pytest.approx(0.166667, abs=1e-6)
    assert one["time_progress"] == 0.25
    assert one["revenue_gap_pp"] == pytest.approx(-8.333333, abs=1e-6)
    assert one["sev_revenue"] == 1
    assert one["yoy_growth"] == 0.0  # 300 this March, 300 last March
    two = by_county.loc["000002"]
    # February: 160 / 800 = 0.2 against 2/12 → +3.33 pp; no row a year before
    assert (two["month"], two["revenue_progress"], two["sev_revenue"]) == (2, 0.2, 0)
    assert two["revenue_gap_pp"] == pytest.approx(3.333333, abs=1e-6)
    assert pd.isna(two["yoy_growth"])

    totals = reports.revenue_totals(rows)  # only the counties that reported March
    assert (totals.month, totals.counties, totals.budget, totals.actual_ytd) == (3, 1, 1800.0, 300.0)
    assert totals.time_progress == 0.25 and totals.yoy_growth == pytest.approx(0.0)

    categories = reports.revenue_by_category(rows).set_index("category")
    assert categories.loc["税收收入", "revenue_progress"] == pytest.approx(240 / 1200)
    assert categories.loc["税收收入", "prev_progress"] == pytest.approx(200 / 1000)
    assert categories.loc["非税收入", "yoy_growth"] == pytest.approx(60 / 100 - 1)


def test_revenue_monthly_curve(make_lake):
    monthly = reports.revenue_monthly(make_lake(**REVENUE).snapshot(), "000001", D(2025, 3, 20))
    assert list(zip(monthly["year"], monthly["month"])) == [(2024, 3), (2025, 2), (2025, 3)]
    assert monthly["revenue_progress"].tolist() == pytest.approx([300 / 1500, 180 / 1200, 300 / 1800])


# ---- forward payroll and the overview --------------------------------------------------
# A = 2025-04-10. Treasury in January–March (3 months of history) for 000001 and 000002,
# February–March only (too short) for 000003.
FORWARD_AS_OF = D(2025, 4, 10)
FORWARD = dict(
    treasury=[
        ("000001", D(2025, 1, 15), 1000.0, 600.0, 500.0),
        ("000001", D(2025, 2, 15), 1100.0, 700.0, 600.0),
        ("000001", D(2025, 3, 15), 1200.0, 800.0, 700.0),
        *[("000002", D(2025, m, 15), 100.0, 100.0, 200.0) for m in (1, 2, 3)],
        *[("000003", D(2025, m, 15), 500.0, 100.0, 100.0) for m in (2, 3)],
    ],
    payroll_schedule=[
        *[("000001", D(2025, m, 5), 300.0) for m in (1, 2, 3)],
        *[("000001", D(2025, m, 5), 400.0) for m in (5, 6, 7)],
        *[("000002", D(2025, m, 5), 100.0) for m in (1, 2, 3)],
        *[("000002", D(2025, m, 20), 300.0) for m in (4, 5, 6)],
    ],
    payroll_account=[
        ("000001", D(2025, 1, 1), 300.0),
        ("000001", D(2025, 4, 1), 100.0),
    ],
    revenue=[
        ("000001", 2025, 3, "税收收入", 1200.0, 300.0),
        ("000002", 2025, 2, "税收收入", 800.0, 160.0),
    ],
)


def test_forward_payroll_by_hand(make_lake, policy):
    snapshot = make_lake(**FORWARD).snapshot()
    forward = reports.forward_payroll(metrics(snapshot, FORWARD_AS_OF, policy))
    # 000002: 100 + 0 + 3 × (100 − (200 − 100)) = 100 available for 3 × 300 due → 0.111, 预警
    # 000001: 1200 + 100 + 3 × (700 − (600 − 300)) = 2500 available for 3 × 400 due → 2.083
    # 000003: two months of history only → no assessment, listed last
    assert forward["county_code"].tolist() == ["000002", "000001", "000003"]
    assert forward["available"].tolist()[:2] == [100.0, 2500.0] and pd.isna(forward["available"].iloc[2])
    assert forward["forward_need"].tolist()[:2] == [900.0, 1200.0]
    assert forward["payroll_cover_3m"].tolist()[:2] == pytest.approx([0.111111, 2.083333], abs=1e-6)
    assert forward["sev_forward"].tolist() == [2, 0, 0]


def test_idle_cash_by_hand(make_lake, policy):
    snapshot = make_lake(**FORWARD).snapshot()
    idle = reports.idle_cash(metrics(snapshot, FORWARD_AS_OF, policy), policy)
    # 000001: 1200 / 600 = 2.0 months > 0.8 (闲置): 1200 − 0.8 × 600 = 720 above the line;
    # 000002 at 0.5 months is 正常, 000003 has no coverage
    assert idle["county_code"].tolist() == ["000001"]
    assert idle["coverage_band"].tolist() == ["闲置"] and idle["idle_amount"].tolist() == [720.0]


def test_idle_cash_lists_the_most_idle_cash_first(panel, policy):
    idle = reports.idle_cash(reports.at_date(panel, AS_OF), policy)
    assert len(idle) >= 2 and idle["idle_amount"].is_monotonic_decreasing


def test_overview_figures_by_hand(make_lake, policy):
    snapshot = make_lake(**FORWARD).snapshot()
    at = metrics(snapshot, FORWARD_AS_OF, policy)
    summary = reports.overview(at, reports.revenue_rows(snapshot, FORWARD_AS_OF), FORWARD_AS_OF)
    # 000002 missed its March payday (no payroll account) → 重点关注; the others 正常
    assert summary.counties == 3 and summary.tier_counts == {0: 2, 1: 0, 2: 0, 3: 1, -1: 0}  # -1: 无数据
    # only 000002's next payday (04-20, cutoff 04-13 within a week, account empty) is unfunded
    assert summary.payroll_unfunded == 1
    assert summary.median_coverage == 1.25  # median of 1200 / 600 = 2.0 and 100 / 200 = 0.5
    revenue = summary.revenue  # only 000001 reported March
    assert (revenue.month, revenue.counties, revenue.budget, revenue.actual_ytd) == (3, 1, 1200.0, 300.0)
    assert revenue.progress == 0.25 and revenue.gap_pp == 0.0


def test_lake_with_only_counties_and_treasury(make_lake, policy):
    lake = make_lake(treasury=[("000001", D(2025, 1, 10), 100.0, 10.0, 5.0)])
    snapshot = lake.snapshot()
    as_of = reports.latest_date(snapshot)
    assert as_of == D(2025, 1, 10)
    rows = reports.revenue_rows(snapshot, as_of)
    assert rows.empty and reports.revenue_totals(rows) is None and reports.revenue_by_category(rows).empty
    assert reports.payday_history(snapshot, as_of, policy).empty
    panel = reports.indicator_panel(snapshot, as_of, policy)
    summary = reports.overview(reports.at_date(panel, as_of), rows, as_of)
    assert summary.counties == 1 and summary.payroll_unfunded == 0 and summary.median_coverage is None
    assert reports.county_list(snapshot)["county_code"].tolist() == ["000001"]
    fresh = reports.freshness(snapshot, as_of).set_index("kind")
    assert fresh.loc["revenue", "rows"] == 0 and fresh.loc["revenue", "stale"]


def test_empty_lake_has_no_latest_date(tmp_path):
    snapshot = Lake(tmp_path / "nothing").snapshot()
    assert reports.latest_date(snapshot) is None
    assert reports.county_list(snapshot).empty


def test_week_before():
    assert reports.week_before(D(2025, 3, 10)) == dt.date(2025, 3, 3)


def test_month_end_rows_are_reused_within_a_month_and_never_outlive_the_extracts(make_lake, policy):
    """Panels at two as-of dates of April share the month-end rows; an upload that changes
    March's flows gives new month-end rows and a new A (hand-computed coverage)."""
    months = [D(2024, 12, 15), D(2025, 1, 15), D(2025, 2, 15), D(2025, 3, 15)]
    treasury = [("000001", day, 1000.0, 0.0, 300.0 * (i + 1)) for i, day in enumerate(months)]  # 300 … 1200
    treasury += [("000001", D(2025, 3, 31), 1200.0, 0.0, 0.0), ("000001", D(2025, 4, 10), 900.0, 0.0, 0.0)]
    lake = make_lake(treasury=treasury)

    def coverage(snapshot, as_of: dt.date, day: dt.date) -> float:
        panel = reports.indicator_panel(snapshot, as_of, policy)
        return panel.loc[panel["as_of"] == pd.Timestamp(day), "coverage_months"].item()

    before = lake.snapshot()
    assert coverage(before, D(2025, 4, 10), D(2025, 4, 10)) == pytest.approx(900 / 750)  # Dec–Mar: 3000 / 4
    assert coverage(before, D(2025, 4, 12), D(2025, 4, 12)) == pytest.approx(900 / 750)
    assert coverage(before, D(2025, 4, 12), D(2025, 3, 31)) == pytest.approx(1200 / 600)  # Dec–Feb: 1800 / 3

    lake.upsert("treasury", frame("treasury", [("000001", D(2025, 2, 15), 1000.0, 0.0, 1500.0)]), user="test")
    after = lake.snapshot()
    assert coverage(after, D(2025, 4, 12), D(2025, 3, 31)) == pytest.approx(1200 / 800)  # (300+600+1500) / 3
    assert coverage(after, D(2025, 4, 12), D(2025, 4, 12)) == pytest.approx(900 / 900)  # (…+1200) / 4
