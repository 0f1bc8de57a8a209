"""The dashboard's CSS: the tier cards and badges, and meeting mode (投屏) sizing."""
from __future__ import annotations

import streamlit as st

BASE_CSS = """
<style>
.tier-card {border: 1px solid rgba(49, 51, 63, 0.15); border-top: 6px solid var(--tier); border-radius: 0.5rem;
            padding: 0.6rem 1rem 0.7rem; background: #fff; margin-bottom: 0.75rem;}
.tier-card .tier-card-label {font-size: 0.95rem; color: #37474f; font-weight: 600;}
.tier-card .tier-card-value {font-size: 2.2rem; font-weight: 700; color: var(--tier); line-height: 1.25;}
.tier-card .tier-card-unit {font-size: 0.85rem; color: #616161; margin-left: 0.25rem; font-weight: 400;}
.tier-card .tier-card-change {font-size: 1.15rem; color: #37474f; margin-top: 0.2rem;}
.tier-card .tier-card-change b {color: var(--tier); font-size: 1.5rem;}
.tier-badge {display: inline-block; padding: 0.1rem 0.75rem; border-radius: 999px; color: #fff;
             background: var(--tier); font-weight: 600; font-size: 0.95rem; vertical-align: middle;}
.tier-badge.light {color: #212121;}
.freshness {font-size: 0.88rem; color: #546e7a; margin: -0.4rem 0 0.6rem;}
.freshness .stale {color: #c62828; font-weight: 600;}
.reason-list {margin: 0.2rem 0 0.4rem 1.1rem; padding: 0;}
.reason-list li {margin: 0.1rem 0;}
.view-line {color: #546e7a; font-size: 0.95rem; margin-top: -0.6rem;}
</style>
"""

# Projector sizing: no sidebar, no toolbar actions (the page links move to the top bar),
# a larger root font (Streamlit sizes text in rem). Data grids are drawn on a canvas with
# their own font size and are left as they are; charts are enlarged by widgets.chart.
MEETING_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
[data-testid="stToolbarActions"], [data-testid="stMainMenu"], [data-testid="stAppDeployButton"],
[data-testid="stDecoration"], [data-testid="stStatusWidget"] {display: none !important;}
html {font-size: 20px;}
[data-testid="stMainBlockContainer"] {max-width: none; padding-left: 2.5rem; padding-right: 2.5rem;}
[data-testid="stMetricValue"] {font-size: 2.6rem;}
.tier-card .tier-card-value {font-size: 3rem;}
</style>
"""


def apply(meeting: bool) -> None:
    st.markdown(BASE_CSS + (MEETING_CSS if meeting else ""), unsafe_allow_html=True)
