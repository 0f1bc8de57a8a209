"""Routing: which page files make up the app, and the view every page runs with.

dashboard.py (the router) builds the view once per rerun (`sidebar.start`) and keeps it
here for the page it then runs; pages read it with `view()`. The page paths are absolute
so they resolve wherever the entry script runs from (AppTest, see tests).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from fiscal.lake import Snapshot
from fiscal.policy import Policy

ROUTER = Path(__file__).resolve().parent.parent / "dashboard.py"
PAGES_DIR = ROUTER.parent / "pages"
COUNTY_PAGE = PAGES_DIR / "county.py"
DATA_PAGE = PAGES_DIR / "data.py"

_VIEW_KEY = "_view"
# The view the warm-up (app/warmup.py) computes for, outside any page run: the pages' own data
# helpers then fill the caches with exactly the keys a page run asks for.
_warming: ContextVar[View | None] = ContextVar("warming", default=None)


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

    def county_links(self, county_codes: pd.Series) -> pd.Series:
        """`county_link` of every code at once (codes are six digits: nothing to escape)."""
        rest = self.county_link("").removeprefix("county?county=")
        return "county?county=" + county_codes.astype("str") + rest


def data_page_exists() -> bool:
    return DATA_PAGE.is_file()


def view() -> View:
    """The view dashboard.py built in this run (or the one being warmed, see `warming`)."""
    current = _warming.get() or st.session_state.get(_VIEW_KEY)
    if current is None:
        leave_pages_folder_mode()
        if _served_by_router():
            # The run started in pages-folder mode, which another session may already have
            # switched off (the flag is process-wide): rerun through st.navigation all the same.
            st.rerun()
        raise RuntimeError("页面必须经由 dashboard.py 运行：streamlit run dashboard.py")
    return current


def _served_by_router() -> bool:
    """Whether the app being served is dashboard.py (and not a page file run on its own)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx is not None and Path(ctx.main_script_path).resolve() == ROUTER


@contextmanager
def warming(current: View) -> Iterator[None]:
    """Within this block (in this thread), `view()` is `current`: for the warm-up, which runs no page."""
    token = _warming.set(current)
    try:
        yield
    finally:
        _warming.reset(token)


def remember(current: View) -> None:
    """Keep the view of this run for the page that runs next."""
    st.session_state[_VIEW_KEY] = current


def forget_view() -> None:
    """Called when the run ends, so that a page run without dashboard.py is noticed."""
    st.session_state.pop(_VIEW_KEY, None)


def leave_pages_folder_mode() -> None:
    """Rerun at once if Streamlit runs this app as an old-style pages-folder app.

    Works around Streamlit's multipage "v1" mode (PagesManager.uses_pages_directory, still
    in Streamlit 1.67): an app whose entry script has a `pages/` folder beside it is run
    that way until the process's first `st.navigation` call, so the first request after
    start-up runs dashboard.py as one of the folder's pages (its widgets then get other ids
    and lose their first change), or, for a deep link such as /county?county=…, runs that
    page file alone. Switch the mode off and rerun, so every run goes through
    st.navigation. (The server launcher switches it off before the first session, see
    `start_without_pages_folder_mode`; this is for `streamlit run dashboard.py`.)
    tests/test_routing.py fails once Streamlit drops that mode; then delete this function.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        start_without_pages_folder_mode()
        st.rerun()


def start_without_pages_folder_mode() -> None:
    """Switch the pages-folder mode off before the server's first session (app/serve.py), so no
    first visit pays for `leave_pages_folder_mode`'s rerun (Streamlit only sets the flag if unset)."""
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False
