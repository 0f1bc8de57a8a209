"""The weekly brief in the dashboard: built once per lake version, as-of date, policy and day
(ledger items fall overdue by the day), from the cached indicator panel; and its downloads."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from fiscal import brief
from fiscal.lake import Snapshot
from fiscal.policy import Policy

from . import cache, state


def weekly_brief() -> tuple[brief.Brief, str]:
    """The brief at the view's date, and its HTML (several thousand rows at national scale: built once)."""
    view = state.view()
    return _build(view.snapshot.key, view.as_of, view.policy, dt.date.today(), _snapshot=view.snapshot,
                  _panel=cache.panel(all_cities=True))


@st.cache_data(show_spinner="正在生成周调度简报…", max_entries=8)
def _build(snapshot_key: str, as_of: dt.date, policy: Policy, today: dt.date, _snapshot: Snapshot,
           _panel: pd.DataFrame) -> tuple[brief.Brief, str]:
    document = brief.build(_snapshot, as_of, policy, panel=_panel, today=today)
    return document, brief.to_html(document)


def downloads(document: brief.Brief) -> None:
    """The brief as Word, Excel and HTML files (built when clicked). Hidden in meeting mode."""
    if state.view().meeting:
        return
    name = f"周调度简报_{document.as_of:%Y%m%d}"
    with st.container(horizontal=True, horizontal_alignment="right", gap="small"):
        st.download_button("Word", data=lambda: brief.to_docx(document), file_name=f"{name}.docx", key="brief_docx",
                           mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                           on_click="ignore", icon=":material/download:", type="tertiary")
        st.download_button("Excel", data=lambda: brief.to_xlsx(document), file_name=f"{name}.xlsx", key="brief_xlsx",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           on_click="ignore", icon=":material/download:", type="tertiary")
        st.download_button("HTML", data=lambda: brief.to_html(document).encode("utf-8"), file_name=f"{name}.html",
                           key="brief_html", mime="text/html", on_click="ignore", icon=":material/download:",
                           type="tertiary")
