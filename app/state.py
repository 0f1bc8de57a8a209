"""Per-rerun state shared by every page: lake snapshot, policy, sidebar choices, cached reports.

`start()` runs once per rerun in dashboard.py, before the page: it takes the lake snapshot
(a few ms), loads the policy, draws the sidebar (截至日期, 地市, 会议模式) and keeps those
choices in session state and in the URL (`?as_of=…&city=…&meeting=1`) so a link shows the
same view. Pages read the result with `view()` and get data through `report()`/`panel()`,
which cache on the snapshot key: a new upload or rollback is a new key, so nothing stale is
ever served, and pages never open a database connection themselves.
"""
from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from fiscal import reports
from fiscal.cli import DEMO_LAKE
from fiscal.extracts import KINDS
from fiscal.lake import Lake, Snapshot
from fiscal.policy import DEFAULT_POLICY_PATH, Policy, PolicyError, load_policy

from . import formatting as fmt

DATA_ENV = "FISCAL_DATA"
POLICY_ENV = "FISCAL_POLICY"
# Absolute page paths: they resolve wherever the entry script runs from (AppTest, see tests).
PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"
COUNTY_PAGE = PAGES_DIR / "county.py"
DATA_PAGE = PAGES_DIR / "data.py"

EARLIEST = dt.date(2000, 1, 1)

_VIEW_KEY = "_view"
_URL_SEEN_KEY = "_url_seen"  # the query-parameter values last written or adopted
URL_NOTE_KEY = "_url_note"  # what was changed in a link's choices, shown once under the page title


@dataclass(frozen=True)
class View:
    """What every page shows: which lake version, which policy, as of when, which cities."""

    snapshot: Snapshot
    policy: Policy
    as_of: dt.date | None  # None while the lake holds no treasury rows
    cities: tuple[str, ...]  # empty: every city
    meeting: bool
    demo: bool  # the lake holds the fictional demo data

    def county_link(self, county_code: str) -> str:
        """A relative link to 县区详情 for one county at this as-of date."""
        params = {"county": county_code}
        if self.as_of:
            params["as_of"] = self.as_of.isoformat()
        if self.meeting:
            params["meeting"] = "1"
        return f"county?{urlencode(params)}"


def lake_root() -> Path:
    return Path(os.environ.get(DATA_ENV) or DEMO_LAKE)


def policy_path() -> Path:
    return Path(os.environ.get(POLICY_ENV) or DEFAULT_POLICY_PATH)


def data_page_exists() -> bool:
    return DATA_PAGE.is_file()


def view() -> View:
    """The view dashboard.py built in this run."""
    current = st.session_state.get(_VIEW_KEY)
    if current is None:
        _leave_pages_folder_mode()
        raise RuntimeError("页面必须经由 dashboard.py 运行：streamlit run dashboard.py")
    return current


def forget_view() -> None:
    """Called when the run ends, so that a page run without dashboard.py is noticed."""
    st.session_state.pop(_VIEW_KEY, None)


def _leave_pages_folder_mode() -> None:
    """Rerun at once if Streamlit runs this app as an old-style pages-folder app.

    Streamlit treats an app with a `pages/` folder that way until the process's first
    `st.navigation` call: the first request after start-up runs dashboard.py as one of the
    folder's pages (its widgets then get other ids and lose their first change), or, for a
    deep link such as /county?county=…, runs that page file alone. Switch the mode off and
    rerun, so every run goes through st.navigation.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


# ---- cached data ------------------------------------------------------------------------
def report(function: Callable, *args):
    """`function(snapshot, *args)` from fiscal.reports, cached per lake version and arguments."""
    return _report_on(view().snapshot, function, *args)


def _report_on(snapshot: Snapshot, function: Callable, *args):
    return _cached_report(f"{function.__module__}.{function.__qualname__}", snapshot.key, args,
                          _function=function, _snapshot=snapshot)


@st.cache_data(show_spinner="正在计算…", max_entries=256)
def _cached_report(name: str, snapshot_key: str, args: tuple, _function: Callable, _snapshot: Snapshot):
    return _function(_snapshot, *args)


def panel(all_cities: bool = False) -> pd.DataFrame:
    """The indicator panel at the view's as-of date, for the chosen cities (or all)."""
    current = view()
    frame = _cached_panel(current.snapshot.key, current.as_of, current.policy, _snapshot=current.snapshot)
    return frame if all_cities else reports.in_cities(frame, current.cities)


# Each national-scale panel is some 15 MB, so keep only a few as-of dates.
@st.cache_data(show_spinner="正在计算各县区指标…", max_entries=8)
def _cached_panel(snapshot_key: str, as_of: dt.date, policy: Policy, _snapshot: Snapshot) -> pd.DataFrame:
    return reports.indicator_panel(_snapshot, as_of, policy)


def metrics() -> pd.DataFrame:
    """Every county (of the chosen cities) at the as-of date, riskiest first."""
    return reports.at_date(panel(), view().as_of)


def filtered(function: Callable, *args) -> pd.DataFrame:
    """A cached report frame restricted to the chosen cities."""
    return reports.in_cities(report(function, *args), view().cities)


def rows_by_kind() -> dict[str, int]:
    """How many rows each extract kind holds in the current lake version."""
    fresh = report(reports.freshness)
    counts = dict(zip(fresh["kind"], fresh["rows"].astype(int)))
    counts["counties"] = len(report(reports.county_list))
    return counts


# ---- the per-rerun start ---------------------------------------------------------------
def start() -> View:
    """Snapshot the lake, load the policy, draw the sidebar; remember the result for the page."""
    _leave_pages_folder_mode()
    lake = Lake(lake_root())
    snapshot = lake.snapshot()
    policy = _load_policy_or_stop()
    latest = _report_on(snapshot, reports.latest_date)
    counties = _report_on(snapshot, reports.county_list)
    cities = tuple(dict.fromkeys(counties["city_name"]))
    _adopt_url(latest, cities)
    with st.sidebar:
        as_of, chosen, meeting = _sidebar(latest, cities)
    current = View(snapshot, policy, as_of, tuple(chosen), meeting, demo=_is_demo(snapshot))
    st.session_state[_VIEW_KEY] = current
    _write_url(current)
    return current


def _load_policy_or_stop() -> Policy:
    path = policy_path()
    try:
        return _cached_policy(str(path), path.stat().st_mtime if path.exists() else 0.0)
    except PolicyError as exc:
        st.error(f"政策文件无法使用：{exc}")
        st.stop()


@st.cache_data(show_spinner=False, max_entries=4)
def _cached_policy(path: str, modified: float) -> Policy:
    return load_policy(path)


def _is_demo(snapshot: Snapshot) -> bool:
    return _cached_is_demo(snapshot.key, _root=snapshot.root)


@st.cache_data(show_spinner=False, max_entries=16)
def _cached_is_demo(snapshot_key: str, _root: Path) -> bool:
    history = Lake(_root).history()
    return bool(history) and history[-1].operation == "demo"


def _sidebar(latest: dt.date | None, cities: tuple[str, ...]) -> tuple[dt.date | None, list[str], bool]:
    if latest is None:
        st.caption("数据湖中还没有库款数据，截至日期不可选")
        as_of = None
    else:
        # Follow the newest data while the user has not picked another date.
        if st.session_state.get("_latest") != latest:
            if st.session_state.get("as_of") in (None, st.session_state.get("_latest")):
                st.session_state["as_of"] = latest
            st.session_state["_latest"] = latest
        as_of = st.date_input("截至日期", key="as_of", min_value=EARLIEST, max_value=_latest_choice(latest),
                              help=f"默认为库款数据最新日期 {latest:%Y-%m-%d}")
    chosen = st.multiselect("地市", cities, key="cities", placeholder="全部地市")
    meeting = st.toggle("会议模式", key="meeting", help="隐藏侧栏和工具栏、放大字体和图表，便于投屏")
    return as_of, chosen, meeting


def _latest_choice(latest: dt.date) -> dt.date:
    """The latest selectable as-of date: today, or the newest data if that is later (demo data)."""
    return max(latest, dt.date.today())


def _adopt_url(latest: dt.date | None, cities: tuple[str, ...]) -> None:
    """Take choices from the URL when it carries values this session has not seen.

    A missing parameter changes nothing: switching pages drops the query string, and the
    choices must survive that (they are written back by `_write_url`).
    """
    seen = st.session_state.setdefault(_URL_SEEN_KEY, {})
    params = st.query_params
    as_of = params.get("as_of")
    if as_of and as_of != seen.get("as_of") and latest is not None:
        try:
            asked = dt.date.fromisoformat(as_of)
            chosen = min(max(asked, EARLIEST), _latest_choice(latest))
            st.session_state["as_of"] = chosen
            st.session_state["_latest"] = latest
            if chosen != asked:  # never silently: the user must know which date they are looking at
                st.session_state[URL_NOTE_KEY] = (f"链接中的截至日期 {asked:%Y-%m-%d} 超出可选范围"
                                                  f"（{EARLIEST:%Y-%m-%d} 至 {_latest_choice(latest):%Y-%m-%d}），"
                                                  f"已改为 {chosen:%Y-%m-%d}")
        except ValueError:
            st.session_state[URL_NOTE_KEY] = f"链接中的截至日期「{fmt.md_text(as_of)}」无法识别，已使用默认日期"
        seen["as_of"] = as_of
    chosen = params.get_all("city")
    if chosen and chosen != seen.get("city"):
        st.session_state["cities"] = [c for c in chosen if c in cities]
        seen["city"] = chosen
    meeting = params.get("meeting")
    if meeting is not None and meeting != seen.get("meeting"):
        st.session_state["meeting"] = meeting == "1"
        seen["meeting"] = meeting


def _write_url(current: View) -> None:
    seen = st.session_state[_URL_SEEN_KEY]
    wanted = {
        "as_of": current.as_of.isoformat() if current.as_of else None,
        "city": list(current.cities) or None,
        "meeting": "1" if current.meeting else None,
    }
    for key, value in wanted.items():
        if value is None:
            st.query_params.pop(key, None)
        elif st.query_params.get_all(key) != (value if isinstance(value, list) else [value]):
            st.query_params[key] = value
        seen[key] = value


def county_choice(metrics: pd.DataFrame) -> str:
    """The county picker of 县区详情, in step with `?county=` (read on load, written back).

    Defaults to the riskiest county; a county in the URL that this session has not seen
    yet (a shared link) takes over.
    """
    names = fmt.county_labels(metrics)
    seen = st.session_state[_URL_SEEN_KEY]
    linked = st.query_params.get("county")
    if linked in names and linked != seen.get("county"):
        st.session_state["county"] = linked
    elif linked and linked not in names and linked != seen.get("county"):
        st.warning(f"链接中的县区代码 {fmt.md_text(linked)} 不在县区名录中，已改为显示风险最高的县区")
    code = st.selectbox("县区", list(names), format_func=names.get, key="county", persist_state="session")
    st.query_params["county"] = code
    seen["county"] = code
    return code


def exit_meeting_mode() -> None:
    st.session_state["meeting"] = False


def missing_kinds(*kinds: str) -> list[str]:
    """Those of `kinds` that have no rows in the current lake version."""
    counts = rows_by_kind()
    return [k for k in kinds if counts.get(k, 0) == 0]


def kind_label(kind: str) -> str:
    return KINDS[kind].label
