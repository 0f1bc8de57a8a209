"""总览：各县区风险等级、关键指标与本周变化。"""
import streamlit as st

from app import formatting as fmt
from app import cache, state, widgets
from app.widgets import Kpi
from fiscal import reports
from fiscal.indicators import tier_moves
from fiscal.vocabulary import NO_DATA_TIER, TIER_MOVE_LABELS

FOCUS_LINKS = 10  # counties listed by name at the top; the table below has them all
# Rows of each table until "显示全部": a summary page, the riskiest first (风险分级 lists more).
TABLE_ROWS = 20

widgets.page_header("总览", freshness=True)
if not widgets.require("counties", "treasury"):
    st.stop()

view = state.view()
metrics = cache.metrics()
summary = reports.overview(metrics, cache.filtered(reports.revenue_rows, view.as_of), view.as_of)

widgets.tier_cards(summary.tier_counts)
revenue = summary.revenue
widgets.kpis([
    Kpi("下次发薪未足额", fmt.counties(summary.payroll_unfunded),
        help=f"下次发薪已过存入截止日（发薪日前 {view.policy.lead_days} 天）仍未足额，"
             "或截止日在 7 天内而工资专户余额不足"),
    Kpi("库款保障水平中位数", fmt.months(summary.median_coverage), help="库款余额 ÷ 月均库款支出，各县区的中位数"),
    Kpi("收入进度", fmt.percent(revenue.progress), fmt.pp_delta(revenue.gap_pp), "较序时进度",
        help=f"{revenue.counties} 个县区 1–{revenue.month} 月累计完成 ÷ 年初预算；序时进度 {revenue.month}/12")
    if revenue else Kpi("收入进度", fmt.MISSING, help="尚无收入进度数据"),
])

attention = metrics[(metrics["tier"] >= 2) | (metrics["tier"] == NO_DATA_TIER)]  # blind counties are noticed too
st.subheader(f"需关注县区（{len(attention)}）")
if attention.empty:
    widgets.empty("截至当日没有预警、重点关注或无数据的县区")
else:
    widgets.county_links(attention.head(FOCUS_LINKS))
    if len(attention) > FOCUS_LINKS:
        st.caption(f"另有 {len(attention) - FOCUS_LINKS} 个县区，见下表")

st.subheader("各县区指标")
widgets.table(widgets.detail_links(metrics), [
    "tier_label", "county_name", "city_name", "treasury_balance", "coverage_months", "coverage_band",
    "next_payday", "next_payday_ratio", "revenue_progress", "revenue_gap_pp", "payroll_cover_3m",
    "advances_ratio", "reasons", "detail_url"], key="overview_counties", file_stem="各县区指标",
    screen_fields=["tier_label", "county_name", "city_name", "treasury_balance", "coverage_months", "next_payday_ratio",
                   "revenue_gap_pp", "payroll_cover_3m", "advances_ratio", "reasons", "detail_url"],
    meeting_fields=["tier_label", "county_name", "treasury_balance", "coverage_months", "next_payday_ratio",
                    "revenue_gap_pp", "payroll_cover_3m", "advances_ratio"], wrapped=True, first_rows=TABLE_ROWS)

st.subheader("本周变化")
st.caption(f"{reports.week_before(view.as_of):%Y-%m-%d} 至 {view.as_of:%Y-%m-%d} 风险等级有变化的县区")
moves = cache.from_panel(tier_moves, reports.week_before(view.as_of), view.as_of)
widgets.tier_change_cards(reports.tier_change_summary(moves))
if moves.empty:
    widgets.empty("本周没有县区的风险等级发生变化")
else:
    direction = (moves["tier_now"] > moves["tier_before"]).map({True: TIER_MOVE_LABELS["up"], False: TIER_MOVE_LABELS["down"]})
    widgets.table(widgets.detail_links(widgets.with_labels(moves).assign(change=direction)), [
        "change", "county_name", "city_name", "tier_before_label", "tier_now_label", "detail_url"],
        key="overview_moves", file_stem="本周等级变化", first_rows=TABLE_ROWS)
