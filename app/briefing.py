"""The weekly brief in the dashboard: built once per lake version, as-of date, policy and day
(ledger items fall overdue by the day), from the cached indicator panel; and its downloads."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from fiscal import brief
from fiscal.lake import Snapshot
from fiscal.policy import Policy

from . import cache, state
from .widgets import FIRST_ROWS


@dataclass(frozen=True)
class WeeklyBrief:
    document: brief.Brief
    page: str  # the whole brief as HTML
    first_rows: str  # the same with each table cut to its first rows


def weekly_brief() -> WeeklyBrief:
    """The brief at the view's date and its HTML (several thousand rows at national scale: built
    once, shared read-only by every session)."""
    view = state.view()
    return _build(view.snapshot.key, view.as_of, view.policy, dt.date.today(), FIRST_ROWS, _snapshot=view.snapshot,
                  _panel=cache.panel(all_cities=True))


@st.cache_resource(show_spinner="正在生成周调度简报…", max_entries=8)
def _build(snapshot_key: str, as_of: dt.date, policy: Policy, today: dt.date, first_rows: int, _snapshot: Snapshot,
           _panel: pd.DataFrame) -> WeeklyBrief:
    document = brief.build(_snapshot, as_of, policy, panel=_panel, today=today)
    return WeeklyBrief(document, brief.to_html(document), brief.to_html(document, max_rows=first_rows))


def show(weekly: WeeklyBrief) -> None:
    """The brief on screen: each table's first FIRST_ROWS rows, all of them once asked for (a
    national brief runs to thousands of rows, which the projector laptop would receive and draw)."""
    if weekly.first_rows != weekly.page and not st.toggle("显示简报全部行", key="brief_all_rows"):
        st.caption(f"每个表格列出前 {FIRST_ROWS} 行；下载的简报包含全部行")
        st.html(weekly.first_rows)
    else:
        st.html(weekly.page)


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
