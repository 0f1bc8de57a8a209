"""The router's workaround for Streamlit's pages-folder mode: needed, isolated, and effective."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.runtime.pages_manager import PagesManager

from app import state


def test_streamlit_still_runs_an_app_with_a_pages_folder_in_pages_folder_mode(tmp_path, monkeypatch):
    """If this fails, Streamlit no longer has the mode: delete app.state.leave_pages_folder_mode."""
    (tmp_path / "pages").mkdir()
    entry = tmp_path / "dashboard.py"
    entry.write_text("", encoding="utf-8")
    monkeypatch.setattr(PagesManager, "uses_pages_directory", None)
    PagesManager(str(entry))
    assert PagesManager.uses_pages_directory is True


def test_leaving_the_mode_switches_it_off_and_reruns(monkeypatch):
    reruns = []
    monkeypatch.setattr(state.st, "rerun", lambda: reruns.append(True))
    monkeypatch.setattr(PagesManager, "uses_pages_directory", True)
    state.leave_pages_folder_mode()
    assert PagesManager.uses_pages_directory is False and reruns == [True]
    state.leave_pages_folder_mode()  # already off: nothing to do
    assert reruns == [True]


def test_the_server_launcher_starts_without_the_mode(monkeypatch):
    """app/serve.py switches the mode off before the first session: Streamlit keeps a flag it
    finds set, so the first visit runs through st.navigation without a rerun."""
    from streamlit.web import cli

    from app import serve

    monkeypatch.setenv("FISCAL_WARMUP", "0")
    monkeypatch.setattr(PagesManager, "uses_pages_directory", None)
    served_in_the_mode = []
    monkeypatch.setattr(cli, "main", lambda *args, **kwargs: served_in_the_mode.append(PagesManager.uses_pages_directory))
    serve.main([])
    PagesManager(str(state.ROUTER))  # what Streamlit builds for each session
    assert served_in_the_mode == [False] and PagesManager.uses_pages_directory is False


class _Rerun(Exception):
    pass


def _serve(monkeypatch, entry_script, session_state: dict) -> list[bool]:
    """A run of `entry_script`'s app with `session_state`; st.rerun raises, as Streamlit's does."""
    from types import SimpleNamespace

    import streamlit.runtime.scriptrunner as scriptrunner

    reruns = []

    def rerun():
        reruns.append(True)
        raise _Rerun

    monkeypatch.setattr(state.st, "rerun", rerun)
    monkeypatch.setattr(state.st, "session_state", session_state)
    monkeypatch.setattr(scriptrunner, "get_script_run_ctx", lambda: SimpleNamespace(main_script_path=str(entry_script)))
    return reruns


def test_a_page_run_without_the_router_reruns_even_after_another_session_left_the_mode(monkeypatch):
    """Sessions starting together all begin in the mode; the first one switches the process-wide flag off."""
    reruns = _serve(monkeypatch, Path(state.__file__).resolve().parent.parent / "dashboard.py", {})
    monkeypatch.setattr(PagesManager, "uses_pages_directory", False)  # another session was first
    with pytest.raises(_Rerun):
        state.view()
    assert reruns == [True]


def test_a_page_file_served_on_its_own_is_told_to_use_the_router(monkeypatch):
    reruns = _serve(monkeypatch, state.PAGES_DIR / "overview.py", {})
    monkeypatch.setattr(PagesManager, "uses_pages_directory", False)
    with pytest.raises(RuntimeError, match="dashboard.py"):
        state.view()
    assert reruns == []
