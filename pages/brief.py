"""周调度简报：周调度会的一份材料（等级与本周变化、重点关注、近期发薪、库款偏低、收入落后、调度建议、本月提示函），
投屏查看，下载 Word（打印、转发）、Excel 或 HTML。"""
import streamlit as st

from app import briefing, state, widgets

widgets.page_header("周调度简报")
if not widgets.require("counties", "treasury"):
    st.stop()

weekly = briefing.weekly_brief()
if state.view().cities:
    st.caption("简报涵盖全部县区，不受地市筛选影响。")
briefing.downloads(weekly.document)
briefing.show(weekly)
