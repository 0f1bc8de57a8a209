"""Read-side views for the dashboard and CLI beyond the per-county metrics.

Most of what the dashboard shows comes from one *indicator panel* per lake snapshot,
as-of date A and policy: the indicators of every county at A, at A − 7 days and at the
month-ends of the last 12 months, computed in one DuckDB pass (which costs about as much
as a single date). The functions that take a `panel`, `metrics` or revenue `rows` frame
are pure pandas views of those query results; the others run one SQL file each.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .data_gaps import display_rank, mark_blind
from .extracts import KINDS
from .indicators import COUNTY_COLUMNS, indicators, latest_date, month_ends_before, tiers_by_date  # noqa: F401 (latest_date: the dashboard's default as-of date)
from .lake import Kept, Snapshot
from .policy import Policy
from .queries import run
from .vocabulary import ARRIVAL_LABELS, COVERAGE_BANDS, PAYDAY_STATUS_ORDER, SHOWN_TIER_LABELS, by_code

WEEK_DAYS = 7  # "本周变化" compares A with A − 7 days (the weekly dispatch meeting)
HISTORY_MONTHS = 12  # SPEC §5: tier history over the month-ends of the last 12 months
REASON_SEPARATOR = "；"
IDLE_BAND = by_code(COVERAGE_BANDS)["idle"].label


# ---- freshness and the default as-of date ----------------------------------------
def freshness(snapshot: Snapshot, as_of: dt.date | None = None, stale_days: int = 7) -> pd.DataFrame:
    """Latest date and rows of each dated extract; `stale` when older than as_of − stale_days."""
    frame = run("freshness", snapshot)
    frame["label"] = frame["kind"].map(lambda k: KINDS[k].label)
    frame["latest"] = pd.to_datetime(frame["latest"]).dt.date
    if as_of is None:
        frame["stale"] = False
    else:
        limit = as_of - dt.timedelta(days=stale_days)
        frame["stale"] = frame["latest"].map(lambda d: d is None or pd.isna(d) or d < limit)
    return frame


def county_list(snapshot: Snapshot) -> pd.DataFrame:
    """Every county of the lake (code, name, city), by code."""
    return run("county_list", snapshot)


def reporting_status(snapshot: Snapshot, as_of: dt.date) -> pd.DataFrame:
    """报送情况: each county's latest date per extract on or before A, and whether its
    treasury daily arrived in A's week (`arrival`: 本周已报送 / 本周未报送 / 从未报送);
    counties that did not report come first."""
    frame = run("reporting_status", snapshot, as_of=as_of, week_days=WEEK_DAYS)
    for column in frame.columns[frame.columns.str.endswith("_latest")]:
        frame[column] = pd.to_datetime(frame[column])
    arrived = frame["treasury_this_week"].astype(bool)
    frame["arrival"] = np.select([arrived, frame["treasury_latest"].notna()],
                                 [ARRIVAL_LABELS["arrived"], ARRIVAL_LABELS["late"]], ARRIVAL_LABELS["never"])
    return frame


# ---- the indicator panel and its views ---------------------------------------------
def history_dates(as_of: dt.date) -> list[dt.date]:
    """The dates of the tier history: the last 12 month-ends, then A itself."""
    return [*month_ends_before(as_of, HISTORY_MONTHS), as_of]


def week_before(as_of: dt.date) -> dt.date:
    return as_of - dt.timedelta(days=WEEK_DAYS)


def indicator_panel(snapshot: Snapshot, as_of: dt.date, policy: Policy) -> pd.DataFrame:
    """Indicators of every county at A, A − 7 days and the history month-ends.

    The month-end rows depend on the extracts and the month of A only, so they are kept per
    extracts version (`_month_end_rows`): another as-of date of the same month computes just A
    and A − 7. `reasons` comes back as one string joined with REASON_SEPARATOR rather than a
    list: a column of lists makes copying the frame (out of a cache) tenfold slower. Counties
    blind at a date are marked (fiscal.data_gaps): `tier` is then NO_DATA_TIER, never 0.
    """
    month_ends = tuple(month_ends_before(as_of, HISTORY_MONTHS))
    fresh = sorted({as_of, week_before(as_of)} - set(month_ends))
    key = (snapshot.extracts_key, month_ends, policy)
    kept = _month_end_rows.get(key)
    if kept is None:
        panel = _panel_rows(snapshot, [*month_ends, *fresh], policy)
        _month_end_rows.put(key, panel[panel["as_of"].isin(pd.to_datetime(list(month_ends)))])
        return panel
    # rows are ordered by date, then as the SQL orders them within a date
    panel = pd.concat([kept, _panel_rows(snapshot, fresh, policy)], ignore_index=True)
    return panel.sort_values("as_of", kind="stable", ignore_index=True)


def _panel_rows(snapshot: Snapshot, dates: list[dt.date], policy: Policy) -> pd.DataFrame:
    """The panel's rows at `dates`, marked where blind (each row on its own)."""
    rows = indicators(snapshot, dates, policy)
    rows["reasons"] = rows["reasons"].map(REASON_SEPARATOR.join).astype("str")
    return mark_blind(rows)


# one national-scale set of month-end rows is some 13 MB
_month_end_rows = Kept(size=4)


def at_date(panel: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """The panel's rows for one date (tier descending, then county code), like `metrics`."""
    rows = panel[panel["as_of"] == pd.Timestamp(day)]
    return (rows.assign(_rank=display_rank(rows["tier"]))
            .sort_values(["_rank", "county_code"], ascending=[False, True], ignore_index=True).drop(columns="_rank"))


def in_cities(frame: pd.DataFrame, cities: list[str] | tuple[str, ...]) -> pd.DataFrame:
    """Rows of the chosen cities (no choice = every city)."""
    return frame[frame["city_name"].isin(cities)] if cities else frame


def tier_change_summary(moves: pd.DataFrame) -> pd.DataFrame:
    """Per shown tier (无数据 and 0–3): how many counties entered it and how many left it."""
    tiers = pd.Index(list(SHOWN_TIER_LABELS), name="tier")
    entered = moves.groupby("tier_now").size().reindex(tiers, fill_value=0)
    left = moves.groupby("tier_before").size().reindex(tiers, fill_value=0)
    return pd.DataFrame({"entered": entered, "left": left}).reset_index()


def tier_matrix(panel: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """County × history date of tiers; riskiest now first (then riskiest over the year)."""
    dates = history_dates(as_of)
    wide = tiers_by_date(panel, dates)
    wide.columns = dates
    order = pd.DataFrame({"now": display_rank(wide[as_of]), "worst": wide.max(axis=1)}, index=wide.index)
    order = order.sort_values(["now", "worst"], ascending=False, kind="stable")
    return wide.loc[order.index].reset_index()


def county_history(panel: pd.DataFrame, as_of: dt.date, county_codes: list[str]) -> pd.DataFrame:
    """The panel's rows of some counties at the history dates (month-ends and A), oldest first."""
    rows = panel[panel["as_of"].isin(pd.to_datetime(history_dates(as_of))) & panel["county_code"].isin(county_codes)]
    return rows.sort_values(["county_code", "as_of"], ignore_index=True)


def coverage_trend(panel: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Median and quartiles of coverage_months over counties at each history date."""
    rows = panel[panel["as_of"].isin(pd.to_datetime(history_dates(as_of)))]
    grouped = rows.groupby("as_of")["coverage_months"]
    trend = pd.DataFrame({
        "median": grouped.median(),
        "q25": grouped.quantile(0.25),
        "q75": grouped.quantile(0.75),
        "counties": grouped.count(),
    })
    return trend.reset_index()


# ---- overview figures ---------------------------------------------------------------
def payroll_unfunded(metrics: pd.DataFrame, as_of: dt.date) -> pd.Series:
    """Whether each county's next payday still lacks money that is due (or due within a week).

    The next payday counts as unfunded when its T−7 cutoff has passed without the full
    amount (`overdue`), or when the cutoff falls within the coming week and the payroll
    account holds less than the amount today. A payday whose cutoff is further away is
    not flagged: counties normally fund in the days just before the cutoff.
    """
    soon = pd.Timestamp(as_of + dt.timedelta(days=WEEK_DAYS))
    overdue = metrics["next_payday_status"] == "overdue"
    due_soon = (
        (metrics["next_payday_status"] == "pending")
        & (metrics["next_payday_cutoff"] <= soon)
        & (metrics["next_payday_ratio"] < 1)
    )
    return (overdue | due_soon).fillna(False).astype(bool)


@dataclass(frozen=True)
class RevenueTotals:
    """Revenue progress summed over the counties that reported the latest month."""

    month: int
    counties: int
    budget: float
    actual_ytd: float
    prev_actual_ytd: float | None

    @property
    def progress(self) -> float:
        return self.actual_ytd / self.budget

    @property
    def time_progress(self) -> float:
        return self.month / 12

    @property
    def gap_pp(self) -> float:
        return 100 * (self.progress - self.time_progress)

    @property
    def yoy_growth(self) -> float | None:
        if not self.prev_actual_ytd:
            return None
        return self.actual_ytd / self.prev_actual_ytd - 1


@dataclass(frozen=True)
class Overview:
    tier_counts: dict[int, int]
    counties: int
    payroll_unfunded: int
    median_coverage: float | None
    revenue: RevenueTotals | None


def overview(metrics: pd.DataFrame, revenue_rows: pd.DataFrame, as_of: dt.date) -> Overview:
    """The KPI row of the overview page."""
    counts = metrics["tier"].value_counts()
    median = metrics["coverage_months"].median()
    return Overview(
        tier_counts={tier: int(counts.get(tier, 0)) for tier in SHOWN_TIER_LABELS},
        counties=len(metrics),
        payroll_unfunded=int(payroll_unfunded(metrics, as_of).sum()),
        median_coverage=None if pd.isna(median) else float(median),
        revenue=revenue_totals(revenue_rows),
    )


# ---- payroll ------------------------------------------------------------------------
def payroll_table(metrics: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Every county's next payday with days left, plus its last payday; unfunded first."""
    table = metrics.copy()
    today = pd.Timestamp(as_of)
    table["days_to_payday"] = (table["next_payday"] - today).dt.days
    table["days_to_cutoff"] = (table["next_payday_cutoff"] - today).dt.days
    table["unfunded"] = payroll_unfunded(metrics, as_of)
    return table.sort_values(["unfunded", "days_to_cutoff", "county_code"],
                             ascending=[False, True, True], ignore_index=True, na_position="last")


def payday_history(snapshot: Snapshot, as_of: dt.date, policy: Policy, months: int = HISTORY_MONTHS) -> pd.DataFrame:
    """Every payday in the last `months` months (and later ones past their cutoff), with status on A."""
    return run("payday_history", snapshot, as_of=as_of, months=months, lead_days=policy.lead_days)


def payday_matrix(history: pd.DataFrame) -> pd.DataFrame:
    """County × month of payday statuses (the worse one when a month has two paydays)."""
    rank = history["status"].map({s: i for i, s in enumerate(PAYDAY_STATUS_ORDER)})
    worst = history.assign(rank=rank).sort_values("rank").drop_duplicates([*COUNTY_COLUMNS, "month"])
    return worst.pivot(index=COUNTY_COLUMNS, columns="month", values="status")


# ---- treasury -----------------------------------------------------------------------
def idle_cash(metrics: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """Counties whose coverage is above the idle line, with the cash above that line."""
    idle = metrics[metrics["coverage_band"] == IDLE_BAND].copy()  # the band the indicator SQL gave
    idle["idle_amount"] = idle["treasury_balance"] - policy.coverage_idle * idle["avg_monthly_outflow"]
    return idle.sort_values("idle_amount", ascending=False, ignore_index=True)


def county_daily(snapshot: Snapshot, county_code: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    """One county's daily treasury balance, inflow, outflow and payroll-account balance."""
    return run("county_daily", snapshot, county_code=county_code, start=start, end=end)


# ---- revenue ------------------------------------------------------------------------
def revenue_rows(snapshot: Snapshot, as_of: dt.date) -> pd.DataFrame:
    """County × category rows of each county's latest revenue month in year(A), with last year's."""
    return run("revenue_progress", snapshot, as_of=as_of)


def revenue_by_county(metrics: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """M4 per county exactly as the indicator SQL computed it for the tiers (month, progress,
    序时进度, gap and its severity), with the budget and actual summed from `rows` and the
    year-on-year growth of actual_ytd. Counties without revenue rows are left out."""
    m4 = metrics.loc[metrics["revenue_month"].notna(),
                     [*COUNTY_COLUMNS, "revenue_month", "revenue_progress", "time_progress", "revenue_gap_pp",
                      "sev_revenue"]]
    sums = rows.groupby("county_code", as_index=False)[["budget", "actual_ytd", "prev_actual_ytd"]].sum(min_count=1)
    table = m4.rename(columns={"revenue_month": "month"}).astype({"month": int}).merge(sums, on="county_code")
    table["yoy_growth"] = table["actual_ytd"] / table["prev_actual_ytd"] - 1
    return table.sort_values(["revenue_gap_pp", "county_code"], ignore_index=True)


def revenue_totals(rows: pd.DataFrame) -> RevenueTotals | None:
    """All counties that reported the latest month, summed; None without revenue rows."""
    if rows.empty:
        return None
    month = int(rows["month"].max())
    latest = rows[rows["month"] == month]
    prev = latest["prev_actual_ytd"].sum(min_count=1)
    return RevenueTotals(
        month=month,
        counties=latest["county_code"].nunique(),
        budget=float(latest["budget"].sum()),
        actual_ytd=float(latest["actual_ytd"].sum()),
        prev_actual_ytd=None if pd.isna(prev) else float(prev),
    )


def revenue_by_category(rows: pd.DataFrame) -> pd.DataFrame:
    """Per category, over the counties that reported the latest month: progress now and a year ago."""
    if rows.empty:
        return pd.DataFrame(columns=["category", "budget", "actual_ytd", "prev_budget", "prev_actual_ytd",
                                     "revenue_progress", "prev_progress", "yoy_growth", "month"])
    month = int(rows["month"].max())
    latest = rows[rows["month"] == month]
    table = latest.groupby("category", as_index=False)[
        ["budget", "actual_ytd", "prev_budget", "prev_actual_ytd"]].sum(min_count=1)
    table["revenue_progress"] = table["actual_ytd"] / table["budget"]
    table["prev_progress"] = table["prev_actual_ytd"] / table["prev_budget"]
    table["yoy_growth"] = table["actual_ytd"] / table["prev_actual_ytd"] - 1
    table["month"] = month
    return table.sort_values("actual_ytd", ascending=False, ignore_index=True)


def revenue_monthly(snapshot: Snapshot, county_code: str, as_of: dt.date) -> pd.DataFrame:
    """One county's cumulative revenue progress by month, year(A) and the year before."""
    return run("revenue_monthly", snapshot, county_code=county_code, as_of=as_of)


# ---- forward payroll ----------------------------------------------------------------
def forward_payroll(metrics: pd.DataFrame) -> pd.DataFrame:
    """M5 per county as the indicator SQL computed it: payroll due over the forward window,
    money available, cover and its severity; lowest cover first."""
    table = metrics[[*COUNTY_COLUMNS, "tier", "tier_label", "payroll_cover_3m", "sev_forward", "forward_need",
                     "forward_available", "treasury_balance", "account_balance"]]
    table = table.rename(columns={"forward_available": "available"})
    return table.sort_values(["payroll_cover_3m", "county_code"], ignore_index=True, na_position="last")
