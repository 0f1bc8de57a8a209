"""Issuing a month's prompt letters: numbers, the register in the lake, no double batches.

Every issued letter is one row of the `letters` record table (records.py), written through
the write service (locked, version-checked, audited), with its number (文号), county, as-of
date, who and when, the file's SHA-256 and the file itself — so a letter can be downloaded
again byte for byte. Numbers run per year of the issue date (成文日期): 1, 2, 3 … with no
gaps or repeats, assigned under the lake's write lock.

One batch per month (the month of the as-of date). Asking again for a month that already
has a batch:
- same as-of date and the letters would come out byte-identical (same figures, same
  policy) → nothing is written; the registered letters are returned as they were issued
  (same numbers, same files). Scripts can re-run safely.
- otherwise (another as-of date, or the data changed) → refused with what was issued
  when, unless the caller confirms a second batch (`again=True`, CLI `--again`), which
  gets new numbers.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from dataclasses import dataclass

import pandas as pd

from .indicators import indicators, month_ends_before
from .lake import Lake
from .letters import Letter, compose, due, letter_number, letter_rows, to_docx, trend
from .policy import Policy
from .queries import run
from .service import VIA_CLI, Rejected, WriteService

ISSUED, UNCHANGED, NONE_DUE, REFUSED = "issued", "unchanged", "none_due", "refused"
REGISTER = "letters"


@dataclass(frozen=True)
class IssuedLetter:
    county_code: str
    county_name: str
    number: str
    issued_on: dt.date
    as_of: dt.date
    file_name: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class IssueResult:
    status: str  # issued · unchanged · none_due · refused (or the service's moved_on)
    message: str  # one Chinese sentence for the user
    letters: tuple[IssuedLetter, ...] = ()
    rows: pd.DataFrame | None = None  # letter_rows of the letters (figures for the JSON output)
    version: int | None = None

    @property
    def ok(self) -> bool:
        return self.status in (ISSUED, UNCHANGED, NONE_DUE)


def batch_of(as_of: dt.date) -> str:
    return f"{as_of:%Y-%m}"


def batch_label(batch: str) -> str:
    year, month = batch.split("-")
    return f"{year}年{int(month)}月"


@dataclass(frozen=True)
class Drafts:
    """The letters due at A, before numbering: the county rows and each county's month-end trend."""

    as_of: dt.date
    rows: pd.DataFrame
    trends: pd.DataFrame

    def compose(self, policy: Policy, numbers: dict[str, str], issued_on: dict[str, dt.date] | dt.date) -> list[Letter]:
        trends = dict(tuple(self.trends.groupby("county_code")))
        empty = self.trends.iloc[:0]
        letters = []
        for row in self.rows.itertuples():
            day = issued_on[row.county_code] if isinstance(issued_on, dict) else issued_on
            letters.append(compose(row, trends.get(row.county_code, empty), policy,
                                   number=numbers[row.county_code], issued_on=day))
        return letters


def drafts(snapshot, as_of: dt.date, policy: Policy, panel: pd.DataFrame | None = None,
           at_date: pd.DataFrame | None = None) -> Drafts:
    """The counties due a letter at A with what their letters say (panel, at_date: see letter_rows)."""
    if panel is None:
        panel = indicators(snapshot, month_ends_before(as_of), policy)
    rows = due(letter_rows(snapshot, as_of, policy, panel, at_date))
    return Drafts(as_of, rows, trend(panel, as_of))


def month_batch(register: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """The register's letters of A's month, oldest first."""
    rows = register[register["batch"] == batch_of(as_of)]
    return rows.sort_values(["at", "sequence"], ignore_index=True)


def _stored(rows: pd.DataFrame) -> tuple[IssuedLetter, ...]:
    return tuple(
        IssuedLetter(r.county_code, r.county_name, r.number, pd.Timestamp(r.issued_on).date(),
                     pd.Timestamp(r.as_of).date(), r.file_name, bytes(r.content))
        for r in rows.sort_values("county_code").itertuples())


def _unchanged(batch: pd.DataFrame, plan: Drafts, policy: Policy) -> tuple[IssuedLetter, ...] | None:
    """The batch's letters if re-issuing at the same as-of date would give byte-identical files."""
    same_date = batch[pd.to_datetime(batch["as_of"]).dt.date == plan.as_of]
    latest = same_date.drop_duplicates("county_code", keep="last")
    if set(latest["county_code"]) != set(plan.rows["county_code"]):
        return None
    by_code = latest.set_index("county_code")
    numbers = by_code["number"].to_dict()
    days = {c: pd.Timestamp(d).date() for c, d in by_code["issued_on"].items()}
    for letter in plan.compose(policy, numbers, days):
        if hashlib.sha256(to_docx(letter)).hexdigest() != by_code.at[letter.county_code, "sha256"]:
            return None
    return _stored(latest)


def _refusal(batch: pd.DataFrame, as_of: dt.date) -> str:
    days = sorted({pd.Timestamp(d).date() for d in batch["as_of"]})
    numbers = batch["number"].tolist()
    return (f"{batch_label(batch_of(as_of))}的提示函已签发 {len(batch)} 份（截至日期 "
            f"{'、'.join(f'{d:%Y-%m-%d}' for d in days)}，文号 {numbers[0]} 至 {numbers[-1]}）"
            + ("，本次生成的内容与已签发的不同（数据或政策参数已有变化）" if as_of in days else "")
            + "。如确需再次发函，请确认“再次签发”（命令行加 --again），将使用新的文号")


def _new_rows(register: pd.DataFrame, plan: Drafts, policy: Policy, issued_on: dt.date) -> tuple[pd.DataFrame, list[IssuedLetter]]:
    """Number the letters after the year's last number and render them."""
    year_rows = register[register["year"] == issued_on.year]
    first = int(year_rows["sequence"].max()) + 1 if len(year_rows) else 1
    codes = plan.rows["county_code"].tolist()
    numbers = {c: letter_number(policy.number_prefix, issued_on.year, first + i) for i, c in enumerate(codes)}
    issued = [IssuedLetter(l.county_code, l.county_name, l.number, issued_on, plan.as_of, l.file_name, to_docx(l))
              for l in plan.compose(policy, numbers, issued_on)]
    rows = pd.DataFrame([{
        "number": l.number, "year": issued_on.year, "sequence": first + i, "county_code": l.county_code,
        "county_name": l.county_name, "as_of": l.as_of, "batch": batch_of(l.as_of), "issued_on": l.issued_on,
        "file_name": l.file_name, "sha256": l.sha256, "content": l.content,
    } for i, l in enumerate(issued)])
    return rows, issued


def issue(lake: Lake, as_of: dt.date, policy: Policy, *, user: str, via: str = VIA_CLI,
          issued_on: dt.date | None = None, again: bool = False, plan: Drafts | None = None) -> IssueResult:
    """Issue (number, register, render) the letters due at A; see the module docstring for repeats."""
    issued_on = issued_on or dt.date.today()
    plan = plan or drafts(lake.snapshot(), as_of, policy)
    if plan.rows.empty:
        return IssueResult(NONE_DUE, f"截至 {as_of:%Y-%m-%d} 没有库款保障水平低于提示线的县区，无需发函", rows=plan.rows)
    batch = month_batch(lake.read(REGISTER), as_of)
    if not batch.empty and not again:
        unchanged = _unchanged(batch, plan, policy)
        if unchanged is not None:
            return IssueResult(UNCHANGED, f"{batch_label(batch_of(as_of))}的提示函已按截至 {as_of:%Y-%m-%d} 的数据签发，"
                                          f"数据未变，按原文号重新输出 {len(unchanged)} 份", unchanged, plan.rows)

    made: dict[str, list[IssuedLetter]] = {}

    def prepare(current: Lake) -> pd.DataFrame:
        register = current.read(REGISTER)
        current_batch = month_batch(register, as_of)
        if not current_batch.empty and not again:
            raise Rejected(_refusal(current_batch, as_of))
        rows, made["letters"] = _new_rows(register, plan, policy, issued_on)
        return rows

    outcome = WriteService(lake, via=via).append(
        REGISTER, prepare, user=user,
        details={"batch": batch_of(as_of), "as_of": as_of, "letters": len(plan.rows), "again": again})
    if not outcome.committed:
        return IssueResult(outcome.status if outcome.status != "rejected" else REFUSED, outcome.message, rows=plan.rows)
    letters = tuple(made["letters"])
    return IssueResult(ISSUED, f"已签发提示函 {len(letters)} 份（文号 {letters[0].number} 至 {letters[-1].number}），"
                               f"登记于数据湖版本 {outcome.version}", letters, plan.rows, outcome.version)


# ---- reading the register back ------------------------------------------------------------------
def registered(snapshot) -> pd.DataFrame:
    """Every issued letter of the snapshot (without the files), oldest first."""
    frame = run("letters_register", snapshot)
    for column in ("as_of", "issued_on"):
        frame[column] = pd.to_datetime(frame[column])
    return frame


def stored_letters(snapshot, numbers: list[str]) -> tuple[IssuedLetter, ...]:
    """The registered letters with these numbers, exactly as issued (their files checked against the register)."""
    rows = run("letter_files", snapshot, numbers=list(numbers))
    letters = _stored(rows)
    expected = dict(zip(rows["number"], rows["sha256"]))
    damaged = [l.number for l in letters if l.sha256 != expected[l.number]]
    if damaged:
        raise ValueError(f"登记的提示函文件与登记的 SHA-256 不符：{'、'.join(damaged)}")
    return letters


def bundle(letters: tuple[IssuedLetter, ...] | list[IssuedLetter]) -> bytes:
    """All letters as one .zip (file names as issued, fixed timestamps)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for letter in letters:
            archive.writestr(zipfile.ZipInfo(letter.file_name, date_time=(1980, 1, 1, 0, 0, 0)), letter.content,
                             compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def preview(plan: Drafts, policy: Policy, batch: pd.DataFrame, county_code: str, issued_on: dt.date) -> Letter:
    """One due county's letter for reading on screen: as issued if this month's batch holds it,
    else dated `issued_on` with a blank number (assigned when issued)."""
    mine = batch[batch["county_code"] == county_code].tail(1)
    if len(mine):
        number, day = mine["number"].iloc[0], pd.Timestamp(mine["issued_on"].iloc[0]).date()
    else:
        number = letter_number(policy.number_prefix, issued_on.year, 0).replace("0号", "__号")
        day = issued_on
    one = Drafts(plan.as_of, plan.rows[plan.rows["county_code"] == county_code],
                 plan.trends[plan.trends["county_code"] == county_code])
    return one.compose(policy, {county_code: number}, day)[0]
