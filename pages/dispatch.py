"""调度建议：各县区建议调度的库款、由什么构成、各市小计与全部合计。"""
import streamlit as st

from app import formatting as fmt
from app import cache, state, widgets
from app.widgets import Kpi
from fiscal import charts
from fiscal.brief import shown_state
from fiscal.dispatch import city_totals
from fiscal.vocabulary import GREY, NO_DATA

widgets.page_header("调度建议", freshness=True)
if not widgets.require("counties", "treasury"):
    st.stop()

view = state.view()
policy = view.policy
suggestions = cache.dispatch_suggestions().pipe(lambda rows: rows.assign(shown_tier=shown_state(rows)))
needs_cash = suggestions["dispatch_need"] > 0
needing = suggestions[needs_cash]
# a county without treasury data is 无数据, never 正常: its need cannot be worked out, so it is listed beside those needing
blind = suggestions["shown_tier"] == NO_DATA.label
st.caption(f"建议调度 = 库款底线（预警线 {policy.coverage_warning:.2f} × 月均库款支出）+ 工资待补足（未来 "
           f"{policy.dispatch_horizon_days} 天应发工资 − 工资专户余额）− 库款余额，不为负。")
widgets.kpis([
    Kpi("建议调度合计", fmt.amount(needing["dispatch_need"].sum()), help="各县区建议调度金额之和"),
    Kpi("需调度县区", fmt.counties(len(needing)), f"另有 {blind.sum()} 个县区{NO_DATA.label}、无法测算" if blind.any() else None,
        help=f"共 {len(suggestions)} 个县区", colour=GREY),
    Kpi("工资待补足合计", fmt.amount(suggestions["payroll_topup"].sum()),
        help=f"未来 {policy.dispatch_horizon_days} 天应发工资尚未存入工资专户的部分"),
    Kpi("三个月工资缺口合计", fmt.amount(suggestions["payroll_gap_3m"].sum()), help="未来三个月应发工资 − 可用资金"),
])

st.subheader("各市小计")
widgets.table(city_totals(suggestions), ["city_name", "counties", "needing", "dispatch_need", "payroll_topup",
                                         "payroll_gap_3m"], key="dispatch_cities", file_stem="调度建议_各市小计")

st.subheader(f"需调度的县区（{len(needing)}）")
if needing.empty:
    widgets.empty("各县区现有库款均可覆盖库款底线和近期工资，暂不需要调度")
else:
    widgets.chart(lambda: charts.dispatch_bars(needing, policy), key="dispatch_bars")

st.subheader("各县区调度建议")
only_needing = st.toggle(f"只看需要调度和{NO_DATA.label}的县区", value=True, key="dispatch_only_needing")
listed = suggestions[needs_cash | blind] if only_needing else suggestions
widgets.table(widgets.detail_links(listed), [
    "county_name", "city_name", "shown_tier", "treasury_balance", "cash_floor", "horizon_payroll", "account_balance",
    "payroll_topup", "dispatch_need", "payroll_gap_3m", "detail_url"], key="dispatch_counties", file_stem="调度建议",
    screen_fields=["county_name", "city_name", "shown_tier", "treasury_balance", "cash_floor", "payroll_topup",
                   "dispatch_need", "payroll_gap_3m", "detail_url"],
    meeting_fields=["county_name", "shown_tier", "treasury_balance", "cash_floor", "payroll_topup", "dispatch_need"])
