"""The dashboard's CSS: the tier cards and badges, and meeting mode (投屏) sizing."""
from __future__ import annotations

import streamlit as st

BASE_CSS = """
<style>
.tier-cards {display: grid; grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr)); gap: 0 1rem;}
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
.county-links {list-style: none; margin: 0 0 0.5rem; padding: 0 !important;}  /* Streamlit indents an HTML block's lists */
.county-links li {margin: 0 0 0.45rem; line-height: 1.7;}
.county-links a {font-weight: 600; margin-right: 0.4rem;}
.county-links a::before {content: "→ ";}
.freshness {font-size: 0.88rem; color: #546e7a; margin: -0.4rem 0 0.6rem;}
.freshness .stale {color: #c62828; font-weight: 600;}
.reason-list {margin: 0.2rem 0 0.4rem 1.1rem; padding: 0;}
.reason-list li {margin: 0.1rem 0;}
.view-line {color: #546e7a; font-size: 0.95rem; margin-top: -0.6rem;}
.kpi-cards {display: grid; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); gap: 1rem; margin-bottom: 1rem;}
.kpi-card {border: 1px solid rgba(49, 51, 63, 0.2); border-radius: 0.5rem; padding: 0.9rem 1rem 1rem; background: #fff;}
.kpi-label {font-size: 0.875rem; color: #1c2733; display: flex; align-items: center; gap: 0.35rem;}
.kpi-help {display: inline-flex; align-items: center; justify-content: center; width: 1rem; height: 1rem; border-radius: 50%;
    border: 1px solid #78909c; color: #546e7a; font-size: 0.7rem; cursor: help; flex-shrink: 0;}
/* A card's figure wraps rather than ending in "…": 287,583.62 万元 must be read in full. */
.kpi-value {font-size: 2.25rem; line-height: 1.3; color: #1c2733; overflow-wrap: anywhere; font-variant-numeric: tabular-nums;}
.kpi-delta-line {margin-top: 0.35rem; font-size: 0.875rem;}
.kpi-delta {display: inline-block; padding: 0.05rem 0.45rem; border-radius: 0.4rem; color: color-mix(in srgb, var(--kpi) 80%, black);
    background: color-mix(in srgb, var(--kpi) 14%, white); -webkit-print-color-adjust: exact; print-color-adjust: exact;}
.kpi-note {color: #546e7a; margin-left: 0.25rem;}
.print-table, .wrapped-table .print-only {display: none;}
.wrapped-table {max-height: 36rem; overflow-y: auto; border: 1px solid rgba(49, 51, 63, 0.12); border-radius: 0.5rem;}
.wrapped-table table, .print-table table {border-collapse: collapse; width: 100%; font-size: 0.9rem; margin: 0;}
/* Headers wrap, so a table of many columns fits the width and no column is lost off the edge. */
.wrapped-table th, .print-table th {position: sticky; top: 0; background: #f3f6fa; text-align: left;
    font-weight: 600; padding: 0.35rem 0.6rem; border-bottom: 1px solid #cfd8dc; vertical-align: bottom;
    min-width: 4.5em;}
.wrapped-table td, .print-table td {padding: 0.3rem 0.6rem; border-bottom: 1px solid #eceff1; vertical-align: top;
    white-space: nowrap;}
.wrapped-table td.wrap, .print-table td.wrap {white-space: normal; overflow-wrap: anywhere; min-width: 18rem;}
.wrapped-table td.num, .print-table td.num {text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums;}
.wrapped-table .tag, .print-table .tag {display: inline-block; color: #fff; border-radius: 999px; padding: 0 0.55rem;
    font-size: 0.85rem; white-space: nowrap; -webkit-print-color-adjust: exact; print-color-adjust: exact;}
.wrapped-table a, .county-links a {text-decoration: none; color: #1f5fa8;}  /* primaryColor of .streamlit/config.toml */
.table-note {color: #546e7a; font-size: 0.85rem; padding: 0.3rem 0.6rem;}
/* The file uploader's built-in English ("Upload", "50MB per file • CSV…", "Error: File must be…"):
   replaced by Chinese; the label above it names the formats and the limit. */
[data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"] [data-testid="stMarkdownContainer"] p,
[data-testid="stFileUploaderDropzoneInstructions"] span, [data-testid="stFileChip"] [role="alert"] {font-size: 0;}
[data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"] [data-testid="stMarkdownContainer"] p::after
    {content: "选择文件"; font-size: 0.95rem;}
[data-testid="stFileUploaderDropzoneInstructions"] span::after {content: "或将文件拖放到此处"; font-size: 0.85rem;}
[data-testid="stFileChip"] [role="alert"]::after {content: "文件过大，未上传"; font-size: 0.85rem;}
/* Paper: no sidebar, toolbar or buttons; whole tables instead of grids; charts kept on one page. */
@media print {
  [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
  [data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stStatusWidget"],
  [data-testid="stDownloadButton"], [data-testid="stBaseButton-secondary"], [data-testid="stBaseButton-tertiary"],
  [data-testid="stExpanderToggleIcon"], [data-testid="stTopNav"], .stElementToolbar,
  [data-testid="stDataFrame"], [data-testid="stDataFrameResizable"] {display: none !important;}
  .print-table {display: block;}
  .print-table table, .printed table {font-size: 0.72rem;}
  .print-table th, .print-table td, .printed th, .printed td {padding: 0.2rem 0.35rem;}
  .print-table td.wrap, .printed td.wrap {min-width: 14rem;}
  .print-table .tag, .printed .tag {font-size: 0.68rem;}
  .wrapped-table {display: none !important;}  /* the print copy holds every column */
  /* …unless the table on screen is its own print copy: then whole, without its links */
  .wrapped-table.printed {display: block !important; max-height: none; overflow: visible; border: none;}
  .printed .link {display: none;}
  .printed .print-only {display: table-cell;}
  [data-testid="stMainBlockContainer"], [data-testid="stAppViewBlockContainer"] {padding: 0 !important; max-width: none !important;}
  [data-testid="stAppViewContainer"], [data-testid="stMain"], .stApp {position: static !important; overflow: visible !important;
      height: auto !important;}
  tr, .js-plotly-plot, .tier-card, .kpi-card {break-inside: avoid;}
  .kpi-help {display: none;}  /* a hover has no meaning on paper */
  /* A chart keeps the pixel width it was drawn with on screen (next to the sidebar): scaled down,
     one drawn on a screen up to 1920 px wide fits an A4 landscape page instead of losing its right side. */
  .fiscal-chart {zoom: 0.72;}
  h1, h2, h3 {break-after: avoid;}  /* a heading stays with the chart or table under it */
  body {-webkit-print-color-adjust: exact; print-color-adjust: exact;}
}
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
/* The top bar's page links without icons, so all of them fit at 1280 px; should they not, the
   overflow menu's built-in English ("2 more") reads 更多. */
[data-testid="stTopNavLink"] > span:has([data-testid="stIconMaterial"]) {display: none;}
[data-testid="stTopNavLink"] {padding-left: 0.5rem; padding-right: 0.5rem;}
[data-testid="stTopNavLink"] p {font-size: 0.85rem;}
.rc-overflow-item-rest [data-testid="stTopNavSection"] p {font-size: 0;}
.rc-overflow-item-rest [data-testid="stTopNavSection"] p::after {content: "更多"; font-size: 0.8rem;}
html {font-size: 20px;}
[data-testid="stMainBlockContainer"] {max-width: none; padding: 3.2rem 2.5rem 2rem;}
.kpi-value {font-size: 2.1rem;}
.tier-card .tier-card-value {font-size: 3rem;}
</style>
"""


def apply(meeting: bool) -> None:
    st.html(BASE_CSS + (MEETING_CSS if meeting else ""))  # only a <style>: Streamlit adds no element for it
