"""Building blocks every page uses: header, KPI and tier cards, tables with downloads, charts,
empty states. Pages stay short by composing these."""
from __future__ import annotations

import datetime as dt
import functools
import html
import json
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from fiscal import charts, reports
from fiscal.settings import DISPLAY_TZ
from fiscal.export import with_context_csv, with_context_excel
from fiscal.policy import Policy
from fiscal.vocabulary import (GREEN, GREY, NO_DATA, NO_DATA_TIER, PAYDAY_STATUS_COLORS, PAYDAY_STATUS_LABELS, RED,
                               SHOWN_TIER_COLORS, SHOWN_TIER_LABELS, SHOWN_TIERS, by_code)

from . import formatting as fmt
from . import cache, sidebar, state
from .columns import BAND_TAG_COLORS, COLUMNS, EXCEL_FORMATS, LINK_TEXT, Col

MEETING_CHART_SCALE = 1.4  # the charts' 13 px text becomes 18 px on the projector
CHART_SCRIPT = Path(__file__).with_name("chart.js")
CHART_COMPONENT = "fiscal_chart"  # the name its elements carry
# the plotly.js chart.js loads (served at app/static/): the version the plotly package writes figures for
PLOTLY_BUNDLE = Path(__file__).parent.parent / "static" / "plotly-cartesian-4.1.1.min.js"
PLOTLY_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"]}


# ---- header -------------------------------------------------------------------------------
def page_header(title: str, *, freshness: bool = False) -> None:
    """Page title, the view line (截至日期 · 地市 · 演示数据) and, if asked, data freshness."""
    view = state.view()
    heading, action = st.columns([5, 1], vertical_alignment="bottom")
    heading.title(title)
    if view.meeting:
        action.button("退出会议模式", on_click=sidebar.exit_meeting_mode, key="exit_meeting", width="stretch")
    parts = [f"截至 {view.as_of:%Y-%m-%d}" if view.as_of else "尚无库款数据",
             "、".join(view.cities) if view.cities else "全部地市"]
    if view.demo:
        parts.append("演示数据（虚构）")
    st.html(f'<div class="view-line">{html.escape(" · ".join(parts))}</div>')
    if note := st.session_state.pop(sidebar.URL_NOTE_KEY, None):
        st.warning(note, icon=":material/event_busy:")
    if freshness and view.as_of:
        freshness_line()


def freshness_line() -> None:
    """The latest date of each extract; those older than as_of − stale_days in red."""
    view = state.view()
    fresh = cache.report(reports.freshness, view.as_of, view.policy.stale_days)
    parts = []
    for row in fresh.itertuples():
        if fmt.missing(row.latest):
            parts.append(f'<span class="stale">{html.escape(row.label)} 无数据</span>')
        elif row.stale:
            parts.append(f'<span class="stale" title="早于截至日 {view.policy.stale_days} 天以上">'
                         f'{html.escape(row.label)} {fmt.date(row.latest)}（过期）</span>')
        else:
            parts.append(html.escape(f"{row.label} {fmt.date(row.latest)}"))
    st.html(f'<div class="freshness">数据最新日期：{" · ".join(parts)}</div>')


# ---- empty states -------------------------------------------------------------------------
def require(*kinds: str) -> bool:
    """True when every kind has rows; otherwise say what is missing and where to upload it."""
    missing = cache.missing_kinds(*kinds)
    for kind in missing:
        label = cache.kind_label(kind)
        st.info(f"尚无{label}数据，请在数据管理页上传{label}表", icon=":material/info:")
    if missing and state.data_page_exists():
        st.page_link(state.DATA_PAGE, label="前往数据管理", icon=":material/upload_file:")
    return not missing


def empty(message: str) -> None:
    st.info(message, icon=":material/info:")


# ---- cards --------------------------------------------------------------------------------
def tier_cards(counts: dict[int, int]) -> None:
    """One card per shown tier, the worst first, 无数据 between 提示 and 正常, in the tier colours."""
    _card_row(f'<div class="tier-card-value">{counts.get(tier, 0)}<span class="tier-card-unit">个县区</span></div>'
              for tier in SHOWN_TIER_LABELS)


def tier_change_cards(summary: pd.DataFrame) -> None:
    """Per tier, the worst first: how many counties entered and left it (`reports.tier_change_summary`)."""
    counts = summary.set_index("tier")
    _card_row(f'<div class="tier-card-change">进入 <b>{counts.at[tier, "entered"]}</b>'
              f'　退出 <b>{counts.at[tier, "left"]}</b></div>' for tier in SHOWN_TIER_LABELS)


def _card_row(bodies: Iterable[str]) -> None:
    """The shown tiers' cards, each with its body, in one block: a row that wraps on a narrow
    screen (one element for the browser to draw instead of a column each)."""
    cards = "".join(f'<div class="tier-card" style="--tier:{SHOWN_TIER_COLORS[tier]}">'
                    f'<div class="tier-card-label">{SHOWN_TIER_LABELS[tier]}</div>{body}</div>'
                    for tier, body in zip(SHOWN_TIER_LABELS, bodies))
    st.html(f'<div class="tier-cards">{cards}</div>')


def tier_badge(tier: int) -> str:
    """A shown tier (无数据 included) as a coloured badge."""
    term = by_code(SHOWN_TIERS)[tier]
    light = " light" if term.text_light else ""  # dark text on a light badge
    return f'<span class="tier-badge{light}" style="--tier:{term.colour}">{term.label}</span>'


@dataclass(frozen=True)
class Kpi:
    label: str
    value: str
    delta: str | None = None  # the line under the value; a leading sign decides its arrow and colour
    note: str | None = None  # muted text after the delta
    help: str | None = None
    colour: str | None = None  # the delta's colour, shown without an arrow; None: its sign decides


def band_colour(band: str | None) -> str:
    return BAND_TAG_COLORS.get(band, GREY)


def status_colour(status: str | None) -> str:
    return PAYDAY_STATUS_COLORS.get(status, GREY)


def kpis(items: Iterable[Kpi]) -> None:
    """A row of bordered KPI cards: label (its help on the ? mark), value, and a delta line.

    One HTML block: Streamlit's metric element, one per card in columns, costs a first visit in a
    just-opened browser some 0.1 s of script to load and draw."""
    st.html(f'<div class="kpi-cards">{"".join(_kpi_card(item) for item in items)}</div>')


def _kpi_card(item: Kpi) -> str:
    label = html.escape(item.label)
    if item.help:
        label += f'<span class="kpi-help" title="{html.escape(item.help)}" role="img" aria-label="说明：{html.escape(item.help)}">?</span>'
    card = f'<div class="kpi-label">{label}</div><div class="kpi-value">{html.escape(item.value)}</div>'
    if item.delta:
        falling = item.delta.startswith(("-", "−"))
        colour, arrow = (item.colour, "") if item.colour else (RED, "↓ ") if falling else (GREEN, "↑ ")
        note = f' <span class="kpi-note">{html.escape(item.note)}</span>' if item.note else ""
        card += (f'<div class="kpi-delta-line"><span class="kpi-delta" style="--kpi:{colour}">{arrow}'
                 f'{html.escape(item.delta)}</span>{note}</div>')
    return f'<div class="kpi-card">{card}</div>'


def reasons_list(reasons: str) -> None:
    items = [r for r in reasons.split(reports.REASON_SEPARATOR) if r]
    if items:
        lis = "".join(f"<li>{html.escape(r)}</li>" for r in items)
        st.html(f'<ul class="reason-list">{lis}</ul>')


# ---- tables -------------------------------------------------------------------------------
# Rows of an HTML table (printed copies, wrapped reason lists); the downloads hold them all.
HTML_ROWS = 500
# Rows a table shows until the reader asks for all of them: a national list runs to thousands
# of counties, which the projector laptop would receive and draw on every visit. The lists come
# riskiest first, so these are the ones a meeting reads.
FIRST_ROWS = 50


def _first_rows(frame: pd.DataFrame, *, key: str, blind: pd.Series | None = None,
                first_rows: int = FIRST_ROWS) -> tuple[pd.DataFrame, bool]:
    """The first `first_rows` rows and, below them, the counties without data (`blind`, by
    default the rows whose tier is 无数据) that are not among them (as many again at most) — a
    blind county is never left out of what is shown first — or every row once the reader asks;
    and whether they asked (for a list longer than its first rows)."""
    if len(frame) <= first_rows:
        return frame, False
    counties = "county_code" in frame and frame["county_code"].is_unique
    rows, row = ("个县区", "个") if counties else ("行", "行")
    if st.toggle(f"显示全部 {len(frame):,} {rows}", key=f"{key}_all_rows"):
        return frame, True
    blind = (_no_data(frame) if blind is None else blind).to_numpy()
    first = np.arange(len(frame)) < first_rows
    added = np.flatnonzero(blind & ~first)
    shown = first.copy()
    shown[added[:first_rows]] = True
    note = f"共 {len(frame):,} {rows}，显示前 {first_rows} {row}"
    if len(added):
        note += f"，另列出无数据的 {min(len(added), first_rows)} {rows}"
        if len(added) > first_rows:
            note += f"（无数据的共 {int(blind.sum()):,} {rows}，打开“显示全部”可见其余）"
    st.caption(f"{note}；下载的表格包含全部{rows.removeprefix('个')}")
    return frame[shown], False


def _no_data(frame: pd.DataFrame) -> pd.Series:
    """Rows of a county shown as 无数据 (by its tier, or by the shown tier label of a list)."""
    blind = pd.Series(False, index=frame.index)
    if "tier" in frame:
        blind |= frame["tier"].eq(NO_DATA_TIER)
    if "shown_tier" in frame:
        blind |= frame["shown_tier"].eq(NO_DATA.label)
    return blind


def table(frame: pd.DataFrame, fields: list[str], *, key: str, file_stem: str,
          screen_fields: list[str] | None = None, meeting_fields: list[str] | None = None,
          wrapped: bool = False, first_rows: int = FIRST_ROWS) -> None:
    """A formatted table of catalogue fields, with CSV and Excel downloads of all of them.

    On screen an HTML table of `screen_fields` (the columns that fit at 1600 px without a
    sideways scroll), in meeting mode of `meeting_fields` (those read from the back of the
    room at 1280×720), each defaulting to `fields`: read in the order the list comes, long
    text (风险原因) wrapped and read in full, and drawn by a browser some 0.3 s sooner than a
    data grid on every visit. The first `first_rows` rows until the reader asks for all; a long
    list is then a data grid, which scrolls and sorts thousands of rows — unless `wrapped`,
    whose text must be read in full (a grid cuts a cell at its width). On paper every field as
    a plain HTML table (a grid prints only the rows scrolled into view): the screen's table
    itself, its columns only printed hidden on screen, when it shows its columns in their
    printed order."""
    specs = [COLUMNS[f] for f in fields]
    on_screen = [COLUMNS[f] for f in (meeting_fields if state.view().meeting else screen_fields) or fields]
    printed = [s for s in specs if s.kind != "link"]  # a link means nothing on paper
    shown, every_row = _first_rows(frame, key=key, first_rows=first_rows)
    screen_names = [s.field for s in on_screen]
    if every_row and not wrapped:
        _grid(shown, on_screen, key=key)
        st.html(html_table(shown, printed, css_class="print-table"))
    elif screen_names == [s.field for s in specs if s.field in screen_names]:
        # One table on screen and on paper: the columns only printed hidden on screen, the links on paper.
        columns = [s for s in specs if s.field in screen_names or s.kind != "link"]
        st.html(html_table(shown, columns, css_class="wrapped-table printed",
                           print_only={s.field for s in printed} - set(screen_names)))
    else:
        st.html(html_table(shown, on_screen, css_class="wrapped-table"))
        st.html(html_table(shown, printed, css_class="print-table"))
    downloads(frame, specs, key=key, file_stem=file_stem)


def html_table(frame: pd.DataFrame, specs: list[Col], *, css_class: str, print_only: Collection[str] = ()) -> str:
    """The first HTML_ROWS rows as an escaped HTML block (tags as coloured badges); the columns
    named in `print_only` are hidden on screen."""
    shown = frame.head(HTML_ROWS)
    head = "".join(f'<th{_class(_column_class(s, print_only))}{_title(s.help)}>{html.escape(s.label)}</th>' for s in specs)
    columns = [_html_cells(shown[s.field].tolist(), s, _column_class(s, print_only)) for s in specs]
    body = "".join(f"<tr>{''.join(cells)}</tr>" for cells in zip(*columns))
    note = (f'<div class="table-note">共 {len(frame):,} 行，此处列出前 {HTML_ROWS} 行；完整数据请下载 Excel</div>'
            if len(frame) > HTML_ROWS else "")
    # Shown with st.html, not as Markdown: a browser parses it faster, and Markdown never touches the user's text.
    return f'<div class="{css_class}"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}</div>'


def _column_class(spec: Col, print_only: Collection[str]) -> str:
    return "link" if spec.kind == "link" else "print-only" if spec.field in print_only else ""


def _class(css: str) -> str:
    return f' class="{css}"' if css else ""


def _title(help_text: str | None) -> str:
    """A column's help, shown when the pointer rests on its header (as a grid's header tooltip)."""
    return f' title="{html.escape(help_text)}"' if help_text else ""


# kind → the text of a value in an HTML table (escaped afterwards); other kinds: str
_CELL_TEXT = {"amount": lambda v: f"{v:,.2f}", "ratio": fmt.percent, "percent": fmt.percent,
              "months": fmt.number, "multiple": fmt.number, "pp": lambda v: f"{v:+.1f}", "int": lambda v: f"{int(v)}",
              "date": fmt.date}


def _html_cells(values: list, spec: Col, column_class: str = "") -> list[str]:
    """One column's cells; the column's kind decides once how every value is written."""
    number = spec.kind not in ("text", "tag", "date")
    css = _class(" ".join(filter(None, ["num" if number else "wrap" if spec.width == "large" else "", column_class])))
    empty = f'<td{css}>{fmt.MISSING}</td>'
    if spec.kind == "tag":
        tags = spec.tags or {}
        cell = lambda v: f'<td{css}><span class="tag" style="background:{tags.get(v, GREY)}">{html.escape(str(v))}</span></td>'
    elif spec.kind == "link":  # a relative link inside the app, opened in the same tab
        cell = lambda v: f'<td class="link"><a href="{html.escape(str(v))}" target="_self">{LINK_TEXT}</a></td>'
    else:
        text = _CELL_TEXT.get(spec.kind, str)
        cell = lambda v: f'<td{css}>{html.escape(text(v))}</td>'
    # no value, no tag, no reasons: the missing mark
    return [empty if fmt.missing(v) or (isinstance(v, str) and not v) else cell(v) for v in values]


def _grid(frame: pd.DataFrame, specs: list[Col], *, key: str) -> None:
    shown = pd.DataFrame({s.field: s.grid_values(frame[s.field]) for s in specs}, index=frame.index)
    height = "content" if state.view().meeting and len(shown) <= 15 else "auto"  # no inner scrolling on screen
    # A missing cell reads "—" as everywhere else (the grid's own placeholder is an English "None").
    st.dataframe(shown, column_config={s.field: s.config() for s in specs}, hide_index=True, key=key, height=height,
                 placeholder=fmt.MISSING)


def downloads(frame: pd.DataFrame, specs: list[Col], *, key: str, file_stem: str) -> None:
    """CSV and Excel buttons; the files are built only when clicked. Hidden in meeting mode."""
    view = state.view()
    if view.meeting:
        return
    kept = [s for s in specs if s.kind != "link"]  # relative app links mean nothing in a file
    if "county_name" in frame and "county_code" in frame and COLUMNS["county_code"] not in kept:
        at = next((i for i, s in enumerate(kept) if s.field == "county_name"), 0)
        kept.insert(at, COLUMNS["county_code"])  # names change and repeat; the code identifies the county

    def export() -> pd.DataFrame:  # built when a button is clicked, not on every rerun
        return frame[[s.field for s in kept]].set_axis([s.label for s in kept], axis=1)

    fills = {s.label: s.tags for s in kept if s.kind == "tag"}
    formats = {s.label: EXCEL_FORMATS[s.kind] for s in kept if s.kind in EXCEL_FORMATS}
    percents = [s.label for s in kept if s.kind in ("ratio", "percent")]
    name = f"{file_stem}_{view.as_of:%Y%m%d}" if view.as_of else file_stem
    with st.container(horizontal=True, horizontal_alignment="right", gap="small"):
        st.download_button("CSV", data=lambda: with_context_csv(export(), export_context(view), percent_columns=percents),
                           file_name=f"{name}.csv", mime="text/csv",
                           key=f"{key}_csv", on_click="ignore", icon=":material/download:", type="tertiary")
        st.download_button("Excel", data=lambda: with_context_excel(export(), export_context(view), sheet_name=file_stem,
                                                                    fills=fills,
                                                                    number_formats=formats),
                           file_name=f"{name}.xlsx", key=f"{key}_xlsx", on_click="ignore",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           icon=":material/download:", type="tertiary")


def export_context(view: state.View) -> dict[str, str]:
    """What a downloaded table needs to be read on its own: as of when, which cities, units, source."""
    return {
        "截至日期": f"{view.as_of:%Y-%m-%d}" if view.as_of else "尚无库款数据",
        "地市": "、".join(view.cities) if view.cities else "全部地市",
        "金额单位": "万元",
        "比例": "CSV 中以百分数表示（列名注明“%”），Excel 中为百分比格式",
        "数据版本": str(cache.lake().lake_version()),
        "导出时间": dt.datetime.now(DISPLAY_TZ).strftime("%Y-%m-%d %H:%M:%S（北京时间）"),
        "数据来源": "演示数据（虚构）" if view.demo else "各县区报送数据",
    }


def matrix_table(matrix: pd.DataFrame, value_labels: dict, tags: dict[str, str], *, key: str, file_stem: str,
                 column_label: Callable[[object], str]) -> None:
    """A county × date matrix (of tiers, say) in an expander, as coloured labels, downloadable once opened."""
    labelled = matrix[reports.COUNTY_COLUMNS].copy()
    specs = [COLUMNS[c] for c in reports.COUNTY_COLUMNS]
    dates = matrix.columns.difference(reports.COUNTY_COLUMNS, sort=False)
    for column in dates:
        label = column_label(column)
        labelled[label] = matrix[column].map(value_labels)
        specs.append(Col(label, label, "tag", tags=tags))
    # the counties without data at the latest date are listed among the first rows
    blind_now = (matrix[dates[-1]].isna() | matrix[dates[-1]].eq(NO_DATA_TIER)) if len(dates) else None
    with on_demand("查看与下载完整表格", key=key) as opened:
        if opened:
            _grid(_first_rows(labelled, key=key, blind=blind_now)[0], specs, key=key)
            downloads(labelled, specs, key=key, file_stem=file_stem)


@contextmanager
def on_demand(label: str, *, key: str) -> Iterator[bool]:
    """An expander whose content the page builds only once it is opened (yields whether it is):
    closed, a plain expander's content is still sent and built in the browser on every visit.
    Its state is `{key}_open` in the session."""
    with st.expander(label, key=f"{key}_open", on_change="rerun") as opened:
        yield opened.open


# ---- charts -------------------------------------------------------------------------------
def chart(build: Callable[[], go.Figure], *, key: str, choices: tuple = ()) -> None:
    """The Plotly figure `build()` draws; in meeting mode with every text and the height larger.

    Drawn by the page itself with plotly.js's cartesian bundle (app/chart.js): a third of the
    full bundle Streamlit's own chart element loads, and each figure drawn once instead of twice.
    Building a figure (Plotly checks every property) costs more than the rest of a rerun, so it
    is built once per lake version, view and page `choices` — the widget values `build` reads
    besides the view — and shared read-only by every session. `key` names the chart in the whole
    app (the warm-up builds some charts of the default view under their key: `chart_data`)."""
    _chart_component()(data=chart_data(build, key=key, choices=choices), key=key)


def chart_data(build: Callable[[], go.Figure], *, key: str, choices: tuple = ()) -> bytes:
    """What chart `key` sends the browser in the current view and `choices`: the figure and
    Plotly's options as JSON, built by `build` if not cached."""
    view = state.view()
    return _cached_chart(key, view.snapshot.key, view.as_of, view.policy, view.cities, view.meeting, choices,
                         _build=build)


@st.cache_resource(show_spinner=False, max_entries=256)
def _cached_chart(key: str, snapshot_key: str, as_of: dt.date | None, policy: Policy, cities: tuple, meeting: bool,
                  choices: tuple, _build: Callable[[], go.Figure]) -> bytes:
    built = charts.scaled(_build(), MEETING_CHART_SCALE) if meeting else _build()
    config = dict(PLOTLY_CONFIG, displayModeBar=False) if meeting else PLOTLY_CONFIG
    return f'{{"config": {json.dumps(config)}, "figure": {built.to_json()}}}'.encode()


@functools.cache
def _chart_component():
    return st.components.v2.component(CHART_COMPONENT, js=CHART_SCRIPT.read_text(encoding="utf-8"),
                                      isolate_styles=False)  # Plotly styles its hover labels from the page's head


def county_links(metrics: pd.DataFrame) -> None:
    """County names as links to 县区详情 at this view's date, each with its tier badge and reasons:
    one block, like the tables' 详情 links (a link per element costs the browser some 25 ms each)."""
    urls = state.view().county_links(metrics["county_code"])
    items = "".join(
        f'<li><a href="{html.escape(url)}" target="_self">{html.escape(f"{row.county_name}（{row.city_name}）")}</a>'
        f' {tier_badge(int(row.tier))} {html.escape(row.reasons)}</li>' for row, url in zip(metrics.itertuples(), urls))
    st.html(f'<ul class="county-links">{items}</ul>')


def with_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the Chinese tier and status label columns the catalogue shows."""
    frame = frame.copy()
    for field, label in (("tier_before", "tier_before_label"), ("tier_now", "tier_now_label")):
        if field in frame:
            frame[label] = frame[field].map(SHOWN_TIER_LABELS)
    for field in ("status", "last_payday_status", "next_payday_status"):
        if field in frame:
            frame[f"{field}_label"] = frame[field].map(PAYDAY_STATUS_LABELS)
    return frame


def detail_links(frame: pd.DataFrame) -> pd.DataFrame:
    """Add `detail_url`, the shareable 县区详情 link of each row's county."""
    view = state.view()
    return frame.assign(detail_url=view.county_links(frame["county_code"]))
