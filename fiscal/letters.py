"""SPEC §9.2 提示函: which counties get a prompt letter at A, and the letter itself.

Selection and `months_below` are one SQL pass (letters.sql) over the indicator rows of A and
of the month-ends before A's month; the dispatch suggestion comes from dispatch.sql. A
letter's wording is built once (`compose`) and rendered both as a Word document in 公文
layout (`to_docx`) and as plain text for the dashboard's preview (`to_text`).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pandas as pd

from .dispatch import dispatch
from .documents import OfficialDocument, chinese_date
from .indicators import indicators, month_ends_before
from .lake import Snapshot
from .policy import Policy
from .queries import run

# SPEC §9.6: the keys of `letters --format json`, in order.
LETTER_KEYS = (
    "county_code", "county_name", "city_name", "as_of", "coverage_months", "coverage_band",
    "months_below", "persistent", "file",
)
HISTORY_MONTHS = 12  # SPEC §9.2: months_below counts at most 12 month-ends
TREND_MONTHS = 6  # month-ends shown in a letter's trend table


def letter_rows(snapshot: Snapshot, as_of: dt.date, policy: Policy, panel: pd.DataFrame | None = None,
                at_date: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every county at A with months_below, persistent, letter_due and the dispatch figures, by code.

    `panel`: indicator rows covering the 12 month-ends before A's month; `at_date`: indicator
    rows at A (by default those of `metrics`, so the figures are exactly the ones it prints).
    Either is computed when not given; the dashboard passes its cached panel for both.
    """
    month_ends = month_ends_before(as_of, HISTORY_MONTHS)
    if panel is None:
        panel = indicators(snapshot, month_ends, policy)
    if at_date is None:
        at_date = indicators(snapshot, [as_of], policy)
    suggestions = dispatch(snapshot, as_of, policy, indicator_rows=at_date)
    rows = pd.concat([panel[panel["as_of"].isin(pd.to_datetime(month_ends))].drop(columns="reasons"),
                      at_date[at_date["as_of"] == pd.Timestamp(as_of)].drop(columns="reasons")], ignore_index=True)
    return run("letters", snapshot, frames={"indicator_rows": rows, "dispatch_rows": suggestions},
               as_of=as_of, month_ends=month_ends, coverage_prompt=policy.coverage_prompt,
               persistent_months=policy.persistent_months)


def due(rows: pd.DataFrame) -> pd.DataFrame:
    """The counties that get a letter (coverage below the prompt line), by code."""
    return rows[rows["letter_due"]].reset_index(drop=True)


def trend(panel: pd.DataFrame, as_of: dt.date, months: int = TREND_MONTHS) -> pd.DataFrame:
    """Each county's balance, outflow, coverage and band at the last `months` month-ends, oldest first."""
    ends = pd.to_datetime(month_ends_before(as_of, months))
    rows = panel[panel["as_of"].isin(ends)]
    return rows[["county_code", "as_of", "treasury_balance", "avg_monthly_outflow", "coverage_months",
                 "coverage_band"]].sort_values(["county_code", "as_of"], ignore_index=True)


# ---- the letter ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Block:
    kind: str  # heading · paragraph · item (lead + text) · table
    text: str = ""
    lead: str = ""
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Letter:
    county_code: str
    county_name: str
    number: str
    issued_on: dt.date
    organ: str
    title_lines: tuple[str, ...]
    addressee: str
    blocks: tuple[Block, ...]
    closing: str
    note: str

    @property
    def title(self) -> str:
        return "".join(self.title_lines)

    @property
    def file_name(self) -> str:
        return letter_file_name(self.county_code, self.county_name)


def letter_number(prefix: str, year: int, sequence: int) -> str:
    """文号: {prefix}〔YYYY〕N号."""
    return f"{prefix}〔{year}〕{sequence}号"


_UNSAFE = re.compile(r"[^\w\-]+")


def letter_file_name(county_code: str, county_name: str) -> str:
    """A file name from a county's code and name: letters, digits and CJK only, never a path."""
    name = _UNSAFE.sub("", str(county_name))[:30]
    return f"{_UNSAFE.sub('', str(county_code))}_{name}_库款保障提示函.docx"


def _amount(value) -> str:
    return "—" if _missing(value) else f"{value:,.2f}"


def _months(value) -> str:
    return "—" if _missing(value) else f"{value:.2f}"


def _or_zero(value) -> float:
    """A balance as SPEC §9.1 counts it: missing is 0."""
    return 0.0 if _missing(value) else value


def _missing(value) -> bool:
    return value is None or value is pd.NaT or bool(pd.isna(value))


def _day(value) -> str:
    return chinese_date(pd.Timestamp(value).date())


def compose(row, trend_rows: pd.DataFrame, policy: Policy, *, number: str, issued_on: dt.date) -> Letter:
    """The letter to one county (a row of `letter_rows`) with its month-end trend."""
    county = row.county_name
    as_of = pd.Timestamp(row.as_of).date()
    below_warning = row.coverage_months < policy.coverage_warning
    k = int(row.months_below)
    persistent = bool(row.persistent)
    title_lines = (f"关于{row.county_name}", f"库款保障水平{'持续' if persistent else ''}偏低的提示函")

    lines = (f"低于预警线（{policy.coverage_warning:.2f}个月）" if below_warning
             else f"低于提示线（{policy.coverage_prompt:.2f}个月）")
    opening = (f"经监测，截至{chinese_date(as_of)}，{county}国库库款余额{_amount(row.treasury_balance)}万元，"
               f"前{int(row.history_months)}个月月均库款支出{_amount(row.avg_monthly_outflow)}万元，"
               f"库款保障水平为{_months(row.coverage_months)}个月，{lines}，处于“{row.coverage_band}”区间。")
    if persistent:
        opening += f"截至上月末，{county}已连续{k}个月月末库款保障水平低于提示线，库款持续紧张。"
    elif k >= 1:
        opening += f"上月末{county}库款保障水平已低于提示线。"
    opening += "现将有关情况函告如下。"

    blocks = [Block("paragraph", opening), Block("heading", "一、近期月末库款保障情况")]
    table_rows = tuple(
        (f"{t.as_of.year}年{t.as_of.month}月末", _amount(t.treasury_balance), _amount(t.avg_monthly_outflow),
         _months(t.coverage_months), t.coverage_band if isinstance(t.coverage_band, str) else "无数据")
        for t in trend_rows.itertuples())
    table_rows += ((chinese_date(as_of), _amount(row.treasury_balance), _amount(row.avg_monthly_outflow),
                    _months(row.coverage_months), str(row.coverage_band)),)
    blocks.append(Block("table", header=("时点", "库款余额（万元）", "月均库款支出（万元）", "库款保障水平（月）", "区间"),
                        rows=table_rows))

    blocks.append(Block("heading", "二、近期工资发放安排"))
    if _missing(row.next_payday):
        payroll = f"工资发放计划中暂无{chinese_date(as_of)}以后的发薪日，请尽快报送工资发放计划。"
    else:
        payroll = (f"{county}下次发薪日为{_day(row.next_payday)}，应发工资{_amount(row.next_payday_amount)}万元，"
                   f"须于{_day(row.next_payday_cutoff)}（发薪日前{policy.lead_days}天）前足额存入工资专户；"
                   f"截至{chinese_date(as_of)}，工资专户余额{_amount(_or_zero(row.account_balance))}万元。")
    if int(row.horizon_paydays) > 0:
        payroll += (f"未来{policy.dispatch_horizon_days}天内共有{int(row.horizon_paydays)}次发薪，"
                    f"应发工资合计{_amount(row.horizon_payroll)}万元。")
    blocks.append(Block("paragraph", payroll))

    blocks.append(Block("heading", "三、资金调度测算"))
    required = row.cash_floor + row.payroll_topup
    calc = (f"按库款不低于预警线（{policy.coverage_warning:.2f}个月支出，即{_amount(row.cash_floor)}万元）、"
            f"并补足未来{policy.dispatch_horizon_days}天应发工资测算，{county}需保有库款{_amount(required)}万元"
            f"（其中库款底线{_amount(row.cash_floor)}万元，工资专户待补足{_amount(row.payroll_topup)}万元），"
            f"现有库款{_amount(_or_zero(row.treasury_balance))}万元，")
    if row.dispatch_need > 0:
        calc += f"资金缺口{_amount(row.dispatch_need)}万元。我局将据此研究国库资金应急调度。"
    else:
        calc += "可以覆盖，暂不需要调度资金，但须严格控制支出节奏。"
    if not _missing(row.payroll_gap_3m) and row.payroll_gap_3m > 0:
        calc += f"按近期收支情况测算，未来三个月工资保障尚有资金缺口{_amount(row.payroll_gap_3m)}万元。"
    blocks.append(Block("paragraph", calc))

    blocks.append(Block("heading", "四、工作要求"))
    blocks += [
        Block("item", "坚持“三保”支出在财政支出中的优先顺序，优先保障基本民生、工资发放和机构运转，"
                      "从严控制一般性支出，暂缓非急需、非刚性支出。", lead="（一）合理安排支出顺序，优先保障“三保”。"),
        Block("item", f"在发薪日前{policy.lead_days}天将工资资金足额存入工资专户，专款专用，不得挤占挪用。",
              lead="（二）确保工资按时足额发放。"),
        Block("item", "加快收入组织入库，盘活存量资金，规范暂付款管理，尽快将库款保障水平恢复到提示线以上。",
              lead="（三）加强库款管理。"),
        Block("item", "确有困难的，及时向我局报告，并提出国库资金调度申请。", lead="（四）及时报告困难。"),
    ]
    reply_by = issued_on + dt.timedelta(days=policy.reply_days)
    blocks.append(Block("paragraph", f"请于{chinese_date(reply_by)}前将库款保障水平偏低的原因、整改措施和落实情况"
                                     f"书面报送我局。"))
    return Letter(
        county_code=row.county_code, county_name=row.county_name, number=number, issued_on=issued_on,
        organ=policy.bureau_name, title_lines=title_lines, addressee=f"{row.county_name}财政局", blocks=tuple(blocks),
        closing="特此函告。",
        note=f"数据截至{chinese_date(as_of)}，金额单位：万元；库款保障水平＝库款余额÷月均库款支出",
    )


def to_docx(letter: Letter) -> bytes:
    doc = OfficialDocument(title=letter.title, author=letter.organ, date=letter.issued_on)
    doc.red_heading(letter.organ, letter.number)
    doc.title(*letter.title_lines)
    doc.addressee(letter.addressee)
    for block in letter.blocks:
        if block.kind == "heading":
            doc.heading(block.text)
        elif block.kind == "item":
            doc.paragraph(block.text, lead=block.lead)
        elif block.kind == "table":
            doc.table(block.header, block.rows, widths_mm=(38, 30, 34, 30, 24))
        else:
            doc.paragraph(block.text)
    doc.paragraph(letter.closing)
    doc.signature(letter.organ, letter.issued_on)
    doc.blank()
    doc.note(letter.note)
    return doc.to_bytes()


def to_text(letter: Letter) -> str:
    """The letter as plain text (the dashboard's preview), in reading order."""
    lines = [letter.organ, letter.number, "", letter.title, "", f"{letter.addressee}："]
    for block in letter.blocks:
        if block.kind == "table":
            lines.append(" | ".join(block.header))
            lines += [" | ".join(r) for r in block.rows]
        else:
            lines.append(("" if block.kind == "heading" else "　　") + block.lead + block.text)
    lines += ["　　" + letter.closing, "", letter.organ, chinese_date(letter.issued_on), "", f"（{letter.note}）"]
    return "\n".join(lines)
