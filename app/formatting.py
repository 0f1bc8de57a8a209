"""Numbers and user text as the pages print them; a missing value is always "—"."""
from __future__ import annotations

import re

import pandas as pd

from fiscal.vocabulary import NO_DATA, PAYDAY_STATUS_LABELS

MISSING = "—"
# Markdown (and Streamlit's :colour[…] / :material/…: directives) a user's text could carry.
_MARKDOWN_SYNTAX = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")
# GFM turns bare "http://…", "www.…" and "a@b.c" into links even when every character is
# escaped; an invisible WORD JOINER (U+2060) after "http" / "www" and before "@" stops it.
_AUTOLINK = re.compile(r"(?i)(?<=http)(?=s?://)|(?<=www)(?=\.)|(?=@)")


def md_text(text) -> str:
    """User text (county, city, file and user names, URL values) made literal in any element that
    renders Markdown: st.markdown, st.caption, messages, page-link and widget labels."""
    return _MARKDOWN_SYNTAX.sub(r"\\\1", _AUTOLINK.sub("\u2060", str(text)))


def missing(value) -> bool:
    return value is None or value is pd.NaT or bool(pd.isna(value))


def amount(wan) -> str:
    """An amount as every page, table, export and document shows it: 万元, thousands
    separators, two decimals (the Excel format #,##0.00). One unit everywhere, so figures
    side by side compare at a glance and match the files to the cent."""
    return MISSING if missing(wan) else f"{wan:,.2f} 万元"


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
    return dict(zip(frame["county_code"].tolist(), (frame["county_name"] + "（" + frame["city_name"] + "）").tolist()))


def coverage_band(band, treasury_balance) -> str:
    """The 库款保障水平 band, or why there is none: no treasury row at all, or too short a history."""
    if not missing(band):
        return band
    return NO_DATA.label if missing(treasury_balance) else "历史不足"


def status(code) -> str:
    """A payday status code as its Chinese label."""
    return MISSING if missing(code) else PAYDAY_STATUS_LABELS.get(code, code)
