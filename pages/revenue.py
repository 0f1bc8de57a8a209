"""收入进度：各县区收入进度与序时进度、分类别与上年同期比较。"""
import streamlit as st

from app import formatting as fmt
from app import cache, state, widgets
from app.widgets import Kpi
from fiscal import charts, reports
from fiscal.vocabulary import GREY

widgets.page_header("收入进度")
if not widgets.require("counties", "revenue"):
    st.stop()

view = state.view()
rows = cache.filtered(reports.revenue_rows, view.as_of)
totals = reports.revenue_totals(rows)
if totals is None:
    widgets.empty(f"{view.as_of.year} 年尚无收入进度数据，请在数据管理页上传收入进度表")
    st.stop()

widgets.kpis([
    Kpi("收入进度", fmt.percent(totals.progress), fmt.pp_delta(totals.gap_pp), "较序时进度",
        help=f"{totals.counties} 个县区 1–{totals.month} 月累计完成 ÷ 年初预算"),
    Kpi("序时进度", fmt.percent(totals.time_progress), help=f"{totals.month} ÷ 12"),
    Kpi("累计完成", fmt.amount(totals.actual_ytd), f"年初预算 {fmt.amount(totals.budget)}", colour=GREY),
    Kpi("同比增长", fmt.MISSING if totals.yoy_growth is None else f"{totals.yoy_growth:+.1%}",
        help=f"与上年 1–{totals.month} 月累计收入比较"),
])

by_county = reports.revenue_by_county(cache.metrics(), rows)
st.subheader("各县区收入进度与序时进度")
widgets.chart(lambda: charts.revenue_progress_bars(by_county, view.policy), key="revenue_bars")

st.subheader("分类别（与上年同期比较）")
by_category = reports.revenue_by_category(rows)
widgets.chart(lambda: charts.revenue_by_category(by_category), key="revenue_categories")
widgets.table(by_category, ["category", "budget", "actual_ytd", "revenue_progress", "prev_actual_ytd", "prev_progress",
                            "yoy_growth"], key="revenue_category_table", file_stem="分类别收入进度")

st.subheader("各县区明细")
widgets.table(widgets.detail_links(by_county), [
    "county_name", "city_name", "month", "budget", "actual_ytd", "revenue_progress", "time_progress",
    "revenue_gap_pp", "prev_actual_ytd", "yoy_growth", "detail_url"], key="revenue_counties", file_stem="各县区收入进度",
    meeting_fields=["county_name", "city_name", "revenue_progress", "time_progress", "revenue_gap_pp", "yoy_growth"])
