"""SPEC §9.5 周调度简报: the weekly dispatch meeting's one document, as of A.

`build` gathers the sections from the same frames the dashboard and the CLI use (the
indicator panel, `dispatch`, `letter_rows`, the 重点关注 list and the ledger), so every
number in the brief is the number `metrics` and `dispatch` print for that date. The brief
is then rendered as Word (`to_docx`, for printing and forwarding), Excel (`to_xlsx`, a
sheet per section, colours kept, formula-safe) and HTML (`to_html`, the dashboard's view).

A county whose 正常 was computed without treasury or payroll-account data is shown as 无数据 (grey).
"""
from __future__ import annotations

import datetime as dt
import html
import math
from dataclasses import dataclass, replace

import pandas as pd

from . import focus, ledger, reports
from .data_gaps import blind_rows
from .dispatch import city_totals, dispatch
from .documents import OfficialDocument, chinese_date, is_dark
from .export import to_excel_workbook
from .issuing import month_batch
from .lake import Snapshot
from .letters import letter_rows
from .policy import Policy
from .queries import run
from .vocabulary import (
    COVERAGE_BANDS, FOCUS_SOURCES, GREEN, NO_DATA, PAYDAY_STATUSES, RED, TIERS, label_colours, labels,
)

LANDSCAPE_TEXT_WIDTH_MM = 297 - 37 - 35  # A4 landscape between the margins
UPCOMING_DAYS = 14  # SPEC §9.5: paydays in the next 14 days not yet funded on time
TOTAL_LABEL = "合计"

STATE_COLOURS = {**label_colours(TIERS), NO_DATA.label: NO_DATA.colour}
BAND_COLOURS = {**label_colours(COVERAGE_BANDS), NO_DATA.label: NO_DATA.colour}
STATUS_COLOURS = label_colours(PAYDAY_STATUSES)
STATUS_LABELS = labels(PAYDAY_STATUSES)
SOURCE_LABELS = labels(FOCUS_SOURCES)
CHANGE_COLOURS = {"升级": RED, "降级": GREEN, "数据变化": NO_DATA.colour}
STATE_ORDER = [*(t.label for t in reversed(TIERS)), NO_DATA.label]  # worst first, then 无数据

# kind → Excel number format
EXCEL_FORMATS = {"amount": "#,##0.00", "months": "0.00", "percent": "0.0%", "pp": "+0.0;-0.0;0.0", "int": "0",
                 "signed": "+0;-0;0", "date": "yyyy-mm-dd"}


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # text · tag · amount · months · percent · pp · int · signed · date
    colours: dict[str, str] | None = None  # tag: label → colour
    weight: float = 1.0  # relative column width in the printed brief


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    summary: str
    fields: tuple[Field, ...]
    rows: pd.DataFrame
    empty: str

    def table(self) -> pd.DataFrame:
        """The rows with Chinese column labels (exports)."""
        return self.rows[[f.name for f in self.fields]].set_axis([f.label for f in self.fields], axis=1)


@dataclass(frozen=True)
class Brief:
    as_of: dt.date
    week_before: dt.date
    organ: str
    sections: tuple[Section, ...]

    @property
    def title(self) -> str:
        return "库款与“三保”周调度简报"

    @property
    def subtitle(self) -> str:
        return f"{self.organ}　截至{chinese_date(self.as_of)}（对比{chinese_date(self.week_before)}）"

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)


NUMERALS = "一二三四五六七八九十"
COUNTY = (Field("county_name", "县区"), Field("city_name", "所属市"))


def shown_state(rows: pd.DataFrame) -> pd.Series:
    """Each county's tier label, or 无数据 where its 正常 was computed without data (the rule of
    fiscal.data_gaps, which every other view follows: a risk the data shows is never hidden)."""
    return rows["tier_label"].where(~blind_rows(rows), NO_DATA.label)


def build(snapshot: Snapshot, as_of: dt.date, policy: Policy, *, panel: pd.DataFrame | None = None,
          today: dt.date | None = None) -> Brief:
    """The brief at A.

    `panel`: reports.indicator_panel at A (the dashboard passes its cached one), for A, A − 7
    days and the month-ends. Its rows at A are those of `metrics` to the last digit (the same
    query), with counties blind at A marked 无数据 as on every page.
    """
    panel = reports.indicator_panel(snapshot, as_of, policy) if panel is None else panel
    at_date = reports.at_date(panel, as_of)
    before_day = reports.week_before(as_of)
    now = at_date.assign(state=shown_state(at_date))
    before = reports.at_date(panel, before_day).assign(state=lambda f: shown_state(f))
    suggestions = dispatch(snapshot, as_of, policy, indicator_rows=at_date)
    letters = letter_rows(snapshot, as_of, policy, panel, at_date)
    makers = [
        lambda: _tiers(now, before, before_day),
        lambda: _moves(now, before),
        lambda: _focus(snapshot, now, as_of, today or dt.date.today()),
        lambda: _paydays(snapshot, as_of, policy),
        lambda: _coverage(now, letters, policy),
        lambda: _revenue(now, policy),
        lambda: _dispatch(suggestions, policy),
        lambda: _letters(snapshot, letters, as_of, policy),
    ]
    sections = []
    for number, make in zip(NUMERALS, makers):
        section = make()
        sections.append(Section(section.key, f"{number}、{section.title}", section.summary, section.fields,
                                section.rows.reset_index(drop=True), section.empty))
    return Brief(as_of, before_day, policy.bureau_name, tuple(sections))


# ---- sections -------------------------------------------------------------------------------------
def _tiers(now: pd.DataFrame, before: pd.DataFrame, before_day: dt.date) -> Section:
    counts = pd.DataFrame({"state": STATE_ORDER})
    counts["now"] = counts["state"].map(now["state"].value_counts()).fillna(0).astype(int)
    counts["before"] = counts["state"].map(before["state"].value_counts()).fillna(0).astype(int)
    counts["change"] = counts["now"] - counts["before"]
    parts = "、".join(f"{r.state} {r.now} 个" for r in counts.itertuples())
    summary = f"共 {len(now)} 个县区：{parts}。"
    return Section("tiers", "风险等级概况", summary, (
        Field("state", "风险等级", "tag", STATE_COLOURS), Field("now", "本周", "int"),
        Field("before", f"上周（{before_day:%m-%d}）", "int"), Field("change", "增减", "signed")), counts, "")


def _moves(now: pd.DataFrame, before: pd.DataFrame) -> Section:
    joined = now.merge(before[["county_code", "state", "tier"]], on="county_code", suffixes=("", "_before"))
    moved = joined[joined["state"] != joined["state_before"]].copy()
    worse = (moved["tier"] > moved["tier_before"]) & (moved["state"] != NO_DATA.label)
    moved["direction"] = worse.map({True: "升级", False: "降级"})
    moved.loc[(moved["state"] == NO_DATA.label) | (moved["state_before"] == NO_DATA.label), "direction"] = "数据变化"
    moved = moved.sort_values(["tier", "county_code"], ascending=[False, True])
    up = int((moved["direction"] == "升级").sum())
    summary = f"较上周有 {len(moved)} 个县区等级变化，其中升级 {up} 个、降级 {int((moved['direction'] == '降级').sum())} 个。"
    return Section("moves", "本周等级变化", summary, (
        *COUNTY, Field("state_before", "上周等级", "tag", STATE_COLOURS), Field("state", "本周等级", "tag", STATE_COLOURS),
        Field("direction", "变化", "tag", CHANGE_COLOURS), Field("reasons", "本周原因", weight=3.5)), moved, "本周没有县区的风险等级发生变化。")


def _ledger_summary(measures: pd.DataFrame) -> pd.Series:
    """Per county: "3 项（推进中 2、已逾期 1）" over its measures not yet done."""
    open_ = measures[measures["status"] != "done"]
    if open_.empty:
        return pd.Series(dtype=str)
    counts = open_.groupby(["county_code", "status_label"]).size()
    return counts.groupby(level=0).apply(
        lambda c: f"{int(c.sum())} 项（" + "、".join(f"{label} {n}" for (_, label), n in c.items()) + "）")


def _focus(snapshot: Snapshot, now: pd.DataFrame, as_of: dt.date, today: dt.date) -> Section:
    listed = focus.on_list(focus.membership(snapshot, now), as_of)
    listed = listed.merge(now[["county_code", "state"]], on="county_code", how="left")
    listed["source_label"] = listed["source"].map(SOURCE_LABELS)
    summary = _ledger_summary(ledger.current(snapshot, today))
    listed["ledger"] = listed["county_code"].map(summary).astype(object).fillna("无在办措施")
    listed = listed.sort_values(["tier", "county_code"], ascending=[False, True])
    manual = int((listed["source"] == "manual").sum())
    summary = f"重点关注 {len(listed)} 个县区（等级计算 {len(listed) - manual} 个、人工列入 {manual} 个）。"
    return Section("focus", "重点关注名单", summary, (
        *COUNTY, Field("state", "风险等级", "tag", STATE_COLOURS), Field("source_label", "来源"),
        Field("reason", "原因", weight=3.5), Field("ledger", "工作台账", weight=1.6)), listed, "重点关注名单为空。")


def _paydays(snapshot: Snapshot, as_of: dt.date, policy: Policy) -> Section:
    rows = run("upcoming_paydays", snapshot, as_of=as_of, days=UPCOMING_DAYS, lead_days=policy.lead_days)
    rows["status_label"] = rows["status"].map(STATUS_LABELS)
    summary = (f"未来 {UPCOMING_DAYS} 天内有 {len(rows)} 次发薪尚未按时足额存入工资专户，"
               f"专户尚缺合计 {_amount(rows['still_missing'].sum())} 万元。")
    return Section("paydays", f"未来{UPCOMING_DAYS}天发薪未按时足额", summary, (
        *COUNTY, Field("payday", "发薪日", "date"), Field("cutoff", "存入截止日", "date"),
        Field("amount_due", "应发工资（万元）", "amount"), Field("account_balance", "专户余额（万元）", "amount"),
        Field("still_missing", "尚缺（万元）", "amount"), Field("status_label", "状态", "tag", STATUS_COLOURS)),
        rows, f"未来 {UPCOMING_DAYS} 天的发薪均已按时足额存入工资专户。")


def _coverage(now: pd.DataFrame, letters: pd.DataFrame, policy: Policy) -> Section:
    rows = now.merge(letters[["county_code", "months_below"]], on="county_code", how="left")
    blind = rows["state"] == NO_DATA.label
    low = rows[(rows["coverage_months"] < policy.coverage_prompt) | blind].copy()
    low["band"] = low["coverage_band"].where(low["state"] != NO_DATA.label, NO_DATA.label)
    low = low.sort_values(["coverage_months", "county_code"], na_position="first")
    warning = int((low["coverage_band"] == labels(COVERAGE_BANDS)["warning"]).sum())
    summary = (f"库款保障水平低于提示线（{policy.coverage_prompt:.2f} 个月）的县区 {int((~low['band'].eq(NO_DATA.label)).sum())} 个，"
               f"其中低于预警线（{policy.coverage_warning:.2f} 个月）{warning} 个；无数据 {int(blind.sum())} 个。")
    return Section("coverage", "库款保障水平偏低", summary, (
        *COUNTY, Field("treasury_balance", "库款余额（万元）", "amount"),
        Field("avg_monthly_outflow", "月均库款支出（万元）", "amount"), Field("coverage_months", "库款保障水平（月）", "months"),
        Field("band", "区间", "tag", BAND_COLOURS), Field("months_below", "连续低于提示线（月末数）", "int")),
        low, "各县区库款保障水平均在提示线以上。")


def _revenue(now: pd.DataFrame, policy: Policy) -> Section:
    lag = now[now["revenue_gap_pp"] < policy.revenue_prompt_pp].sort_values(["revenue_gap_pp", "county_code"])
    summary = (f"收入进度落后序时进度超过 {-policy.revenue_prompt_pp:g} 个百分点的县区 {len(lag)} 个，"
               f"其中超过 {-policy.revenue_warning_pp:g} 个百分点 {int((lag['revenue_gap_pp'] < policy.revenue_warning_pp).sum())} 个。")
    return Section("revenue", "收入进度落后", summary, (
        *COUNTY, Field("revenue_month", "收入月份", "int"), Field("revenue_progress", "收入进度", "percent"),
        Field("time_progress", "序时进度", "percent"), Field("revenue_gap_pp", "较序时进度（百分点）", "pp")),
        lag, "没有收入进度明显落后的县区。")


def _dispatch(suggestions: pd.DataFrame, policy: Policy) -> Section:
    needing = suggestions[suggestions["dispatch_need"] > 0].copy()
    total = needing["dispatch_need"].sum()
    cities = city_totals(suggestions)
    by_city = "、".join(f"{r.city_name} {_amount(r.dispatch_need)}" for r in cities.itertuples() if r.dispatch_need > 0)
    summary = (f"按库款不低于预警线并补足未来 {policy.dispatch_horizon_days} 天应发工资测算，{len(needing)} 个县区需调度资金，"
               f"合计 {_amount(total)} 万元" + (f"（{by_city}）。" if by_city else "。"))
    if len(needing):
        sums = needing[["treasury_balance", "cash_floor", "payroll_topup", "dispatch_need", "payroll_gap_3m"]].sum()
        needing = pd.concat([needing, pd.DataFrame([{"county_name": TOTAL_LABEL, "city_name": "", **sums.to_dict()}])],
                            ignore_index=True)
    return Section("dispatch", "调度建议", summary, (
        *COUNTY, Field("treasury_balance", "库款余额（万元）", "amount"), Field("cash_floor", "库款底线（万元）", "amount"),
        Field("payroll_topup", "工资待补足（万元）", "amount"), Field("dispatch_need", "建议调度（万元）", "amount"),
        Field("payroll_gap_3m", "三个月工资缺口（万元）", "amount")), needing, "各县区现有库款均可覆盖，暂不需要调度。")


def _letters(snapshot: Snapshot, letters: pd.DataFrame, as_of: dt.date, policy: Policy) -> Section:
    due = letters[letters["letter_due"]].copy()
    register = month_batch(_register(snapshot), as_of).drop_duplicates("county_code", keep="last")
    issued = register.set_index("county_code")["number"]
    due["issued"] = due["county_code"].map(issued).astype(object).fillna("待签发")
    due["persistent_label"] = due["persistent"].map({True: "是", False: "否"})
    pending = int((due["issued"] == "待签发").sum())
    summary = (f"本月应发提示函 {len(due)} 份（库款持续紧张 {int(due['persistent'].sum())} 个），"
               f"已签发 {len(due) - pending} 份、待签发 {pending} 份。")
    return Section("letters", "本月提示函", summary, (
        *COUNTY, Field("coverage_months", "库款保障水平（月）", "months"), Field("coverage_band", "区间", "tag", BAND_COLOURS),
        Field("months_below", "连续低于提示线（月末数）", "int"), Field("persistent_label", "持续紧张"),
        Field("issued", "签发情况")), due, "本月没有需要发提示函的县区。")


def _register(snapshot: Snapshot) -> pd.DataFrame:
    """The letters register of this snapshot (without the files)."""
    return run("letters_register", snapshot)


# ---- rendering ------------------------------------------------------------------------------------
def _missing(value) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)) or (
        not isinstance(value, str) and bool(pd.isna(value)))


def _amount(value) -> str:
    return "—" if _missing(value) else f"{value:,.2f}"


def cell_text(value, kind: str) -> str:
    """A cell as printed in the Word and HTML brief; a missing value (or empty text: no reasons) is "—"."""
    if _missing(value) or (isinstance(value, str) and not value):
        return "—"
    match kind:
        case "amount":
            return _amount(value)
        case "months":
            return f"{value:.2f}"
        case "percent":
            return f"{value:.1%}"
        case "pp":
            return f"{value:+.1f}"
        case "int":
            return f"{int(value)}"
        case "signed":
            return f"{int(value):+d}" if value else "0"
        case "date":
            return f"{pd.Timestamp(value):%Y-%m-%d}"
    return str(value)


def _cells(section: Section) -> tuple[list[list[str]], list[list[str | None]]]:
    texts, fills = [], []
    for row in section.rows.to_dict("records"):
        texts.append([cell_text(row[f.name], f.kind) for f in section.fields])
        fills.append([(f.colours or {}).get(row[f.name]) if f.kind == "tag" else None for f in section.fields])
    return texts, fills


def to_docx(brief: Brief) -> bytes:
    doc = OfficialDocument(title=brief.title, author=brief.organ, date=brief.as_of, landscape=True)
    doc.red_heading(brief.title, brief.subtitle)
    for section in brief.sections:
        doc.heading(section.title)
        doc.paragraph(section.summary, keep_with_next=not section.rows.empty)
        if section.rows.empty:
            if section.empty:
                doc.paragraph(section.empty)
            continue
        texts, fills = _cells(section)
        weights = [f.weight for f in section.fields]
        widths = [LANDSCAPE_TEXT_WIDTH_MM * w / sum(weights) for w in weights]
        doc.table([f.label for f in section.fields], texts, fills=fills, widths_mm=widths)
    doc.note(f"数据截至{chinese_date(brief.as_of)}；金额单位：万元；等级与指标口径见现行政策参数")
    return doc.to_bytes()


def to_xlsx(brief: Brief) -> bytes:
    summary = pd.DataFrame({"部分": ["简报", *(s.title for s in brief.sections)],
                            "摘要": [f"{brief.title}　{brief.subtitle}", *(s.summary for s in brief.sections)]})
    sheets = {"概要": summary}
    fills, formats = {}, {}
    for section in brief.sections:
        sheets[section.title.split("、", 1)[1]] = section.table()
        for f in section.fields:
            if f.kind == "tag":
                fills[f.label] = f.colours
            elif f.kind in EXCEL_FORMATS:
                formats[f.label] = EXCEL_FORMATS[f.kind]
    return to_excel_workbook(sheets, fills=fills, number_formats=formats)


HTML_STYLE = """
.brief {font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; color: #263238; font-size: 1rem;}
.brief h1 {font-size: 1.9em; color: #c00000; text-align: center; margin: 0.2em 0 0.1em;
           border-bottom: 3px double #c00000; padding-bottom: 0.3em;}
.brief .subtitle {text-align: center; color: #546e7a; margin-bottom: 1em;}
.brief h2 {font-size: 1.3em; margin: 1.1em 0 0.3em;}
.brief p {margin: 0.2em 0 0.5em;}
.brief table {border-collapse: collapse; width: 100%; margin-bottom: 0.6em;}
.brief th, .brief td {border: 1px solid #cfd8dc; padding: 0.25em 0.5em; text-align: left; white-space: nowrap;}
.brief td.wrap {white-space: normal; min-width: 16em;}
.brief th {background: #eceff1;}
.brief td.num {text-align: right; font-variant-numeric: tabular-nums;}
.brief .tag {display: inline-block; padding: 0 0.6em; border-radius: 999px; color: #fff; font-weight: 600;}
.brief .tag.light {color: #212121;}
.brief tr.total td {font-weight: 700; background: #fafafa;}
.brief .more {color: #546e7a; font-size: 0.9em;}
"""
_NUMERIC = {"amount", "months", "percent", "pp", "int", "signed"}


def to_html(brief: Brief, max_rows: int | None = None) -> str:
    """The brief as one HTML fragment (styles included); every text is escaped. With `max_rows`,
    each table lists its first `max_rows` rows (and its 合计 row), saying how many it has."""
    parts = [f"<style>{HTML_STYLE}</style>", '<div class="brief">', f"<h1>{html.escape(brief.title)}</h1>",
             f'<div class="subtitle">{html.escape(brief.subtitle)}</div>']
    for section in brief.sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2><p>{html.escape(section.summary)}</p>")
        if section.rows.empty:
            parts.append(f"<p>{html.escape(section.empty)}</p>" if section.empty else "")
            continue
        listed = _listed_rows(section.rows, section.fields[0].name)
        note = ""
        if max_rows is not None and len(listed) > max_rows:
            section = replace(section, rows=pd.concat([listed.head(max_rows), section.rows.drop(listed.index)]))
            note = f'<p class="more">此处列出前 {max_rows} 行，共 {len(listed):,} 行；下载的简报包含全部行</p>'
        texts, fills = _cells(section)
        head = "".join(f"<th>{html.escape(f.label)}</th>" for f in section.fields)
        body = []
        for row_texts, row_fills in zip(texts, fills):
            cells = []
            for f, text, fill in zip(section.fields, row_texts, row_fills):
                if fill:
                    light = " light" if not is_dark(fill) else ""
                    cells.append(f'<td><span class="tag{light}" style="background:{fill}">{html.escape(text)}</span></td>')
                else:
                    kind = "num" if f.kind in _NUMERIC else "wrap" if f.weight > 1.5 else ""
                    cells.append(f'<td class="{kind}">{html.escape(text)}</td>')
            total = ' class="total"' if row_texts[0] == TOTAL_LABEL else ""
            body.append(f"<tr{total}>{''.join(cells)}</tr>")
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{note}")
    parts.append("</div>")
    return "".join(parts)


def _listed_rows(rows: pd.DataFrame, first_field: str) -> pd.DataFrame:
    """The rows of a section's table other than its 合计 row."""
    return rows[rows[first_field] != TOTAL_LABEL]

