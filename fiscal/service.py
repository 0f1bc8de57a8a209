"""The one write path: every change to a lake — from the command line or the dashboard —
goes through `WriteService`.

Each call
1. checks what is asked (county known, reason given, dates in order …) against the lake
   as it is at one version — nothing is written when a check fails;
2. writes under the lake's write lock, only if the lake is still at that version: a caller
   that showed the user version v passes `expected_version=v` and gets `moved_on` if someone
   else wrote meanwhile; for a caller without one (the command line) a record is checked
   again under the lock, against exactly the version it is written on top of;
3. appends one line to the audit log (audit.jsonl, outside the lake) — whatever the
   outcome: committed, rejected (with the problems) or refused because the lake moved on —
   naming the user and where the call came from (`via`: cli / dashboard);
4. returns an `Outcome`: `committed` (with the new lake version), `rejected` (with the
   problems, in Chinese, for the user) or `moved_on` (with the version found).
A rejected or refused call leaves every byte of the lake as it was.

Record tables (fiscal/records.py) — the bureau's own append-only records — are written
with `append(kind, prepare, user=…)`; `prepare(lake)` returns the rows of the kind's own
fields as a DataFrame (the service stamps `user` and `at`) or raises `Rejected(...)`.
It runs twice — once before the lock, so that a bad request never touches the lake, and
once under it — so it must only read the lake and build rows (no other side effects).
The audit line carries the kind's `event`, the new version, the row count and `details`
(by default the single row's fields). Example — a register of issued letters::

    service = WriteService(lake, via=VIA_CLI)

    def prepare(lake):
        if number in set(lake.read("letters")["number"]):
            raise Rejected(f"文号 {number} 已经登记")
        return pd.DataFrame([{"number": number, "county_code": code, "as_of": as_of, "sha256": digest}])

    outcome = service.append("letters", prepare, user=user)
    if not outcome.committed:
        print(outcome.message)

The 重点关注 entries (`enter_focus`) and the ledger (`add_measure`, `update_measure`)
are built on `append`; uploads (`check_upload`, `commit_upload`, `ingest`) and
`rollback` keep their own audit events (ingest, upload_rejected, commit_failed,
rollback, rollback_failed).
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from filelock import Timeout

from . import ingest as uploads_ingest
from . import offload
from .audit import AuditLog
from .lake import Lake, LakeChanged, LakeError
from .records import AT_FIELD, RECORD_KINDS, USER_FIELD
from .vocabulary import FOCUS_ACTIONS as FOCUS_ACTION_TERMS
from .vocabulary import LEDGER_STATUSES, labels

COMMITTED, REJECTED, MOVED_ON = "committed", "rejected", "moved_on"
VIA_CLI, VIA_DASHBOARD = "cli", "dashboard"
# An upload checked without the lock (reading a file takes time) is checked again this often
# when another writer commits in between.
ATTEMPTS = 3

FOCUS_ACTIONS = labels(FOCUS_ACTION_TERMS)  # add → 列入, remove → 移出, withdraw → 撤销调整
LEDGER_STATUS_CODES = tuple(t.code for t in LEDGER_STATUSES if t.code != "overdue")  # overdue is derived
MAX_TEXT = 500  # reasons, measures, notes: a paragraph, not a document

_commit_listeners: list[Callable[[Path], None]] = []


def on_commit(listener: Callable[[Path], None]) -> None:
    """Call `listener(lake_root)` after every commit this process makes through the service
    (the dashboard server warms the new version at once instead of at its next look at the lake).
    A listener must be quick and must not raise."""
    _commit_listeners.append(listener)


@dataclass(frozen=True)
class Outcome:
    status: str  # committed | rejected | moved_on
    version: int | None = None  # the new lake version (committed)
    problems: tuple[str, ...] = ()  # why nothing was written (rejected), in Chinese
    current: int | None = None  # the lake version found (moved_on)
    rows: pd.DataFrame | None = None  # the record rows written (committed appends)
    detail: object = None  # e.g. the ingest.Ingested of an upload
    messages: tuple[str, ...] = field(default=())

    @property
    def committed(self) -> bool:
        return self.status == COMMITTED

    @property
    def message(self) -> str:
        """One Chinese sentence for the user."""
        if self.status == COMMITTED:
            return f"已保存，新版本 {self.version}"
        if self.status == MOVED_ON:
            return f"数据已被他人更新到版本 {self.current}，本次没有保存；请查看最新数据后再提交"
        return "未保存：" + "；".join(self.problems)


class Rejected(Exception):
    """Raised by a `prepare` function: the request breaks a rule; nothing is written."""

    def __init__(self, *problems: str):
        super().__init__("；".join(problems))
        self.problems = tuple(problems)


def _now() -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC").floor("us")


def _plain(value):
    """A value as the audit log stores it (ISO dates, no NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.isoformat()
    return value.item() if hasattr(value, "item") else value


class WriteService:
    def __init__(self, lake: Lake | str | Path, log: AuditLog | None = None, *, via: str = VIA_DASHBOARD,
                 clock: Callable[[], pd.Timestamp] = _now):
        self.lake = lake if isinstance(lake, Lake) else Lake(lake)
        self.log = log or AuditLog.for_lake(self.lake.root)
        self.via = via
        self.clock = clock

    def _audit(self, event: str, user: str, **fields) -> None:
        self.log.append(event, user, via=self.via, **{k: _plain(v) for k, v in fields.items()})

    # ---- record tables ---------------------------------------------------------------------
    def append(self, kind: str, prepare: Callable[[Lake], pd.DataFrame], *, user: str,
               expected_version: int | None = None, details: dict | None = None,
               request: dict | None = None) -> Outcome:
        """Append the rows `prepare(lake)` returns to record table `kind` as one new lake version.

        `prepare` runs once before the lock (to refuse a bad request without touching the
        lake) and once under it, where it sees the lake at the version the rows are written
        on top of; it raises `Rejected` when the request breaks a rule. `details` go to the
        audit line (default: the fields of a single row); `request` (what was asked) goes to
        the audit line of a rejected call.
        """
        spec = RECORD_KINDS[kind]
        user = (user or "").strip()

        def checked_rows() -> pd.DataFrame:
            if not user:
                raise Rejected("操作人不能为空")
            return prepare(self.lake).reset_index(drop=True)

        try:
            checked_rows()  # a request that breaks a rule never touches the lake, not even its lock file
            with self.lake.writing():
                version = self.lake.lake_version()
                if expected_version is not None and version != expected_version:
                    return self._moved_on(kind, user, expected_version, version)
                rows = checked_rows().assign(**{USER_FIELD: user, AT_FIELD: self.clock()})  # again, under the lock
                new_version = self.lake.append(kind, rows, user=user, expected_version=version)
        except Rejected as rejected:
            return self._rejected(kind, user, rejected.problems, request or details)
        except (LakeError, Timeout, OSError) as exc:
            return self._rejected(kind, user, (f"写入失败，数据未改变：{exc}",), request or details)
        if details is None:
            details = {k: rows.at[0, k] for k in spec.column_names if k not in (USER_FIELD, AT_FIELD)} if len(rows) == 1 else {}
        self._audit(spec.event, user, kind=kind, version=new_version, rows=len(rows), **details)
        return self._committed(Outcome(COMMITTED, version=new_version, rows=rows))

    def _committed(self, outcome: Outcome) -> Outcome:
        for listener in _commit_listeners:
            listener(self.lake.root)
        return outcome

    def _rejected(self, kind: str, user: str, problems: tuple[str, ...], details: dict | None) -> Outcome:
        self._audit("edit_rejected", user, kind=kind, problems="；".join(problems), **(details or {}))
        return Outcome(REJECTED, problems=problems)

    def _moved_on(self, kind: str, user: str, expected: int | None, current: int) -> Outcome:
        self._audit("edit_conflict", user, kind=kind, expected=expected, current=current)
        return Outcome(MOVED_ON, current=current)

    # ---- 重点关注 list (SPEC §9.3) ------------------------------------------------------------
    def enter_focus(self, county_code: str, action: str, reason: str, *, user: str,
                    effective_from: dt.date | None = None, until: dt.date | None = None,
                    expected_version: int | None = None) -> Outcome:
        """Record a manual entry: `add` puts the county on the list, `remove` takes it off (even
        at tier 3), `withdraw` lets the computed rule decide again, from `effective_from`
        (default today) until `until` (None: open-ended)."""
        code = (county_code or "").strip()
        reason = (reason or "").strip()
        start = effective_from or dt.date.today()

        def prepare(lake: Lake) -> pd.DataFrame:
            problems = []
            if action not in FOCUS_ACTIONS:
                problems.append("调整方式只能是 " + "、".join(f"{code}（{label}）" for code, label in FOCUS_ACTIONS.items())
                                + f"，收到：{action}")
            problems += _county_problems(lake, code)
            problems += _text_problems("理由", reason, "每次调整重点关注名单都要写明理由")
            if until is not None and until < start:
                problems.append(f"截止日期 {until:%Y-%m-%d} 早于生效日期 {start:%Y-%m-%d}")
            if problems:
                raise Rejected(*problems)
            return pd.DataFrame([{"county_code": code, "action": action, "reason": reason,
                                  "effective_from": start, "until": until}])

        return self.append("focus", prepare, user=user, expected_version=expected_version,
                           request={"county_code": code, "action": action, "reason": reason,
                                    "effective_from": start, "until": until})

    # ---- 工作台账 (SPEC §9.4) -----------------------------------------------------------------
    def add_measure(self, county_code: str, measure: str, owner: str, due: dt.date | None, *, user: str,
                    status: str = "not_started", note: str = "", expected_version: int | None = None) -> Outcome:
        """Record a new measure for a county (revision 1, the next free measure_id)."""
        code = (county_code or "").strip()
        values = {"measure": (measure or "").strip(), "owner": (owner or "").strip(), "due": due,
                  "status": status, "note": (note or "").strip()}

        def prepare(lake: Lake) -> pd.DataFrame:
            problems = _county_problems(lake, code) + _measure_problems(values)
            if problems:
                raise Rejected(*problems)
            ledger = lake.read("ledger")
            next_id = int(ledger["measure_id"].max()) + 1 if len(ledger) else 1
            return pd.DataFrame([{"measure_id": next_id, "revision": 1, "county_code": code, **values}])

        return self.append("ledger", prepare, user=user, expected_version=expected_version,
                           request={"county_code": code, **values})

    def update_measure(self, measure_id: int, *, user: str, expected_version: int | None = None,
                       **changes) -> Outcome:
        """Record a new revision of a measure: the given fields (measure, owner, due, status, note)
        change, the others carry over from its current revision."""
        unknown = set(changes) - {"measure", "owner", "due", "status", "note"}
        if unknown:
            raise TypeError(f"update_measure: unknown fields {sorted(unknown)}")
        changes = {k: (v.strip() if isinstance(v, str) else v) for k, v in changes.items() if v is not None}

        def prepare(lake: Lake) -> pd.DataFrame:
            ledger = lake.read("ledger")
            revisions = ledger[ledger["measure_id"] == measure_id]
            if revisions.empty:
                raise Rejected(f"没有编号为 {measure_id} 的措施")
            current = revisions.sort_values("revision").iloc[-1]
            values = {k: current[k] for k in ("measure", "owner", "due", "status", "note")}
            values["due"] = pd.Timestamp(values["due"]).date() if not pd.isna(values["due"]) else None
            values["note"] = "" if pd.isna(values["note"]) else values["note"]
            wanted = {**values, **changes}
            problems = _measure_problems(wanted)
            if not problems and wanted == values:
                problems.append("与当前记录相同，没有需要保存的修改")
            if problems:
                raise Rejected(*problems)
            return pd.DataFrame([{"measure_id": measure_id, "revision": int(current["revision"]) + 1,
                                  "county_code": current["county_code"], **wanted}])

        return self.append("ledger", prepare, user=user, expected_version=expected_version,
                           request={"measure_id": measure_id, **changes})

    # ---- uploads ------------------------------------------------------------------------------
    def check_upload(self, path: str | Path, *, user: str, kind: str | None = None, unit: str | None = None,
                     source_name: str | None = None, max_bytes: int | None = None,
                     size: int | None = None, isolated: bool = False,
                     on_stage: Callable[[str], None] | None = None) -> uploads_ingest.Checked:
        """Validate a file and preview its change (writes nothing); a file with errors is audited.

        `isolated`: in a child process with time and memory limits (fiscal.offload), as the
        dashboard does so that a heavy file does not slow the other viewers down."""
        check = offload.check_isolated if isolated else uploads_ingest.check
        checked = check(self.lake, path, kind=kind, unit=unit, source_name=source_name, max_bytes=max_bytes,
                        on_stage=on_stage)
        if checked.errors:
            self.audit_rejected_upload(user, file_name=source_name or Path(path).name, sha256=checked.sha256,
                                       size=size, kind=kind or (checked.extract.kind if checked.extract else ""),
                                       errors=len(checked.errors))
        return checked

    def audit_rejected_upload(self, user: str, **fields) -> None:
        """An upload refused before it could be checked (too large, unreadable) or with errors."""
        self._audit("upload_rejected", user, **fields)

    def commit_upload(self, checked: uploads_ingest.Checked, *, user: str) -> Outcome:
        """Commit what `check_upload` accepted, if the lake is still at the version it was checked
        against; otherwise `moved_on`, with the preview recomputed in `detail`."""
        extract = checked.extract
        if not checked.ok:
            return Outcome(REJECTED, problems=tuple(p.message for p in checked.errors), detail=checked)
        try:
            result = uploads_ingest.commit(self.lake, checked, user=user)
        except (LakeError, Timeout, OSError) as exc:
            self._audit("commit_failed", user, kind=extract.kind, file_name=extract.source_name,
                        sha256=checked.sha256, reason=str(exc)[:300])
            return Outcome(REJECTED, problems=(f"导入失败，数据未改变：{exc}",), detail=checked)
        if result.version is None:
            self._audit("edit_conflict", user, kind=extract.kind, file_name=extract.source_name,
                        expected=checked.lake_version, current=result.lake_version)
            return Outcome(MOVED_ON, current=result.lake_version, detail=result, messages=tuple(result.messages),
                           problems=tuple(p.message for p in result.errors))
        newest = next(c for c in self.lake.history() if c.lake_version == result.version)
        self._audit("ingest", user, kind=extract.kind, file_name=extract.source_name, sha256=checked.sha256,
                    rows=len(extract.frame), version=result.version, inserted=newest.inserted,
                    updated=newest.updated, unit=extract.unit)
        return self._committed(Outcome(COMMITTED, version=result.version, detail=result))

    def ingest(self, path: str | Path, *, user: str, kind: str | None = None, unit: str | None = None,
               source_name: str | None = None) -> Outcome:
        """Check and commit in one go (the command line): checked again if the lake moves on meanwhile."""
        for _ in range(ATTEMPTS):
            checked = self.check_upload(path, user=user, kind=kind, unit=unit, source_name=source_name)
            if not checked.ok:
                return Outcome(REJECTED, problems=tuple(p.message for p in checked.errors), detail=checked)
            outcome = self.commit_upload(checked, user=user)
            if outcome.status != MOVED_ON:
                return outcome
        return outcome

    # ---- rollback -----------------------------------------------------------------------------
    def rollback(self, to_version: int, *, user: str, expected_version: int | None = None) -> Outcome:
        """Restore the extracts as they were at `to_version`, as a new version; records stay."""
        try:
            version = self.lake.rollback(to_version, user=user, expected_version=expected_version)
        except LakeChanged as changed:
            self._audit("rollback_failed", user, to_version=to_version, reason=str(changed))
            return Outcome(MOVED_ON, current=changed.current)
        except (LakeError, Timeout, OSError) as exc:
            self._audit("rollback_failed", user, to_version=to_version, reason=str(exc)[:300])
            return Outcome(REJECTED, problems=(str(exc),))
        self._audit("rollback", user, to_version=to_version, version=version)
        return self._committed(Outcome(COMMITTED, version=version))


# ---- checks shared by the record writers ---------------------------------------------------------
def _county_problems(lake: Lake, code: str) -> list[str]:
    if not code:
        return ["县区代码不能为空"]
    if code not in lake.county_codes():
        return [f"县区代码 {code} 不在县区名录中"]
    return []


def _text_problems(label: str, text: str, hint: str = "") -> list[str]:
    if not text:
        return [f"{label}不能为空" + (f"：{hint}" if hint else "")]
    if len(text) > MAX_TEXT:
        return [f"{label}过长（{len(text)} 字），请精简到 {MAX_TEXT} 字以内"]
    return []


def _measure_problems(values: dict) -> list[str]:
    problems = _text_problems("措施", values["measure"]) + _text_problems("责任人", values["owner"])
    if values["due"] is None:
        problems.append("完成时限不能为空")
    if values["status"] not in LEDGER_STATUS_CODES:
        problems.append(f"状态只能是 {' / '.join(LEDGER_STATUS_CODES)}，收到：{values['status']}")
    if len(values.get("note") or "") > MAX_TEXT:
        problems += _text_problems("备注", values["note"])
    return problems

