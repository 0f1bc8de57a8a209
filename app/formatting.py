"""Numbers as the pages print them; a missing value is always "—"."""
from __future__ import annotations

import pandas as pd

from fiscal.vocabulary import PAYDAY_STATUS_LABELS

MISSING = "—"


def missing(value) -> bool:
    return value is None or value is pd.NaT or bool(pd.isna(value))


def amount(wan) -> str:
    """An amount in 万元 for cards and sentences, short enough for a card: 10,000 万元 and
    more in 亿元, 10,000 亿元 and more in 万亿元, about four significant digits (tables
    keep the exact figure)."""
    if missing(wan):
        return MISSING
    for unit, size in (("万亿元", 100_000_000), ("亿元", 10_000), ("万元", 1)):
        if abs(wan) >= size or size == 1:
            value = wan / size
            decimals = 0 if abs(value) >= 1_000 else 1 if abs(value) >= 100 else 2
            return f"{value:,.{decimals}f} {unit}"


def months(value) -> str:
    return MISSING if missing(value) else f"{value:.2f} 个月"


def number(value, digits: int = 2) -> str:
    return MISSING if missing(value) else f"{value:.{digits}f}"


def percent(value, digits: int = 1) -> str:
    return MISSING if missing(value) else f"{value:.{digits}%}"


def date(value) -> str:
    return MISSING if missing(value) else f"{pd.Timestamp(value):%Y-%m-%d}"


def counties(count: int) -> str:
    return f"{count} 个县区"


def pp_delta(value) -> str | None:
    """A gap in percentage points as a metric delta (None when missing: no arrow)."""
    return None if missing(value) else f"{value:+.1f} 个百分点"


def county_labels(frame: pd.DataFrame) -> dict[str, str]:
    """county_code → "县区名（所属市）", in the frame's order: the options of county pickers."""
    return dict(zip(frame["county_code"], frame["county_name"] + "（" + frame["city_name"] + "）"))


def status(code) -> str:
    """A payday status code as its Chinese label."""
    return MISSING if missing(code) else PAYDAY_STATUS_LABELS.get(code, code)
