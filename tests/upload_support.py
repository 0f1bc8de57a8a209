"""Shared by the 数据管理 tests: a demo lake to copy, lake fingerprints, analyst accounts."""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

from fiscal import auth

ROOT = Path(__file__).resolve().parent.parent
UPLOADS = ROOT / "tests" / "files" / "uploads"
ANALYST, PASSWORD = "分析员甲", "correct-horse-battery"


def build_demo(out: Path) -> Path:
    """The shipped demo lake, built the documented way (`python -m fiscal demo --out DIR`)."""
    subprocess.run([sys.executable, "-m", "fiscal", "demo", "--out", str(out)], cwd=ROOT, check=True,
                   capture_output=True)
    return out


def copy_lake(template: Path, dest: Path) -> Path:
    shutil.copytree(template, dest)
    return dest


def fingerprint(root: Path) -> dict[str, str]:
    """sha256 of every file under the lake directory (lock file included: a failure takes no lock)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def add_analyst(secrets: Path, name: str = ANALYST, password: str = PASSWORD) -> None:
    auth.set_password(name, password, secrets)


def analyst_site(template: Path, tmp: Path, monkeypatch) -> Path:
    """A copy of the demo lake beside one analyst account and an audit folder, with the
    dashboard's settings pointing at them. Returns the lake."""
    lake = copy_lake(template, tmp / "lake")
    monkeypatch.setenv("FISCAL_DATA", str(lake))
    monkeypatch.setenv("FISCAL_SECRETS", str(tmp / "secrets.toml"))
    monkeypatch.setenv("FISCAL_AUDIT", str(tmp / "audit"))
    add_analyst(tmp / "secrets.toml")
    return lake
