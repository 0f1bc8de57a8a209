"""数据管理：上传 → 检查 → 预览 → 导入；版本历史、下载与回滚；操作日志。

Viewing is open; upload, commit and rollback need an analyst sign-in.
"""
import streamlit as st

from app import data_management as sections
from app import state
from fiscal import audit, auth
from fiscal.lake import Lake

view = state.view()
lake = Lake(view.snapshot.root)
log = audit.AuditLog.for_lake(lake.root)
authn = auth.Authenticator(log)

st.title("数据管理")
sections.show_flash()
identity = sections.sign_in_panel(authn, log)
upload_tab, versions_tab, log_tab = st.tabs(["上传数据", "版本与回滚", "操作日志"])
with upload_tab:
    sections.upload_section(lake, log, identity)
with versions_tab:
    sections.versions_section(lake, log, identity)
with log_tab:
    sections.audit_section(log, identity)
