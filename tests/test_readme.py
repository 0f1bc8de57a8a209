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
