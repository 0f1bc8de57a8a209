"""Tests for the deterministic demo data generator (fiscal/demo.py)."""
import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from fiscal.demo import DEMO_END, build_frames
from fiscal.extracts import KINDS

SHORT_END = datetime.date(2025, 3, 3)  # a Monday: the last month has one working day


@pytest.fixture(scope="module")
def frames():
    return build_frames()


@pytest.fixture(scope="module", params=["default", "short"])
def any_frames(request, frames):
    """The default data set and a small, short one with an awkward end date."""
    return frames if request.param == "default" else build_frames(7, 1, seed=11, end=SHORT_END)


@pytest.fixture(scope="module")
def national():
    return build_frames(2844, 3)


def as_dates(column: pd.Series) -> pd.Series:
    return pd.to_datetime(column)


def test_same_arguments_give_identical_frames(frames):
    again = build_frames()
    assert list(again) == list(KINDS)
    for kind in KINDS:
        pd.testing.assert_frame_equal(frames[kind], again[kind])
    other = build_frames(seed=7)
    assert not frames["treasury"].equals(other["treasury"])


def test_columns_and_types_match_the_arrow_schema(any_frames):
    for kind, spec in KINDS.items():
        df = any_frames[kind]
        assert list(df.columns) == spec.column_names, kind
        table = pa.Table.from_pandas(df, schema=spec.arrow_schema(), preserve_index=False)
        assert table.schema.equals(spec.arrow_schema()), kind
        for col in spec.columns:
            values = df[col.name]
            if col.kind in ("code", "text"):
                assert pd.api.types.is_string_dtype(values), (kind, col.name)
            elif col.kind == "date":
                assert all(type(v) is datetime.date for v in values.iloc[:50]), (kind, col.name)
            elif col.kind == "int":
                assert values.dtype == np.int32, (kind, col.name)
            else:
                assert values.dtype == np.float64, (kind, col.name)
                assert values.notna().all() and (values >= 0).all(), (kind, col.name)
                cents = values * 100
                assert np.allclose(cents, cents.round(), atol=1e-6), (kind, col.name)
            if col.positive:
                assert (values > 0).all(), (kind, col.name)
        assert not df.duplicated(list(spec.keys)).any(), kind


def test_every_county_code_is_known_and_fictional(any_frames):
    codes = any_frames["counties"]["county_code"]
    assert codes.is_unique
    assert codes.str.fullmatch(r"99\d{4}").all()
    for kind in KINDS:
        assert any_frames[kind]["county_code"].isin(codes).all(), kind


def test_treasury_continuity_is_exact_and_balances_non_negative(any_frames):
    t = any_frames["treasury"]
    cents = {c: np.rint(t[c].to_numpy() * 100).astype(np.int64) for c in ("balance", "inflow", "outflow")}
    same_county = (t["county_code"] == t["county_code"].shift()).to_numpy()
    step = np.diff(cents["balance"], prepend=0)
    assert (step[same_county] == (cents["inflow"] - cents["outflow"])[same_county]).all()
    assert (t["balance"] >= 0).all()
    assert (t["inflow"] >= 0).all() and (t["outflow"] > 0).all()


def test_treasury_has_every_working_day_from_january_first_to_end(frames):
    dates = as_dates(frames["treasury"]["date"])
    assert dates.min() == pd.Timestamp(DEMO_END.year - 2, 1, 1)
    assert dates.max() == pd.Timestamp(DEMO_END)
    assert (dates.dt.day_of_week < 5).all()
    per_county = frames["treasury"].groupby("county_code").size()
    assert per_county.nunique() == 1
    assert per_county.iloc[0] == np.busday_count(f"{DEMO_END.year - 2}-01-01", DEMO_END + datetime.timedelta(1))


def test_actual_ytd_never_falls_within_a_year(any_frames):
    r = any_frames["revenue"]
    assert set(r["category"]) == {"税收收入", "非税收入"}
    by_year = r.groupby(["county_code", "year", "category"])
    assert by_year["actual_ytd"].apply(lambda s: s.is_monotonic_increasing).all()
    assert (by_year["budget"].nunique() == 1).all()
    end = as_dates(any_frames["treasury"]["date"]).max()
    assert sorted(set(r[r["year"] == end.year]["month"])) == list(range(1, end.month + 1))


def test_paydays_reach_three_months_past_end(frames):
    s = frames["payroll_schedule"]
    months = as_dates(s["payday"]).dt.to_period("M")
    end_month = pd.Period(DEMO_END, "M")
    for ahead in (1, 2, 3):
        has_month = (months == end_month + ahead).groupby(s["county_code"]).any()
        assert has_month.all(), ahead
    day = as_dates(s["payday"]).dt.day
    assert day.between(5, 15).mean() > 0.9  # early-month paydays (one overdue county aside)
    assert (s["headcount"] > 0).all()


def test_december_spending_surge(frames):
    t = frames["treasury"]
    dates = as_dates(t["date"])
    last_full_year = t[dates.dt.year == DEMO_END.year - 1]
    monthly = last_full_year.groupby(["county_code", dates.dt.month]).outflow.sum().unstack()
    ratio = monthly[12] / monthly.mean(axis=1)
    assert (ratio > 1.0).mean() >= 0.9
    assert ratio.median() > 1.3


def coverage(frames, as_of: datetime.date) -> pd.Series:
    """SPEC M2: balance at as_of / mean monthly outflow of the 12 months before its month."""
    t = frames["treasury"]
    dates = as_dates(t["date"])
    t = t[dates <= pd.Timestamp(as_of)].assign(month=dates.dt.to_period("M"))
    balance = t.groupby("county_code")["balance"].last()
    month = pd.Period(as_of, "M")
    history = t[(t["month"] >= month - 12) & (t["month"] < month)]
    average = history.groupby(["county_code", "month"])["outflow"].sum().groupby("county_code").mean()
    return balance / average


def test_coverage_bands_at_end(frames):
    cov = coverage(frames, DEMO_END)
    assert len(cov) == 30
    assert 1 <= (cov < 0.3).sum() <= 2  # 预警
    assert 2 <= ((cov >= 0.3) & (cov < 0.5)).sum() <= 5  # 偏低
    assert ((cov >= 0.5) & (cov <= 0.8)).sum() >= 18  # 正常
    assert (cov > 0.8).sum() >= 2  # 闲置


def account_balance(account: pd.DataFrame, county: str, day: datetime.date) -> float:
    rows = account[(account["county_code"] == county) & (account["date"] <= day)]
    return float(rows["balance"].iloc[-1]) if len(rows) else 0.0


def test_payroll_trouble_at_end(frames):
    """SPEC M3 by hand: most counties funded the last payday by T−7; one fell short and
    one has let the next payday's T−7 cutoff pass underfunded."""
    s, account = frames["payroll_schedule"], frames["payroll_account"]
    week = datetime.timedelta(7)
    on_time, shortfall, overdue = 0, 0, 0
    for county, plan in s.groupby("county_code"):
        last = plan[plan["payday"] <= DEMO_END].iloc[-1]
        if account_balance(account, county, last["payday"] - week) >= last["amount_due"]:
            on_time += 1
        elif account_balance(account, county, last["payday"] - datetime.timedelta(1)) < last["amount_due"]:
            shortfall += 1
        following = plan[plan["payday"] > DEMO_END].iloc[0]
        cutoff = following["payday"] - week
        if cutoff <= DEMO_END and account_balance(account, county, DEMO_END) < following["amount_due"]:
            overdue += 1
    assert on_time >= 25 and shortfall >= 1 and overdue >= 1


def test_revenue_and_advances_spread_at_end(frames):
    r = frames["revenue"]
    latest = r[(r["year"] == DEMO_END.year) & (r["month"] == DEMO_END.month)]
    totals = latest.groupby("county_code")[["actual_ytd", "budget"]].sum()
    gap = 100 * (totals["actual_ytd"] / totals["budget"] - DEMO_END.month / 12)
    assert (gap.abs() <= 8).sum() >= 20
    assert 1 <= (gap < -20).sum() <= 2
    assert 2 <= ((gap < -8) & (gap >= -20)).sum() <= 4

    a = frames["advances"].set_index(["county_code", "year", "month"])
    now = a.xs((DEMO_END.year, DEMO_END.month), level=("year", "month"))
    december = a.xs((DEMO_END.year - 1, 12), level=("year", "month"))
    ratio = now["advances_balance"] / (december["general_exp_ytd"] + december["fund_exp_ytd"])
    assert ratio.between(0.01, 0.04).sum() >= 24
    assert 2 <= (ratio > 0.05).sum() <= 3
    assert (a["fund_exp_ytd"] / a["general_exp_ytd"]).between(0.2, 0.4).all()


def test_national_scale_is_well_formed(national):
    result = national
    counties = result["counties"]
    assert len(counties) == 2844 and counties["county_code"].is_unique
    assert counties["county_name"].iloc[0] == "演示县0001"
    assert counties["city_name"].iloc[0] == "演示市001"
    assert counties.groupby("city_name").size().between(6, 14).all()
    t = result["treasury"]
    assert len(t) == 2844 * (len(t) // 2844)
    assert (t["balance"] >= 0).all() and (t["inflow"] >= 0).all()


def test_small_data_set_names(frames):
    counties = frames["counties"]
    assert counties["county_name"].iloc[0] == "演示县01"
    assert set(counties["city_name"]) <= {f"演示{s}市" for s in "甲乙丙丁戊己庚辛壬癸"}
    assert counties.groupby("city_name").size().between(8, 12).all()
    assert counties["population"].between(5, 200).all()


def test_daily_rows_cover_every_calendar_day_with_the_same_balances():
    sparse = build_frames(7, 1, seed=11, end=SHORT_END)
    daily = build_frames(7, 1, seed=11, end=SHORT_END, daily=True)
    for kind in ("counties", "payroll_schedule", "revenue", "advances"):
        pd.testing.assert_frame_equal(sparse[kind], daily[kind])
    for kind in ("treasury", "payroll_account"):
        rows = daily[kind].assign(date=as_dates(daily[kind]["date"]))
        for code, county in rows.groupby("county_code"):
            assert (county["date"].diff().dropna() == pd.Timedelta(days=1)).all(), (kind, code)
            assert county["date"].max() == pd.Timestamp(SHORT_END), (kind, code)
        # bal(X, d) of SPEC §4 is the same on every day, whichever rows are stored
        before = sparse[kind].assign(date=as_dates(sparse[kind]["date"])).sort_values("date")
        looked_up = pd.merge_asof(rows.sort_values("date")[["county_code", "date"]], before,
                                  on="date", by="county_code")
        merged = rows.sort_values("date").reset_index(drop=True)
        assert np.array_equal(looked_up["balance"].to_numpy(), merged["balance"].to_numpy()), kind
    added = daily["treasury"].merge(sparse["treasury"][["county_code", "date"]], how="left", indicator=True)
    assert (added.loc[added["_merge"] == "left_only", ["inflow", "outflow"]] == 0).all().all()
    assert len(daily["treasury"]) > len(sparse["treasury"])
