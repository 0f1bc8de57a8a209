"""The warm-up (app/warmup.py): after it, no page computes the indicator panel or queries the
lake for the default view; a viewer who arrives during it waits for it; a new lake version —
committed through this process's write service or from the command line — is warmed soon
after, and only the latest one."""
from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app import cache, state, warmup
from fiscal import queries, reports
from fiscal.demo import DEMO_END, build_frames
from fiscal.lake import Lake
from fiscal.service import WriteService
from tests.test_pages_apptest import figures, open_page

ROOT = Path(__file__).resolve().parent.parent
WARMED_WITHIN_S = 30  # a 6-county lake warms in well under a second; this is a busy machine's margin
WARMED = "预热完成"  # what the server logs once a version is warm


@pytest.fixture(scope="module")
def built_lake(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("warmup") / "built"
    Lake(root).replace_all(build_frames(counties=6, years=2), user="demo", operation="demo")
    return root


@pytest.fixture
def lake(built_lake, tmp_path, monkeypatch) -> Path:
    """A fresh copy (a new root: nothing of it is in any cache yet), served as FISCAL_DATA."""
    root = tmp_path / "lake"
    shutil.copytree(built_lake, root)
    monkeypatch.setenv("FISCAL_DATA", str(root))
    return root


@pytest.fixture
def counted(monkeypatch) -> dict[str, list]:
    """Every indicator panel computed and every SQL file run, from now on ("outside the panel":
    the indicator queries run other than for a panel)."""
    calls: dict[str, list] = {"panel": [], "sql": [], "outside the panel": []}
    panel, executed = reports.indicator_panel, queries._executed
    computing = threading.local()

    def counting_panel(snapshot, as_of, policy):
        calls["panel"].append(as_of)
        computing.panel = True
        try:
            return panel(snapshot, as_of, policy)
        finally:
            computing.panel = False

    def counting_executed(name, *args, **kwargs):
        calls["sql"].append(name)
        if name == "indicators" and not getattr(computing, "panel", False):
            calls["outside the panel"].append(name)
        return executed(name, *args, **kwargs)

    monkeypatch.setattr(reports, "indicator_panel", counting_panel)
    monkeypatch.setattr(queries, "_executed", counting_executed)
    return calls


def ingest_treasury_row(root: Path, balance: float, *, via_cli: bool) -> None:
    """One treasury row of the demo's last day, committed as a new lake version."""
    code = Lake(root).read("counties")["county_code"].iloc[0]
    extract = root.parent / "库款.csv"
    extract.write_text(f"区划代码,日期,库款余额,库款流入,库款流出\n{code},{DEMO_END},{balance},0,0\n", encoding="utf-8")
    if via_cli:
        subprocess.run([sys.executable, "-m", "fiscal", "ingest", str(extract), "--kind", "treasury", "--unit", "万元",
                        "--data", str(root), "--user", "测试"], cwd=ROOT, check=True, capture_output=True, text=True)
    else:
        assert WriteService(root).ingest(extract, kind="treasury", unit="万元", user="测试").committed


def wait_until_warmed(watcher: warmup.Watcher, root: Path) -> None:
    """Until the watcher has warmed the lake's current version (at most WARMED_WITHIN_S)."""
    start = time.monotonic()
    while (watcher.warmed or ("",))[0] != Lake(root).snapshot().key:
        assert time.monotonic() - start < WARMED_WITHIN_S, f"not warmed within {WARMED_WITHIN_S} s"
        time.sleep(0.05)


# Pages whose first run, after the warm-up, still asks the lake for something of its own: the
# daily rows and revenue months of the one county shown.
PER_VIEWER_QUERIES = {
    "county": {"county_daily", "revenue_monthly"},
    "treasury": {"county_daily"},
}


@pytest.mark.parametrize("page", ["overview", "payroll", "treasury", "revenue", "risk", "county", "dispatch",
                                  "letters", "brief", "reporting", "data"])
def test_after_the_warm_up_a_page_computes_no_panel(lake, counted, monkeypatch, page):
    assert warmup.warm(*warmup.current())
    assert counted["panel"] == [DEMO_END]  # the default view: the latest as-of date
    counted["panel"].clear()
    counted["sql"].clear()

    open_page(lake, page, monkeypatch)
    assert counted["panel"] == []
    assert set(counted["sql"]) <= PER_VIEWER_QUERIES.get(page, set()), counted["sql"]


def test_the_warm_up_computes_the_indicators_once_for_every_page(lake, counted):
    # dispatch, the letters and the brief take their rows at A from the panel, not a query of their own
    assert warmup.warm(*warmup.current())
    assert counted["panel"] == [DEMO_END] and "indicators" in counted["sql"]
    assert counted["outside the panel"] == []


def test_a_viewer_during_the_warm_up_waits_for_its_panel(lake, counted, monkeypatch):
    started, release = threading.Event(), threading.Event()
    panel = reports.indicator_panel

    def slow_panel(*args):
        started.set()
        release.wait(10)  # the warm-up is in the middle of the panel when the viewer asks for it
        return panel(*args)

    monkeypatch.setattr(reports, "indicator_panel", slow_panel)
    snapshot, policy = warmup.current()
    warming = threading.Thread(target=warmup.warm, args=(snapshot, policy))
    warming.start()
    assert started.wait(30)
    seen = {}

    def viewer():
        with state.warming(warmup.default_view(snapshot, policy)):
            seen["panel"] = cache.panel(all_cities=True)

    viewing = threading.Thread(target=viewer)
    viewing.start()
    time.sleep(0.3)
    assert viewing.is_alive()  # waiting, not computing a panel of its own
    release.set()
    viewing.join(30)
    warming.join(60)
    assert counted["panel"] == [DEMO_END]  # computed once, by the warm-up
    with state.warming(warmup.default_view(snapshot, policy)):
        assert seen["panel"] is cache.panel(all_cities=True)  # the one shared frame


def test_a_warm_up_stops_when_a_newer_version_arrives(lake, counted):
    assert not warmup.warm(*warmup.current(), superseded=lambda: True)
    assert counted["panel"] == []
    assert sorted(counted["sql"]) == ["county_list", "freshness"]  # only the sidebar's defaults: latest date, cities


@pytest.mark.parametrize("via_cli, poll_s", [(False, 3600), (True, 0.5)])
def test_a_new_lake_version_is_warmed_soon_after_its_commit(lake, counted, via_cli, poll_s):
    """Through this process's write service (the data page) the watcher is woken at once (it
    would otherwise look only after an hour); a command-line commit is seen by the poll."""
    watcher = warmup.Watcher(poll_s).start()
    try:
        assert watcher.first_round.wait(WARMED_WITHIN_S)
        assert watcher.warmed == (Lake(lake).snapshot().key, cache.policy_in_force(), dt.date.today())
        ingest_treasury_row(lake, 12345.0, via_cli=via_cli)
        wait_until_warmed(watcher, lake)
    finally:
        watcher.stop()
    assert counted["panel"] == [DEMO_END, DEMO_END]  # the first version, then the new one
    counted["panel"].clear()
    snapshot, policy = warmup.current()
    with state.warming(warmup.default_view(snapshot, policy)):
        metrics = cache.metrics()
    assert counted["panel"] == []
    assert 12345.0 in set(metrics["treasury_balance"])  # the new version's rows, not the old ones


def test_a_version_committed_during_a_warm_up_stops_it_and_the_newest_is_warmed(lake, counted, monkeypatch):
    watcher = warmup.Watcher(3600).start()  # it looks only when woken
    try:
        assert watcher.first_round.wait(WARMED_WITHIN_S)
        panel = reports.indicator_panel

        def committing_panel(snapshot, as_of, policy):
            if len(counted["panel"]) == 1:  # the first new version's panel: a newer one is committed meanwhile
                ingest_treasury_row(lake, 9100.0, via_cli=True)
            return panel(snapshot, as_of, policy)

        monkeypatch.setattr(reports, "indicator_panel", committing_panel)
        ingest_treasury_row(lake, 9000.0, via_cli=True)
        watcher.wake()
        wait_until_warmed(watcher, lake)
    finally:
        watcher.stop()
    assert counted["panel"] == [DEMO_END] * 3  # the start, the version stopped after its panel, the newest
    assert counted["sql"].count("reporting_status") == 2  # the last step: at the start and for the newest only
    snapshot, policy = warmup.current()
    with state.warming(warmup.default_view(snapshot, policy)):
        assert 9100.0 in set(cache.metrics()["treasury_balance"])


def test_a_new_version_of_the_extracts_drops_the_older_versions_results(lake, counted):
    watcher = warmup.Watcher(3600).start()
    try:
        assert watcher.first_round.wait(WARMED_WITHIN_S)
        old_view = warmup.default_view(*warmup.current())
        ingest_treasury_row(lake, 12345.0, via_cli=False)
        wait_until_warmed(watcher, lake)
    finally:
        watcher.stop()
    new_view = warmup.default_view(*warmup.current())
    assert counted["panel"] == [DEMO_END, DEMO_END]
    with state.warming(new_view):
        cache.panel()
    assert len(counted["panel"]) == 2  # the new version's panel is kept
    with state.warming(old_view):
        cache.panel()
    assert len(counted["panel"]) == 3  # the old one was dropped: computed again when asked


def test_a_focus_list_edit_is_warmed_without_computing_the_panel_again(lake, counted):
    """A record (here the 重点关注 list) is a new lake version, but the extracts are the same."""
    watcher = warmup.Watcher(3600).start()
    try:
        assert watcher.first_round.wait(WARMED_WITHIN_S)
        counted["sql"].clear()
        code = Lake(lake).read("counties")["county_code"].iloc[0]
        assert WriteService(lake).enter_focus(code, "add", "库款紧张", user="测试").committed
        wait_until_warmed(watcher, lake)
    finally:
        watcher.stop()
    assert counted["panel"] == [DEMO_END]  # the start only: the panel of the same extracts is kept
    assert "focus_list" in counted["sql"]  # the list of the new version


@pytest.mark.browser
def test_the_server_warms_before_it_answers_and_again_after_a_command_line_commit(built_lake, tmp_path, page):
    """The real path: app/serve.py (as `make run` starts it) and its log."""
    from tests.browser_support import running_app, screenshot, wait_for_heading

    root = tmp_path / "lake"
    shutil.copytree(built_lake, root)
    with running_app(root, tmp_path) as server:
        assert server.output().count(WARMED) == 1  # before /_stcore/health answered
        assert f"{WARMED} {Lake(root).snapshot().key}：" in server.output()
        ingest_treasury_row(root, 12345.0, via_cli=True)
        warmed, start = f"{WARMED} {Lake(root).snapshot().key}：", time.monotonic()
        while warmed not in server.output():
            assert time.monotonic() - start < WARMED_WITHIN_S, server.output()
            time.sleep(0.2)
        page.goto(f"{server.url}/overview")
        wait_for_heading(page, "总览")
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.get_by_text("12,345.00", exact=True).count()  # the new version's balance (was 8,435.32)
        screenshot(page, "warmed_overview")


def test_the_readme_states_the_poll_interval():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"looks at the lake every {warmup.POLL_S:g} s" in " ".join(readme.split())


def test_a_changed_policy_file_is_warmed_like_a_new_version(lake, counted, tmp_path, monkeypatch):
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text((ROOT / "data" / "policy.toml").read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("FISCAL_POLICY", str(policy_file))
    watcher = warmup.Watcher(0.2).start()
    try:
        assert watcher.first_round.wait(WARMED_WITHIN_S)
        text = policy_file.read_text(encoding="utf-8").replace("warning_line = 0.3 ", "warning_line = 0.35")
        policy_file.write_text(text, encoding="utf-8")
        start = time.monotonic()
        while watcher.warmed[1].coverage_warning != 0.35:
            assert time.monotonic() - start < WARMED_WITHIN_S
            time.sleep(0.05)
    finally:
        watcher.stop()
    assert counted["panel"] == [DEMO_END, DEMO_END]  # under the old policy, then the new one


# The charts the warm-up builds, by page: those that depend on no widget of their page.
WARMED_CHARTS = {"payroll": ["payday_heatmap"], "treasury": ["coverage_by_city"],
                 "revenue": ["revenue_progress_bars", "revenue_by_category"],
                 "risk": ["tier_heatmap", "forward_cover_bars"], "dispatch": ["dispatch_bars"]}


@pytest.mark.parametrize("page", WARMED_CHARTS)
def test_after_the_warm_up_a_page_draws_its_default_charts_without_building_them(lake, monkeypatch, page):
    """The warm-up builds a page's default charts under the key the page asks for, and they are
    the very figures the page builds itself."""
    from fiscal import charts

    own = figures(open_page(lake, page, monkeypatch))  # built by the page
    warmup.forget_older_versions()
    assert warmup.warm(*warmup.current())
    built = []
    for name in WARMED_CHARTS[page]:
        function = getattr(charts, name)
        monkeypatch.setattr(charts, name, lambda *args, _function=function, _name=name, **options:
                            built.append(_name) or _function(*args, **options))

    warmed = figures(open_page(lake, page, monkeypatch))
    assert len(warmed) >= len(WARMED_CHARTS[page])
    assert built == []
    assert warmed == own
