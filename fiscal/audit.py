"""The audit trail: an append-only JSON Lines file of sign-ins and data changes.

Where it lives: the directory in env ``FISCAL_AUDIT`` if set, otherwise ``audit/<lake name>/``
next to the lake (``data/demo`` → ``data/audit/demo/``). Never inside the lake: the lake
must stay byte-identical when an upload fails, and rolling the lake back must not roll
back its audit trail. The directory also holds the sign-in lockout state (auth.py).

Each event is one line ``{"ts": ISO-8601 UTC, "event": ..., "user": ..., ...}``, written
with a single ``write`` on a file opened for appending, under a file lock, then fsynced.
Lines are never rewritten or deleted; a reader skips a line it cannot parse (a crash in
the middle of a write) instead of failing.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from collections import deque
from pathlib import Path

from filelock import FileLock

from . import settings

LOG_NAME = "audit.jsonl"
LOCK_SUFFIX = ".lock"
LOCK_TIMEOUT_S = 30

# Event codes and how the page names them.
EVENT_LABELS = {
    "login_success": "登录成功",
    "login_failure": "登录失败",
    "lockout": "账户锁定",
    "login_locked": "锁定期间尝试登录",
    "login_throttled": "登录过于频繁被暂停",
    "logout": "退出登录",
    "ingest": "导入数据",
    "upload_rejected": "上传被拒绝",
    "commit_failed": "导入失败",
    "rollback": "回滚",
    "rollback_failed": "回滚失败",
    "focus_entry": "调整重点关注名单",
    "ledger_entry": "记录工作台账",
    "letters_issued": "签发提示函",
    "edit_rejected": "修改被拒绝",
    "edit_conflict": "未保存（数据已被他人更新）",
}


class AuditError(Exception):
    """Misconfiguration of the audit location (message in Chinese)."""


def audit_dir_for(lake_root: str | Path) -> Path:
    """The audit directory of a lake: env FISCAL_AUDIT, else <lake parent>/audit/<lake name>."""
    lake_root = Path(lake_root).resolve()
    folder = settings.audit_dir(lake_root)
    if folder == lake_root or folder.is_relative_to(lake_root):
        raise AuditError(f"审计日志目录 {folder} 位于数据湖 {lake_root} 之内；请把 FISCAL_AUDIT 设为数据湖以外的目录")
    return folder


class AuditLog:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.path = self.folder / LOG_NAME

    @classmethod
    def for_lake(cls, lake_root: str | Path) -> AuditLog:
        return cls(audit_dir_for(lake_root))

    def lock(self) -> FileLock:
        self.folder.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.path) + LOCK_SUFFIX, timeout=LOCK_TIMEOUT_S)

    def append(self, event: str, user: str, **fields) -> dict:
        """Record one event; returns the record as written."""
        record = {"ts": _now().isoformat(timespec="seconds"), "event": event, "user": user or "", **fields}
        line = json.dumps(record, ensure_ascii=False, default=str, separators=(",", ":")) + "\n"
        with self.lock():
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
        return record

    def read(self, limit: int | None = None) -> list[dict]:
        """Records newest first (at most `limit`); unreadable lines are skipped."""
        if not self.path.exists():
            return []
        with open(self.path, encoding="utf-8", errors="replace") as handle:
            lines = deque(handle, maxlen=limit) if limit else list(handle)
        records = []
        for line in reversed(lines):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict):
                records.append(record)
        return records


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def describe(record: dict) -> str:
    """A one-line Chinese summary of an event's details (for the page)."""
    from .lake import table_label
    from .vocabulary import FOCUS_ACTIONS, LEDGER_STATUSES, WRITE_ROUTES, labels

    names = {"kind": "数据类型", "file_name": "文件", "rows": "行数", "version": "新版本", "to_version": "回滚到版本",
             "inserted": "新增", "updated": "替换", "unit": "单位", "errors": "错误数", "warnings": "提示数",
             "method": "方式", "failures": "连续失败次数", "locked_until": "锁定至", "reason": "原因",
             "size": "字节数", "sha256": "SHA-256",
             "county_code": "县区代码", "action": "调整", "measure_id": "措施编号", "revision": "修订",
             "measure": "措施", "owner": "责任人", "due": "完成时限", "status": "状态", "note": "备注",
             "effective_from": "生效日期", "until": "截止日期", "problems": "问题", "expected": "预期版本",
             "current": "当前版本", "via": "途径", "client": "来源"}
    keys = [k for k in names if k in record] + [k for k in record if k not in names and k not in ("ts", "event", "user")]
    parts = []
    for key in keys:
        value = record[key]
        if value in (None, ""):
            continue
        if key == "sha256":
            value = str(value)[:16] + "…"
        elif key == "method":
            value = {"password": "密码", "oidc": "统一身份认证"}.get(value, value)
        elif key == "kind":
            value = table_label(value)
        elif key == "via":
            value = labels(WRITE_ROUTES).get(value, value)
        elif key == "action":
            value = labels(FOCUS_ACTIONS).get(value, value)
        elif key == "status":
            value = labels(LEDGER_STATUSES).get(value, value)
        elif key == "locked_until":
            value = _beijing(value)
        parts.append(f"{names.get(key, key)}：{value}")
    return "；".join(parts)


def _beijing(text: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return str(text)
    return moment.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M（北京时间）")
