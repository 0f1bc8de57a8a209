"""提示函：本月库款保障水平偏低、应发提示函的县区，函件预览，签发（需分析员登录）与下载。"""
import streamlit as st

from app import cache, data_management, letter_views, state, widgets
from fiscal import audit, auth, issuing

widgets.page_header("提示函")
if not widgets.require("counties", "treasury"):
    st.stop()

view = state.view()
log = audit.AuditLog.for_lake(view.snapshot.root)
letter_views.show_flash()
identity = data_management.sign_in_panel(auth.Authenticator(log), log, purpose="签发提示函")

plan = letter_views.drafts()  # one batch a month for every county, whatever the city filter
register = cache.report(issuing.registered)
batch = issuing.month_batch(register, view.as_of)
month = issuing.batch_label(issuing.batch_of(view.as_of))

st.subheader(f"{month}应发提示函（{len(plan.rows)}）")
st.caption(f"截至 {view.as_of:%Y-%m-%d} 库款保障水平低于提示线 {view.policy.coverage_prompt:.2f} 个月的县区；"
           f"连续 {view.policy.persistent_months} 个月末低于提示线的，函中写明库款持续紧张。")
if plan.rows.empty:
    widgets.empty("本月没有需要发提示函的县区")
else:
    letter_views.due_table(plan, batch)
    letter_views.preview(plan, batch)
    letter_views.issue_section(plan, batch, identity)
    letter_views.downloads(batch)

st.subheader("提示函登记")
letter_views.register_table(register)
