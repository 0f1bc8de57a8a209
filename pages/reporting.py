"""报送情况：各县区每类数据的最新日期，本周库款日报是否已报送，停报的县区排在最前。"""
import streamlit as st

from app import formatting as fmt
from app import cache, state, widgets
from app.widgets import Kpi
from fiscal import reports
from fiscal.vocabulary import ARRIVAL_LABELS, GREY, ORANGE, RED

widgets.page_header("报送情况", freshness=True)
if not widgets.require("counties", "treasury"):
    st.stop()

view = state.view()
status = cache.filtered(reports.reporting_status, view.as_of)
counts = status["arrival"].value_counts()
week = f"{reports.week_before(view.as_of):%m-%d} 之后至 {view.as_of:%m-%d}"
widgets.kpis([
    Kpi("本周已报送库款日报", fmt.counties(int(counts.get(ARRIVAL_LABELS["arrived"], 0))), week, colour=GREY),
    Kpi("本周未报送", fmt.counties(int(counts.get(ARRIVAL_LABELS["late"], 0))), "此前报送过、本周没有新数据",
        colour=ORANGE if counts.get(ARRIVAL_LABELS["late"]) else GREY),
    Kpi("从未报送", fmt.counties(int(counts.get(ARRIVAL_LABELS["never"], 0))), "截至日前没有任何库款日报",
        colour=RED if counts.get(ARRIVAL_LABELS["never"]) else GREY),
])
st.caption("库款日报应每个工作日报送；本周没有新数据的县区排在最前。工资专户余额按发薪前后报送，"
           "收入进度、暂付款按月报送（月份以当月最后一天表示），工资发放计划列出最晚的发薪日。")
widgets.table(widgets.detail_links(status), [
    "arrival", "county_code", "county_name", "city_name", "treasury_latest", "payroll_account_latest",
    "payroll_schedule_latest", "revenue_latest", "advances_latest", "detail_url"],
    key="reporting_status", file_stem="报送情况",
    meeting_fields=["arrival", "county_name", "treasury_latest", "payroll_account_latest", "payroll_schedule_latest",
                    "revenue_latest", "advances_latest"])
