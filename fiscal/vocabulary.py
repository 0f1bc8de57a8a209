"""One name per concept: every code → Chinese label → colour → severity, defined once.

Tiers, the "no data" state, coverage bands, payday statuses, the sources of the 重点关注
list and the ledger statuses. SQL macros, charts, table columns, exports, letters and the
brief take their words and colours from here; thresholds come from the policy file.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    code: str | int
    label: str
    colour: str
    severity: int | None = None  # SPEC §5 severity a term carries, where it carries one
    text_light: bool = False  # True when the colour needs dark text on top of it


GREEN, YELLOW, ORANGE, RED = "#2e7d32", "#f9a825", "#ef6c00", "#c62828"
GREY = "#78909c"  # 无数据: never green — a county we cannot see is not a safe county
BLUE = "#1565c0"
PALE = "#b0bec5"
LIGHT_GREEN = "#81c784"  # behind 序时进度, but within the prompt line: not flagged, not quite green

# SPEC §5 risk tiers 0–3.
TIERS = (
    Term(0, "正常", GREEN, 0),
    Term(1, "提示", YELLOW, 1, text_light=True),
    Term(2, "预警", ORANGE, 2),
    Term(3, "重点关注", RED, 3),
)
FOCUS_TIER = 3

# A county whose treasury or payroll-account extract has no row on or before A. Its SPEC
# tier is still computed (and printed by `metrics`), but every screen and document shows
# this state instead of a calm 正常.
NO_DATA = Term("no_data", "无数据", GREY)

# SPEC §4 M2 库款保障水平 bands, worst first.
COVERAGE_BANDS = (
    Term("warning", "预警", ORANGE, 2),
    Term("low", "偏低", YELLOW, 1, text_light=True),
    Term("normal", "正常", GREEN, 0),
    Term("idle", "闲置", BLUE, 0),
)

# SPEC §4 M3 payday statuses, worst first (a month with two paydays shows the worse one).
PAYDAY_STATUSES = (
    Term("shortfall", "存在缺口", RED, 3),
    Term("overdue", "逾期未足额", ORANGE, 2),
    Term("funded_late", "迟于截止日", YELLOW, 1, text_light=True),
    Term("pending", "未到截止日", PALE, 0, text_light=True),
    Term("funded_on_time", "按时足额", GREEN, 0),
)

# How a county's tier moved between two dates (本周变化, 重点关注名单变动).
TIER_MOVES = (
    Term("up", "升级", RED),
    Term("down", "降级", GREEN),
    Term("entered", "进入", RED),
    Term("left", "退出", GREEN),
)

# SPEC §9.3 where a county on the 重点关注 list comes from.
FOCUS_SOURCES = (
    Term("computed", "计算", RED),
    Term("manual", "人工", "#6a1b9a"),
)

# SPEC §9.4 ledger statuses; `overdue` is shown, never stored (due < today and not done).
LEDGER_STATUSES = (
    Term("not_started", "未开始", PALE, text_light=True),
    Term("in_progress", "推进中", BLUE),
    Term("done", "已完成", GREEN),
    Term("overdue", "已逾期", RED),
)


def by_code(terms: tuple[Term, ...]) -> dict:
    return {t.code: t for t in terms}


def by_label(terms: tuple[Term, ...]) -> dict[str, Term]:
    return {t.label: t for t in terms}


def labels(terms: tuple[Term, ...]) -> dict:
    """code → Chinese label."""
    return {t.code: t.label for t in terms}


def colours(terms: tuple[Term, ...]) -> dict:
    """code → colour."""
    return {t.code: t.colour for t in terms}


def label_colours(terms: tuple[Term, ...]) -> dict[str, str]:
    """Chinese label → colour (for tables that show labels)."""
    return {t.label: t.colour for t in terms}


def sql_macros() -> str:
    """The label macros of the SQL files, written from the terms above (run once per connection).

    `coverage_band` is SPEC's Chinese band label, `tier_label` the Chinese tier label; the
    thresholds are the policy's, passed in by the caller.
    """
    band = {t.code: _sql_text(t.label) for t in COVERAGE_BANDS}
    tiers = " ".join(f"WHEN {t.code} THEN {_sql_text(t.label)}" for t in TIERS)
    return f"""
CREATE MACRO coverage_band(coverage, warning_line, prompt_line, idle_line) AS
    CASE WHEN coverage IS NULL THEN NULL
         WHEN coverage < warning_line THEN {band["warning"]}
         WHEN coverage < prompt_line THEN {band["low"]}
         WHEN coverage <= idle_line THEN {band["normal"]}
         ELSE {band["idle"]} END;
CREATE MACRO tier_label(tier) AS CASE tier {tiers} END;
"""


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


TIER_LABELS = labels(TIERS)
TIER_COLORS = colours(TIERS)
PAYDAY_STATUS_LABELS = labels(PAYDAY_STATUSES)
PAYDAY_STATUS_COLORS = colours(PAYDAY_STATUSES)
PAYDAY_STATUS_ORDER = tuple(t.code for t in PAYDAY_STATUSES)
TIER_MOVE_LABELS = labels(TIER_MOVES)

# The tier as the dashboard and documents show it: a blind county (see fiscal.data_gaps)
# carries NO_DATA_TIER instead of a calm 0. Worst first, 无数据 before 正常.
NO_DATA_TIER = -1
SHOWN_TIERS = (*TIERS[::-1][:3], Term(NO_DATA_TIER, NO_DATA.label, NO_DATA.colour), TIERS[0])
SHOWN_TIER_LABELS = labels(SHOWN_TIERS)
SHOWN_TIER_COLORS = colours(SHOWN_TIERS)

# 报送情况: has a county's treasury daily arrived in the as-of date's week? Worst first.
ARRIVALS = (
    Term("never", "从未报送", GREY),
    Term("late", "本周未报送", ORANGE),
    Term("arrived", "本周已报送", GREEN),
)
ARRIVAL_LABELS = labels(ARRIVALS)
