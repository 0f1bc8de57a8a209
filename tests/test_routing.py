"""The router's workaround for Streamlit's pages-folder mode: needed, isolated, and effective."""
from __future__ import annotations

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
