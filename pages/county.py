"""县区详情：一个县区的全部指标、风险等级与原因、重点关注名单状态，库款、保障水平、发薪、收入图表，
以及该县区的工作台账。"""
import datetime as dt
import html

import streamlit as st

from app import formatting as fmt
from app import bureau, cache, sidebar, state, widgets
from app.widgets import Kpi, band_colour, status_colour
from fiscal import charts, reports
from fiscal.vocabulary import GREY

DAILY_DAYS = 183

widgets.page_header("县区详情")
if not widgets.require("counties", "treasury"):
    st.stop()

view = state.view()
panel = cache.panel(all_cities=True)
metrics = reports.at_date(panel, view.as_of)
code = sidebar.county_choice(metrics)
row = metrics.set_index("county_code").loc[code]

# An HTML block, so the name is shown exactly as typed: Markdown is not parsed inside it.
st.markdown(f'<h2 class="county-heading">{html.escape(row.county_name)}　{widgets.tier_badge(int(row.tier))}</h2>',
            unsafe_allow_html=True)
st.caption(f"{fmt.md_text(row.city_name)} · 区划代码 {code}")
bureau.show_flash()
bureau.county_focus_note(code)
widgets.reasons_list(row.reasons)

widgets.kpis([
    Kpi("库款余额", fmt.amount(row.treasury_balance), f"库款日期 {fmt.date(row.treasury_date)}", colour=GREY),
    Kpi("库款保障水平", fmt.months(row.coverage_months), fmt.coverage_band(row.coverage_band, row.treasury_balance),
        help=f"库款余额 ÷ 月均库款支出（{fmt.amount(row.avg_monthly_outflow)}）",
        colour=band_colour(row.coverage_band)),
    Kpi("未来三个月工资保障倍数", fmt.number(row.payroll_cover_3m),
        help=f"低于 {view.policy.forward_warning:.2f} 为预警"),
    Kpi("暂付款比例", fmt.percent(row.advances_ratio), f"控制线 {fmt.percent(view.policy.advances_cap)}", colour=GREY),
])
widgets.kpis([
    Kpi("上次发薪", fmt.date(row.last_payday), fmt.status(row.last_payday_status),
        help=f"应发 {fmt.amount(row.last_payday_amount)}，缺口 {fmt.amount(row.last_payday_shortfall)}",
        colour=status_colour(row.last_payday_status)),
    Kpi("下次发薪", fmt.date(row.next_payday), fmt.status(row.next_payday_status),
        help=f"应发 {fmt.amount(row.next_payday_amount)}，专户存入比例 {fmt.percent(row.next_payday_ratio)}",
        colour=status_colour(row.next_payday_status)),
    Kpi("收入进度", fmt.percent(row.revenue_progress), fmt.pp_delta(row.revenue_gap_pp), "较序时进度",
        help=f"序时进度 {fmt.percent(row.time_progress)}"),
    Kpi("工资专户余额", fmt.amount(row.account_balance)),
])

st.subheader("库款日报（近 6 个月）")
daily = cache.report(reports.county_daily, code, view.as_of - dt.timedelta(days=DAILY_DAYS), view.as_of)
if daily["treasury_balance"].notna().any():
    widgets.chart(lambda: charts.daily_treasury(daily, {
        f"预警线 {view.policy.coverage_warning:.2f} 个月": view.policy.coverage_warning * row.avg_monthly_outflow}),
        key="county_daily", choices=(code,))
else:
    widgets.empty("近 6 个月没有该县区的库款日报数据")

st.subheader("库款保障水平（各月末）")
widgets.chart(lambda: charts.coverage_trend(view.policy, cache.from_panel(reports.coverage_trend, view.as_of),
                                           reports.county_history(panel, view.as_of, [code])),
              key="county_coverage", choices=(code,))

st.subheader("工资专户与发薪")
if widgets.require("payroll_schedule"):
    paydays = cache.shared(reports.payday_history, view.as_of, view.policy)
    shown = paydays[(paydays["county_code"] == code) & (paydays["cutoff"] >= daily["date"].min())]
    widgets.chart(lambda: charts.county_paydays(daily, shown), key="county_paydays", choices=(code,))

st.subheader("收入进度（累计）")
if widgets.require("revenue"):
    monthly = cache.report(reports.revenue_monthly, code, view.as_of)
    if monthly.empty:
        widgets.empty("该县区尚无收入进度数据")
    else:
        widgets.chart(lambda: charts.county_revenue(monthly, view.as_of.year), key="county_revenue", choices=(code,))

st.subheader("工作台账（一县一策）")
bureau.county_ledger_section(code, row.county_name)

st.subheader("风险等级历史")
widgets.chart(lambda: charts.tier_heatmap(reports.tier_matrix(panel[panel["county_code"] == code], view.as_of)),
              key="county_tiers", choices=(code,))
