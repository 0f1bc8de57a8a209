"""工资保障：下次发薪的工资专户存入情况、上次发薪缺口、近 12 个月发薪状态。"""
import streamlit as st

from app import formatting as fmt
from app import cache, state, widgets
from app.widgets import Kpi
from fiscal import charts, reports
from fiscal.vocabulary import GREY, PAYDAY_STATUSES, RED

PROBLEM_STATUSES = [t.code for t in PAYDAY_STATUSES if t.severity]  # shortfall, overdue, funded late

widgets.page_header("工资保障")
if not widgets.require("counties", "payroll_schedule"):
    st.stop()

view = state.view()
table = widgets.with_labels(reports.payroll_table(cache.metrics(), view.as_of))
last_status = table["last_payday_status"]
shortfalls = int((last_status == "shortfall").sum())
widgets.kpis([
    Kpi("下次发薪应发合计", fmt.amount(table["next_payday_amount"].sum())),
    Kpi("下次发薪未足额", fmt.counties(int(table["unfunded"].sum())),
        help=f"已过存入截止日（发薪日前 {view.policy.lead_days} 天）仍未足额，或截止日在 7 天内而工资专户余额不足"),
    Kpi("上次发薪存在缺口", fmt.counties(shortfalls), f"缺口合计 {fmt.amount(table['last_payday_shortfall'].sum())}",
        colour=RED if shortfalls else GREY),
    Kpi("上次发薪迟于截止日", fmt.counties(int((last_status == "funded_late").sum()))),
])

st.subheader("下次发薪")
st.caption(f"工资须在发薪日前 {view.policy.lead_days} 天足额存入工资专户；未足额的县区排在最前")
widgets.table(widgets.detail_links(table), [
    "county_name", "city_name", "next_payday", "next_payday_cutoff", "days_to_cutoff", "days_to_payday",
    "next_payday_amount", "next_payday_ratio", "next_payday_status_label", "last_payday",
    "last_payday_status_label", "last_payday_shortfall", "detail_url"], key="payroll_next", file_stem="下次发薪",
    screen_fields=["county_name", "city_name", "next_payday", "next_payday_cutoff", "days_to_cutoff", "next_payday_amount",
                   "next_payday_ratio", "next_payday_status_label", "last_payday_status_label", "last_payday_shortfall",
                   "detail_url"],
    meeting_fields=["county_name", "next_payday", "next_payday_cutoff", "days_to_cutoff", "next_payday_amount",
                    "next_payday_ratio", "next_payday_status_label", "last_payday_shortfall"])

st.subheader("近 12 个月发薪状态")
history = cache.filtered(reports.payday_history, view.as_of, view.policy)
if history.empty:
    widgets.empty("近 12 个月没有发薪记录")
    st.stop()
widgets.chart(lambda: charts.payday_heatmap(history, view.policy), key="payday_heatmap")
problems = history[history["status"].isin(PROBLEM_STATUSES)].sort_values("payday", ascending=False)
st.markdown(f"**未按时足额存入的发薪（{len(problems)} 次）**")
if problems.empty:
    widgets.empty("近 12 个月所有发薪均按时足额存入")
else:
    widgets.table(widgets.detail_links(widgets.with_labels(problems)), [
        "payday", "county_name", "city_name", "amount_due", "cutoff", "ratio", "status_label", "shortfall",
        "detail_url"], key="payroll_problems", file_stem="未按时足额发薪")
