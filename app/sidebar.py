"""The shared sidebar (截至日期, 地市, 会议模式) and the URL that mirrors it.

`start()` runs once per rerun in dashboard.py, before the page: it takes the lake snapshot
(a few ms), loads the policy, draws the sidebar and keeps those choices in session state
and in the URL (`?as_of=…&city=…&meeting=1`) so a link shows the same view.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from fiscal import reports
from fiscal.lake import Snapshot

from . import cache, pickers, state
from . import formatting as fmt

EARLIEST = dt.date(2000, 1, 1)

_URL_SEEN_KEY = "_url_seen"  # the query-parameter values last written or adopted
URL_NOTE_KEY = "_url_note"  # what was changed in a link's choices, shown once under the page title
VIEW_CHOICES = ("as_of", "cities")  # the keys of the popover's widgets


def start() -> state.View:
    """Snapshot the lake, load the policy, draw the sidebar; remember the result for the page."""
    state.leave_pages_folder_mode()
    _keep_choices()
    snapshot = cache.lake().snapshot()
    policy = cache.policy_or_stop()
    latest, cities = latest_and_cities(snapshot)
    _adopt_url(latest, cities)
    with st.sidebar:
        as_of, chosen, meeting = _sidebar(latest, cities)
    current = state.View(snapshot, policy, as_of, tuple(chosen), meeting, demo=cache.is_demo(snapshot))
    state.remember(current)
    _write_url(current)
    return current


def _keep_choices() -> None:
    """The popover's widgets are drawn only while it is open, so the browser sends their values
    back only then, and Streamlit would forget them on the next rerun (the pages would fall back
    to today's date and every city): their values are set again, as the view's own, every run."""
    for key in VIEW_CHOICES:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def latest_and_cities(snapshot: Snapshot) -> tuple[dt.date | None, tuple[str, ...]]:
    """The default as-of date (the latest treasury date) and the cities to choose from."""
    return _latest_and_cities(snapshot.key, _snapshot=snapshot)


# Read on every rerun of every page: kept once per lake version, not copied out of the data cache each time.
@st.cache_resource(show_spinner=False, max_entries=16)
def _latest_and_cities(snapshot_key: str, _snapshot: Snapshot) -> tuple[dt.date | None, tuple[str, ...]]:
    """The latest treasury date and the cities of the county list, in its order."""
    counties = cache.report_on(_snapshot, reports.county_list)
    return cache.report_on(_snapshot, reports.latest_date), tuple(dict.fromkeys(counties["city_name"]))


def _sidebar(latest: dt.date | None, cities: tuple[str, ...]) -> tuple[dt.date | None, list[str], bool]:
    """The view's choices. 截至日期 and 地市 sit in a popover whose button reads the current view:
    a popover's widgets are drawn only once it is opened, and a date picker and a multiselect
    drawn on every first visit cost a just-opened browser some 0.25 s."""
    if latest is not None and st.session_state.get("_latest") != latest:
        # Follow the newest data while the user has not picked another date.
        if st.session_state.get("as_of") in (None, st.session_state.get("_latest")):
            st.session_state["as_of"] = latest
        st.session_state["_latest"] = latest
    with st.popover(_view_label(st.session_state.get("as_of") if latest else None, st.session_state.get("cities")),
                    icon=":material/event:", help="更改截至日期与地市", width="stretch"):
        if latest is None:
            st.caption("数据湖中还没有库款数据，截至日期不可选")
            as_of = None
        else:
            as_of = st.date_input("截至日期", key="as_of", min_value=EARLIEST, max_value=_latest_choice(latest),
                                  help=f"默认为库款数据最新日期 {latest:%Y-%m-%d}")
        chosen = st.multiselect("地市", cities, key="cities", placeholder="全部地市")
    meeting = st.toggle("会议模式", key="meeting", help="隐藏侧栏和工具栏、放大字体和图表，便于投屏")
    return as_of, chosen, meeting


def _view_label(as_of: dt.date | None, cities: list[str] | None) -> str:
    """The popover's button: the date and the cities the pages show."""
    date = f"截至 {as_of:%Y-%m-%d}" if as_of else "尚无库款数据"
    return f"{date} · {'、'.join(fmt.md_text(c) for c in cities) if cities else '全部地市'}"


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


def _write_url(current: state.View) -> None:
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
    """The county picker of 县区详情 (市, then 县区), in step with `?county=` (read on load, written back).

    Defaults to the riskiest county; a county in the URL that this session has not seen
    yet (a shared link) takes over.
    """
    seen = st.session_state[_URL_SEEN_KEY]
    linked = st.query_params.get("county")
    known = metrics["county_code"].eq(linked).any() if linked else False
    if known and linked != seen.get("county"):
        pickers.choose_county(metrics, key="county", code=linked)
    elif linked and not known and linked != seen.get("county"):
        st.warning(f"链接中的县区代码 {fmt.md_text(linked)} 不在县区名录中，已改为显示风险最高的县区")
    code = pickers.county_picker(metrics, key="county")
    st.query_params["county"] = code
    seen["county"] = code
    return code


def exit_meeting_mode() -> None:
    st.session_state["meeting"] = False
