"""风险分级：重点关注名单（计算与人工调整）及其在办措施、各县区等级与原因、现行政策参数、
等级历史与名单变动、未来三个月工资保障。"""
import pandas as pd
import streamlit as st

from app import bureau, cache, state, widgets
from app.columns import TIER_TAG_COLORS
from fiscal import charts, reports
from fiscal.vocabulary import NO_DATA_TIER, SHOWN_TIER_LABELS

widgets.page_header("风险分级")
if not widgets.require("counties", "treasury"):
    st.stop()

view = state.view()
metrics = cache.metrics()
bureau.show_flash()
widgets.tier_cards(metrics["tier"].value_counts().to_dict())

st.subheader("重点关注名单")
on_focus = bureau.focus_section()
bureau.focus_form()

st.subheader("重点关注县区在办措施（工作台账）")
bureau.open_measures_section(on_focus)

st.subheader("各县区风险等级与原因")
only_flagged = st.toggle("只看提示及以上和无数据的县区", value=True, key="risk_only_flagged")
listed = metrics[(metrics["tier"] >= 1) | (metrics["tier"] == NO_DATA_TIER)] if only_flagged else metrics
widgets.table(listed, ["tier_label", "county_name", "city_name", "reasons"], key="risk_tiers", file_stem="风险等级",
              wrapped=True)

with widgets.on_demand("现行政策参数（风险分级依据）", key="risk_policy") as opened:
    if opened:
        lines = pd.DataFrame(view.policy.lines(), columns=["indicator", "rule"])
        widgets.table(lines, ["indicator", "rule"], key="risk_policy", file_stem="政策参数")

st.subheader("风险等级历史（各月末）")
matrix = cache.from_panel(reports.tier_matrix, view.as_of)
widgets.chart(lambda: charts.tier_heatmap(matrix), key="tier_heatmap")
widgets.matrix_table(matrix, SHOWN_TIER_LABELS, TIER_TAG_COLORS, key="risk_history", file_stem="风险等级历史",
                     column_label=lambda d: f"{d:%Y-%m-%d}")

st.subheader("重点关注名单变动（近 12 个月）")
with widgets.on_demand("查看名单进出与人工调整记录", key="focus_history") as opened:
    if opened:
        bureau.focus_history_section()

st.subheader("未来三个月工资保障")
forward = reports.forward_payroll(metrics)
if forward["payroll_cover_3m"].notna().any():
    widgets.chart(lambda: charts.forward_cover_bars(forward, view.policy), key="forward_cover")
    widgets.table(widgets.detail_links(forward), [
        "tier_label", "county_name", "city_name", "payroll_cover_3m", "forward_need", "available",
        "treasury_balance", "account_balance", "detail_url"], key="risk_forward", file_stem="未来三个月工资保障",
        meeting_fields=["tier_label", "county_name", "payroll_cover_3m", "forward_need", "available"])
else:
    widgets.empty("尚不能评估未来三个月工资保障：需要工资发放计划，以及至少 "
                  f"{view.policy.min_history_months} 个月的库款数据")
