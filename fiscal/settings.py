"""Every setting the project reads from the environment: name, default and meaning, in one registry.

Nothing else reads `os.environ`; code asks the typed accessors below. The README's
environment table is checked against `SETTINGS` by tests/test_readme.py, so a new setting
is documented or the suite fails.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEMO_LAKE = PROJECT_ROOT / "data" / "demo"
DEFAULT_POLICY_PATH = PROJECT_ROOT / "data" / "policy.toml"
DEFAULT_SECRETS_PATH = PROJECT_ROOT / ".streamlit" / "secrets.toml"
MIB = 1024 * 1024
DISPLAY_TZ = dt.timezone(dt.timedelta(hours=8), "北京时间")  # every time shown or exported
# The ceiling of every upload; .streamlit/config.toml server.maxUploadSize (in MB) is twice it, so a file
# over the limit reaches the server to be refused in Chinese and logged (fiscal.uploads.widget_limit_mb).
MAX_UPLOAD_BYTES = 50 * MIB


@dataclass(frozen=True)
class Setting:
    name: str  # the environment variable
    default: str  # as the README states it
    meaning: str


SETTINGS = (
    Setting("FISCAL_DATA", "`data/demo`", "看板读取的数据湖目录（命令行用 `--data`）"),
    Setting("FISCAL_POLICY", "`data/policy.toml`", "风险政策文件（预警线、提示线等）"),
    Setting("FISCAL_SECRETS", "`.streamlit/secrets.toml`", "分析员账号文件（加盐哈希）"),
    Setting("FISCAL_AUDIT", "`<数据湖上级目录>/audit/<数据湖名>/`", "操作日志与登录锁定状态的目录，必须在数据湖之外"),
    Setting("FISCAL_CACHE", "`<数据湖上级目录>/cache/<数据湖名>/`",
            "按数据版本保存的汇总（每县每月库款流入流出），供下次启动直接读取；可随时删除，必须在数据湖之外"),
    Setting("FISCAL_MAX_UPLOAD_BYTES", "52428800（50 MB）", "上传文件大小上限（字节），只能调低"),
    Setting("FISCAL_WARMUP", "`1`", "看板启动时及数据湖出现新版本后，预先计算默认视图的各页数据；`0` 关闭"),
)
_NAMES = {s.name for s in SETTINGS}


def raw(name: str) -> str | None:
    """The value of a registered setting, stripped; None when it is unset or blank."""
    if name not in _NAMES:
        raise KeyError(f"{name} is not a registered setting (fiscal/settings.py SETTINGS)")
    value = os.environ.get(name, "").strip()
    return value or None


def _path(name: str) -> Path | None:
    value = raw(name)
    return Path(value).expanduser() if value else None


def data_dir() -> Path:
    return _path("FISCAL_DATA") or DEMO_LAKE


def policy_path() -> Path:
    return _path("FISCAL_POLICY") or DEFAULT_POLICY_PATH


def secrets_path() -> Path:
    return _path("FISCAL_SECRETS") or DEFAULT_SECRETS_PATH


def audit_dir(lake_root: Path) -> Path:
    """Where a lake's audit log and sign-in state live: FISCAL_AUDIT, else beside the lake."""
    return _beside_lake(lake_root, "FISCAL_AUDIT", "audit")


def cache_dir(lake_root: Path) -> Path:
    """Where a lake's derived summaries are kept: FISCAL_CACHE, else beside the lake."""
    return _beside_lake(lake_root, "FISCAL_CACHE", "cache")


def _beside_lake(lake_root: Path, name: str, folder: str) -> Path:
    """The setting `name`, else <lake parent>/<folder>/<lake name> (resolved; whether it may lie
    inside the lake is for its user to say)."""
    lake_root = Path(lake_root).resolve()
    configured = _path(name)
    return configured.resolve() if configured else lake_root.parent / folder / lake_root.name


def max_upload_bytes() -> int:
    """The upload limit: FISCAL_MAX_UPLOAD_BYTES (for tests and small deployments), else 50 MiB.

    A value can only lower the limit (MAX_UPLOAD_BYTES is the ceiling); one that is not
    a positive whole number is ignored."""
    value = raw("FISCAL_MAX_UPLOAD_BYTES") or ""
    if value.isdigit() and int(value) > 0:
        return min(int(value), MAX_UPLOAD_BYTES)
    return MAX_UPLOAD_BYTES


def warmup() -> bool:
    """Whether the server warms the default view at start and after each new lake version (app/warmup.py)."""
    return raw("FISCAL_WARMUP") != "0"
