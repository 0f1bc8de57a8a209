"""Warm-up: the data every page reads in the default view, computed when the server starts and
when the lake gets a new version, so that no viewer waits for it.

The default view is what a new session shows: the latest as-of date, every city, the policy
in force. `warm()` runs the pages' own cached data helpers (app/cache.py, sidebar.py,
bureau.py, briefing.py, letter_views.py) for that view, so the caches hold exactly the keys a
page run asks for, and builds the charts that depend on no widget of their page (`chart_steps`;
a chart drawn for a county or a comparison the reader picks is built on its first visit). A
viewer who arrives meanwhile waits on the same cache entry (Streamlit computes each key once,
under a per-key lock) instead of computing it a second time.

`start_watching()` (the server launcher, app/serve.py) adds one daemon thread that looks at
the lake every POLL_S seconds — a listing of each table's latest commit file, so a commit
from the command line is seen too — or at once after a commit this process makes through
the write service (`fiscal.service.on_commit`), and warms a new lake version, policy or day
(the brief and the overdue measures are dated). One warm-up at a time, the latest version
only: a warm-up that sees a newer version between its steps stops, and the newest is warmed
next. A new version of the extracts (or policy) first drops the older results from the caches
(`forget_older_versions`), so they hold about one version.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable

import streamlit as st

from fiscal import charts, focus, issuing, ledger, reports, service
from fiscal.indicators import tier_moves
from fiscal.lake import Snapshot
from fiscal.policy import Policy, PolicyError

from . import briefing, bureau, cache, letter_views, sidebar, state, widgets

POLL_S = 2.0
THREAD_NAME = "warm-up"
LOG = logging.getLogger("fiscal.warmup")


def default_view(snapshot: Snapshot, policy: Policy) -> state.View:
    """The view a new session opens with (the sidebar's defaults)."""
    latest, _ = sidebar.latest_and_cities(snapshot)
    return state.View(snapshot, policy, latest, (), meeting=False, demo=cache.is_demo(snapshot))


def steps(view: state.View) -> list[tuple[str, Callable[[], object]]]:
    """What the pages ask the caches for in `view`, the overview's first (a new session opens there)."""
    every_page = [("县区名录", lambda: cache.report(reports.county_list)), ("各类数据行数", cache.rows_by_kind)]
    if view.as_of is None:  # no treasury rows: the pages only say what is missing
        return every_page
    as_of, policy = view.as_of, view.policy
    return [
        *every_page,
        ("数据最新日期", lambda: cache.report(reports.freshness, as_of, policy.stale_days)),
        ("指标面板", cache.metrics),
        ("收入进度", lambda: cache.filtered(reports.revenue_rows, as_of)),
        ("本周变化", lambda: cache.from_panel(tier_moves, reports.week_before(as_of), as_of)),
        ("发薪历史", lambda: cache.filtered(reports.payday_history, as_of, policy)),
        ("县区发薪历史", lambda: cache.shared(reports.payday_history, as_of, policy)),
        ("保障水平走势", lambda: cache.from_panel(reports.coverage_trend, as_of)),
        ("风险等级历史", lambda: cache.from_panel(reports.tier_matrix, as_of)),
        ("重点关注名单", bureau.members),
        ("名单变动", lambda: cache.report(focus.entries)),
        ("工作台账", bureau.measures),
        ("台账修订", lambda: cache.report(ledger.history)),
        ("调度建议", cache.dispatch_suggestions),
        ("提示函", letter_views.drafts),
        ("提示函登记", lambda: cache.report(issuing.registered)),
        ("周调度简报", briefing.weekly_brief),
        ("报送情况", lambda: cache.filtered(reports.reporting_status, as_of)),
        *chart_steps(view),
    ]


def chart_steps(view: state.View) -> list[tuple[str, Callable[[], object]]]:
    """The charts of the default view that depend on no widget of their page, built as the pages
    build them (widgets.chart, under the same key): building a figure costs a page 0.1–0.4 s, and
    the first one of a process more (Plotly loads its property checks)."""
    as_of, policy = view.as_of, view.policy

    def payday_heatmap():
        history = cache.filtered(reports.payday_history, as_of, policy)
        if not history.empty:
            widgets.chart_data(lambda: charts.payday_heatmap(history, policy), key="payday_heatmap")

    def revenue():
        rows = cache.filtered(reports.revenue_rows, as_of)
        if not rows.empty:
            by_county = reports.revenue_by_county(cache.metrics(), rows)
            widgets.chart_data(lambda: charts.revenue_progress_bars(by_county, policy), key="revenue_bars")
            by_category = reports.revenue_by_category(rows)
            widgets.chart_data(lambda: charts.revenue_by_category(by_category), key="revenue_categories")

    def risk():
        matrix = cache.from_panel(reports.tier_matrix, as_of)
        widgets.chart_data(lambda: charts.tier_heatmap(matrix), key="tier_heatmap")
        forward = reports.forward_payroll(cache.metrics())
        if forward["payroll_cover_3m"].notna().any():
            widgets.chart_data(lambda: charts.forward_cover_bars(forward, policy), key="forward_cover")

    def dispatch_bars():
        suggestions = cache.dispatch_suggestions()
        needing = suggestions[suggestions["dispatch_need"] > 0]
        if not needing.empty:
            widgets.chart_data(lambda: charts.dispatch_bars(needing, policy), key="dispatch_bars")

    return [
        ("图表：近 12 个月发薪状态", payday_heatmap),
        ("图表：各市库款保障水平分布", lambda: widgets.chart_data(lambda: charts.coverage_by_city(cache.metrics(), policy),
                                                       key="coverage_by_city")),
        ("图表：收入进度", revenue),
        ("图表：风险分级", risk),
        ("图表：调度建议", dispatch_bars),
    ]


def warm(snapshot: Snapshot, policy: Policy, superseded: Callable[[], bool] = lambda: False) -> bool:
    """Compute every step for the default view of `snapshot` and `policy`; False when it stopped
    early because `superseded()` said a newer version is there. A step that fails is logged and
    skipped: the page that needs it then shows the error as it would have anyway."""
    start = time.perf_counter()
    view = default_view(snapshot, policy)
    timings = []
    with state.warming(view):
        for name, compute in steps(view):
            if superseded():
                LOG.info("预热中止：%s 之后数据湖已有新版本", snapshot.key)
                return False
            began = time.perf_counter()
            try:
                compute()
            except Exception:  # noqa: BLE001 (never take the server down; the page reports it)
                LOG.exception("预热步骤「%s」失败", name)
            timings.append(f"{name} {time.perf_counter() - began:.2f}")
    LOG.info("预热完成 %s：%.1f 秒（%s）", snapshot.key, time.perf_counter() - start, "，".join(timings))
    return True


def current() -> tuple[Snapshot, Policy] | None:
    """The lake's latest snapshot and the policy in force (None while the policy file is broken)."""
    try:
        return cache.lake().snapshot(), cache.policy_in_force()
    except PolicyError:
        return None


def _key(now: tuple[Snapshot, Policy]) -> tuple[str, Policy, dt.date]:
    """What a warm-up is for: the lake version, the policy and the day (ledger measures fall
    overdue, and the brief is dated, by the day)."""
    return now[0].key, now[1], dt.date.today()


def forget_older_versions() -> None:
    """Drop every cached result, when the extracts or the policy have changed. Each page run takes
    the latest snapshot, so an older version's results are never asked for again, and every
    st.cache_* of the app is keyed by lake version (or policy), or cheap to compute again. The
    caches then hold about one version (a national panel is some 15 MB) instead of filling up
    to their max_entries with versions no page shows."""
    st.cache_data.clear()
    st.cache_resource.clear()


class Watcher:
    """One daemon thread: warms each new lake version (or policy, or day) once, the latest only."""

    def __init__(self, poll_s: float = POLL_S):
        self._poll_s = poll_s
        self._wake = threading.Event()
        self._stopped = False
        self.warmed: tuple[str, Policy, dt.date] | None = None  # the `_key` of the last complete warm-up
        self._indicators_of: tuple[str, Policy] | None = None  # the extracts version and policy cached
        self.first_round = threading.Event()  # set once the version found at start is warm (or failed)
        self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)

    def start(self) -> Watcher:
        service.on_commit(lambda root: self.wake())  # a commit through this process: no need to wait for the poll
        self._thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()
        self._thread.join()

    def check(self) -> bool:
        """Warm the latest version if it is not warm yet; a version committed meanwhile stops that
        warm-up and the newest is warmed next, at once. True when a warm-up ran to its end."""
        while (now := current()) is not None and _key(now) != self.warmed:
            def superseded(now=now) -> bool:
                newer = current()
                return newer is not None and _key(newer) != _key(now)

            indicators_of = (now[0].extracts_key, now[1])
            if self._indicators_of not in (None, indicators_of):
                forget_older_versions()
            self._indicators_of = indicators_of
            if warm(*now, superseded=superseded):
                self.warmed = _key(now)
                return True
        return False

    def _run(self) -> None:
        while not self._stopped:
            try:
                self.check()
            except Exception:  # noqa: BLE001 (a lake being rewritten, a full disk: try again next round)
                LOG.exception("查看数据湖版本失败，下一轮再试")
            self.first_round.set()
            self._wake.wait(self._poll_s)
            self._wake.clear()


_watcher: Watcher | None = None
_watcher_lock = threading.Lock()


def start_watching(poll_s: float = POLL_S) -> Watcher:
    """Start the process's watcher (once); its first round warms the current version."""
    global _watcher
    with _watcher_lock:
        if _watcher is None:
            _watcher = Watcher(poll_s).start()
        return _watcher
