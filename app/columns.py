"""How every column the dashboard shows is labelled, formatted and coloured.

One catalogue for all pages, so a field looks the same wherever it appears and its
CSV/Excel export carries the same header, number format and colours as the screen.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from fiscal.vocabulary import (ARRIVALS, COVERAGE_BANDS, FOCUS_ACTIONS, FOCUS_SOURCES, LEDGER_STATUSES,
                               PAYDAY_STATUSES, SHOWN_TIERS, TIER_MOVES, label_colours)

TIER_TAG_COLORS = label_colours(SHOWN_TIERS)  # 无数据 included
STATUS_TAG_COLORS = label_colours(PAYDAY_STATUSES)
BAND_TAG_COLORS = label_colours(COVERAGE_BANDS)
CHANGE_TAG_COLORS = label_colours(TIER_MOVES)
FOCUS_SOURCE_TAG_COLORS = label_colours(FOCUS_SOURCES)
FOCUS_ACTION_TAG_COLORS = label_colours(FOCUS_ACTIONS)
LEDGER_STATUS_TAG_COLORS = label_colours(LEDGER_STATUSES)

# Fractions shown as percentages, one decimal wherever they appear (grid, HTML table, Excel, reasons).
PERCENT_KINDS = ("ratio", "percent")
PERCENT_FORMAT = "%.1f%%"  # the grid's printf format, for values scaled to 0–100

LINK_TEXT = "查看 ›"  # a link column's text, in the grid and in HTML tables

# kind → Excel number format of the export
EXCEL_FORMATS = {
    "amount": "#,##0.00",
    "ratio": "0.0%",
    "percent": "0.0%",
    "months": "0.00",
    "multiple": "0.00",
    "pp": "0.0",
    "int": "0",
    "date": "yyyy-mm-dd",
}


@dataclass(frozen=True)
class Col:
    field: str
    label: str
    kind: str  # text · tag · amount · ratio · percent · months · multiple · pp · int · date · link
    help: str | None = None
    tags: dict[str, str] | None = None  # tag kind: value → colour
    width: str | int | None = None

    def grid_values(self, values: pd.Series) -> pd.Series:
        """The column as the data grid takes it: a tag as a one-item list (none when empty), a fraction
        in percent (the grid's "percent" preset shows up to two decimals; printf shows one), empty
        text as missing (the grid shows the missing-value placeholder "—", not a blank)."""
        if self.kind == "tag":
            return values.map(lambda v: [v] if isinstance(v, str) and v else [])
        if self.kind in PERCENT_KINDS:
            return values * 100
        if self.kind == "text":
            return values.mask(values.eq(""))
        return values

    def config(self):
        cc = st.column_config
        match self.kind:
            case "amount":
                return cc.NumberColumn(self.label, help=self.help, format="accounting", width=self.width)
            case "ratio":
                return cc.ProgressColumn(self.label, help=self.help, format=PERCENT_FORMAT, min_value=0.0,
                                         max_value=100.0, width=self.width or "small")
            case "percent":
                return cc.NumberColumn(self.label, help=self.help, format=PERCENT_FORMAT, width=self.width)
            case "months" | "multiple":
                return cc.NumberColumn(self.label, help=self.help, format="%.2f", width=self.width)
            case "pp":
                return cc.NumberColumn(self.label, help=self.help, format="%+.1f", width=self.width)
            case "int":
                return cc.NumberColumn(self.label, help=self.help, format="%d", width=self.width)
            case "date":
                return cc.DateColumn(self.label, help=self.help, format="YYYY-MM-DD", width=self.width)
            case "tag":
                return cc.MultiselectColumn(self.label, help=self.help, options=list(self.tags),
                                            color=list(self.tags.values()), width=self.width)
            case "link":
                return cc.LinkColumn(self.label, help=self.help, display_text=LINK_TEXT, width=self.width or "small")
            case _:
                return cc.TextColumn(self.label, help=self.help, width=self.width)


def _catalogue(*columns: Col) -> dict[str, Col]:
    return {c.field: c for c in columns}


COLUMNS = _catalogue(
    Col("tier_label", "风险等级", "tag", tags=TIER_TAG_COLORS),
    Col("tier_before_label", "原等级", "tag", tags=TIER_TAG_COLORS),
    Col("tier_now_label", "现等级", "tag", tags=TIER_TAG_COLORS),
    Col("county_code", "区划代码", "text"),
    Col("county_name", "县区", "text"),
    Col("city_name", "所属市", "text"),
    Col("as_of", "日期", "date"),
    Col("change", "变化", "tag", tags=CHANGE_TAG_COLORS),
    Col("reasons", "风险原因", "text", width="large"),
    Col("data_gaps", "缺少的数据", "text"),
    Col("detail_url", "详情", "link"),
    # treasury
    Col("treasury_date", "库款日期", "date"),
    Col("treasury_balance", "库款余额（万元）", "amount"),
    Col("avg_monthly_outflow", "月均库款支出（万元）", "amount", help="截至日所在月之前 12 个月中有数据月份的月支出平均"),
    Col("coverage_months", "库款保障水平（月）", "months", help="库款余额 ÷ 月均库款支出"),
    Col("coverage_band", "保障水平区间", "tag", tags=BAND_TAG_COLORS),
    Col("idle_amount", "超出闲置线金额（万元）", "amount", help="库款余额 − 闲置线 × 月均库款支出"),
    # payroll
    Col("next_payday", "下次发薪日", "date"),
    Col("next_payday_cutoff", "存入截止日", "date", help="发薪日前 7 天，工资须足额存入工资专户"),
    Col("next_payday_amount", "下次应发工资（万元）", "amount"),
    Col("next_payday_ratio", "专户存入比例", "ratio",
        help="已过截止日：截止日专户余额 ÷ 应发工资；未到截止日：当前专户余额 ÷ 应发工资"),
    Col("next_payday_status_label", "下次发薪状态", "tag", tags=STATUS_TAG_COLORS),
    Col("days_to_cutoff", "距截止日（天）", "int"),
    Col("days_to_payday", "距发薪日（天）", "int"),
    Col("last_payday", "上次发薪日", "date"),
    Col("last_payday_amount", "上次应发工资（万元）", "amount"),
    Col("last_payday_status_label", "上次发薪状态", "tag", tags=STATUS_TAG_COLORS),
    Col("last_payday_ratio", "上次截止日存入比例", "ratio"),
    Col("last_payday_shortfall", "上次发薪缺口（万元）", "amount"),
    Col("payday", "发薪日", "date"),
    Col("cutoff", "存入截止日", "date"),
    Col("amount_due", "应发工资（万元）", "amount"),
    Col("status_label", "状态", "tag", tags=STATUS_TAG_COLORS),
    Col("ratio", "截止日存入比例", "ratio"),
    Col("shortfall", "缺口（万元）", "amount"),
    Col("payroll_cover_3m", "未来三个月工资保障倍数", "multiple",
        help="（库款余额 + 工资专户余额 + 3 × 月均非工资净流入）÷ 未来三个月应发工资"),
    Col("forward_need", "未来三个月应发工资（万元）", "amount"),
    Col("available", "可用资金（万元）", "amount"),
    Col("account_balance", "工资专户余额（万元）", "amount"),
    # revenue
    Col("category", "收入类别", "text"),
    Col("revenue_month", "收入月份", "int"),
    Col("month", "月份", "int"),
    Col("budget", "年初预算（万元）", "amount"),
    Col("actual_ytd", "累计完成（万元）", "amount"),
    Col("prev_actual_ytd", "上年同期累计（万元）", "amount"),
    Col("revenue_progress", "收入进度", "ratio"),
    Col("prev_progress", "上年同期进度", "percent"),
    Col("time_progress", "序时进度", "percent"),
    Col("revenue_gap_pp", "较序时进度（百分点）", "pp"),
    Col("yoy_growth", "同比增长", "percent"),
    # advances
    Col("advances_ratio", "暂付款比例", "percent"),
    # dispatch suggestions (SPEC §9.1)
    Col("shown_tier", "风险等级", "tag", tags=TIER_TAG_COLORS,
        help="没有截至日及以前库款数据的县区显示为无数据"),
    Col("cash_floor", "库款底线（万元）", "amount", help="预警线 × 月均库款支出：库款不应低于此数"),
    Col("horizon_payroll", "近期应发工资（万元）", "amount", help="截至日后调度测算天数内各发薪日的应发工资合计"),
    Col("payroll_topup", "工资待补足（万元）", "amount", help="近期应发工资 − 工资专户余额（不为负）"),
    Col("dispatch_need", "建议调度（万元）", "amount", help="库款底线 + 工资待补足 − 库款余额（不为负）"),
    Col("payroll_gap_3m", "三个月工资缺口（万元）", "amount", help="未来三个月应发工资 − 可用资金（不为负）"),
    Col("counties", "县区数", "int"),
    Col("needing", "需调度县区", "int"),
    # prompt letters (SPEC §9.2)
    Col("months_below", "连续低于提示线（月末数）", "int", help="从上月末往前数，库款保障水平连续低于提示线的月末个数（最多 12）"),
    Col("persistent_label", "库款持续紧张", "text"),
    Col("letter_status", "签发情况", "text"),
    Col("number", "文号", "text"),
    Col("data_as_of", "截至日期", "date", help="函中数据的截至日期"),
    Col("issued_on", "成文日期", "date"),
    Col("user", "签发人", "text"),
    Col("issued_at", "登记时间", "text"),
    Col("file_name", "文件名", "text", width="medium"),
    Col("sha256_short", "SHA-256", "text"),
    # policy
    Col("indicator", "指标", "text", width="medium"),
    Col("rule", "规则", "text", width="large"),
    # 报送情况
    Col("arrival", "本周库款日报", "tag", tags=label_colours(ARRIVALS)),
    Col("treasury_latest", "库款日报最新日期", "date"),
    Col("payroll_account_latest", "工资专户余额最新日期", "date"),
    Col("payroll_schedule_latest", "工资发放计划最晚发薪日", "date"),
    Col("revenue_latest", "收入进度最新月份", "date"),
    Col("advances_latest", "暂付款最新月份", "date"),
    # freshness
    Col("label", "数据", "text"),
    Col("latest", "最新日期", "date"),
    Col("rows", "行数", "int"),
    # the 重点关注 list and its entries (SPEC §9.3)
    Col("source_label", "来源", "tag", tags=FOCUS_SOURCE_TAG_COLORS, help="计算：风险等级为重点关注；人工：本局人工列入"),
    Col("basis_label", "依据", "tag", tags=FOCUS_SOURCE_TAG_COLORS),
    Col("action_label", "调整", "tag", tags=FOCUS_ACTION_TAG_COLORS),
    Col("reason", "原因", "text", width="large", help="人工调整：调整理由；计算：风险原因"),
    Col("why", "原因", "text", width="large"),
    Col("since_text", "在名单上自", "text", help="按各月末名单判断；人工列入按生效日期。“或更早”：近 12 个月一直在名单上"),
    Col("effective_from", "生效日期", "date"),
    Col("until_text", "截止日期", "text", help="人工调整的最后一天（含当天）"),
    Col("by", "操作人", "text"),
    Col("recorded_at", "记录时间（北京时间）", "text"),
    # the 工作台账 (SPEC §9.4)
    Col("measure_id", "编号", "int"),
    Col("measure", "措施", "text", width="large"),
    Col("owner", "责任人", "text"),
    Col("due", "完成时限", "date"),
    Col("ledger_status_label", "状态", "tag", tags=LEDGER_STATUS_TAG_COLORS),
    Col("note", "备注", "text", width="medium"),
    Col("revision", "修订", "int"),
)
