"""The README stays true: its two commands exist, every CLI command and every setting is documented."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from fiscal import settings
from fiscal.cli import COMMANDS, build_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")


def test_the_two_commands_are_make_targets():
    assert "make run" in README and "make test" in README
    assert re.search(r"^run:", MAKEFILE, re.M) and re.search(r"^test:", MAKEFILE, re.M)
    assert "make test-fast" in README and re.search(r'^test-fast:.*\n\t.*pytest -m "not browser"', MAKEFILE, re.M)
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
# ---- settings: one registry, read in one place, documented ------------------------------------
def readme_settings_rows() -> list[tuple[str, str, str]]:
    section = README.split("| 变量 | 默认 | 含义 |", 1)[1].split("\n\n", 1)[0]
    rows = [line.strip("|").split(" | ") for line in section.strip().splitlines()[1:]]
    return [(name.strip().strip("`"), default.strip(), meaning.strip()) for name, default, meaning in rows]


def test_readme_settings_table_is_the_registry():
    assert readme_settings_rows() == [(s.name, s.default, s.meaning) for s in settings.SETTINGS]


def test_only_the_registry_reads_the_environment():
    sources = [*ROOT.joinpath("fiscal").rglob("*.py"), *ROOT.joinpath("app").rglob("*.py"),
               *ROOT.joinpath("pages").rglob("*.py"), ROOT / "dashboard.py"]
    readers = [p.relative_to(ROOT).as_posix() for p in sources
               if re.search(r"os\.environ|getenv\(", p.read_text(encoding="utf-8"))]
    assert readers == ["fiscal/settings.py"]


def test_documented_defaults_are_the_defaults(monkeypatch):
    for setting in settings.SETTINGS:
        monkeypatch.delenv(setting.name, raising=False)
    documented = {s.name: s.default for s in settings.SETTINGS}
    assert settings.data_dir() == ROOT / documented["FISCAL_DATA"].strip("`")
    assert settings.policy_path() == ROOT / documented["FISCAL_POLICY"].strip("`")
    assert settings.secrets_path() == ROOT / documented["FISCAL_SECRETS"].strip("`")
    lake = ROOT / "data" / "demo"
    assert settings.audit_dir(lake) == ROOT / "data" / "audit" / "demo"  # see tests/test_audit.py
    assert documented["FISCAL_AUDIT"] == "`<数据湖上级目录>/audit/<数据湖名>/`"
    assert settings.cache_dir(lake) == ROOT / "data" / "cache" / "demo"
    assert documented["FISCAL_CACHE"] == "`<数据湖上级目录>/cache/<数据湖名>/`"
    assert documented["FISCAL_MAX_UPLOAD_BYTES"].startswith(f"{50 * 1024 * 1024}（50 MB）")
    assert settings.max_upload_bytes() == 50 * 1024 * 1024


def test_a_setting_overrides_its_default_and_blank_is_unset(monkeypatch, tmp_path):
    monkeypatch.setenv("FISCAL_DATA", str(tmp_path / "lake"))
    monkeypatch.setenv("FISCAL_POLICY", "   ")
    assert settings.data_dir() == tmp_path / "lake"
    assert settings.policy_path() == ROOT / "data" / "policy.toml"
    with pytest.raises(KeyError):
        settings.raw("FISCAL_UNKNOWN")
