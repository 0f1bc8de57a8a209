"""The README stays true: its two commands exist, and every CLI command is documented."""
from __future__ import annotations

import re
from pathlib import Path

from fiscal.cli import COMMANDS, build_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")


def test_the_two_commands_are_make_targets():
    assert "make run" in README and "make test" in README
    assert re.search(r"^run:", MAKEFILE, re.M) and re.search(r"^test:", MAKEFILE, re.M)
    assert (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().endswith("make test")


def test_every_cli_command_appears_in_the_readme():
    commands = set(build_parser()._subparsers._group_actions[0].choices)
    assert commands == set(COMMANDS)
    for command in commands:
        assert f"python -m fiscal {command}" in README, command


def test_readme_dashboard_links_open_the_page_they_name(monkeypatch):
    """Every http://localhost:8501/… link: its path is a page of the router, and it opens with those choices."""
    from tests.test_pages_apptest import open_page

    routes = set(re.findall(r'url_path="([a-z]+)"', (ROOT / "dashboard.py").read_text(encoding="utf-8")))
    links = re.findall(r"http://localhost:8501/([a-z]+)\?(\S+?)(?=[\s|）)]|$)", README)
    assert links
    for page, query in links:
        assert page in routes, page
        params = dict(part.split("=", 1) for part in query.split("&"))
        app = open_page(ROOT / "data" / "demo", page, monkeypatch, **params)
        if "county" in params:
            assert app.selectbox(key="county").value == params["county"]
        if "as_of" in params:
            assert str(app.date_input(key="as_of").value) == params["as_of"]
