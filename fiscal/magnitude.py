"""Is the unit right? An upload whose amounts are orders of magnitude off what the lake
already holds for the same counties — or off any plausible county figure — is refused.

The classic case: a 库款日报 in 元 without a "单位：" line is read as 万元, 10,000 times
too large, and every indicator downstream is silently wrong. Units differ by factors of
10,000 (元 → 万元 → 亿元), ordinary growth by far less, so the typical ratio (median over
counties and amount columns, of each county's median positive amount) is a robust tell.
Vectorised: one SQL query for the lake's levels, one group-by for the file's.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .extracts import KINDS, UNITS
from .lake import Snapshot
from .queries import run
from .validation import Extract, Problem

# A typical ratio this far from 1 (10^2.5 ≈ 316×) is a unit, not a trend.
MAX_LOG10_RATIO = 2.5
# No county's amounts are typically above 1,000 亿元 (a whole province's budget is a few
# thousand 亿元): a file above it is almost surely in 元 read as 万元.
PLAUSIBLE_CEILING_WAN = 10_000_000.0


def lake_levels(snapshot: Snapshot, extract: Extract) -> pd.DataFrame:
    """county_code, column, level: each county's median positive amount per column in the lake."""
    codes = sorted(extract.frame["county_code"].dropna().unique())
    return run("amount_levels", snapshot, kind=extract.kind, county_codes=codes)


def file_levels(extract: Extract) -> pd.DataFrame:
    """The same medians for the file's rows (amounts already converted to 万元)."""
    frame = extract.frame
    levels = [frame.loc[frame[column] > 0].groupby("county_code", as_index=False)[column].median()
              .rename(columns={column: "level"}).assign(column=column)
              for column in KINDS[extract.kind].amount_columns]  # column by column: no long copy of the codes
    return (pd.concat(levels, ignore_index=True)[["county_code", "column", "level"]]
            .sort_values(["county_code", "column"], ignore_index=True))


def check(extract: Extract, lake: pd.DataFrame) -> list[Problem]:
    """An error when the file's amounts sit orders of magnitude away from the lake's
    (for the same counties and columns) or above any plausible county figure."""
    if not KINDS[extract.kind].amount_columns:
        return []
    mine = file_levels(extract)
    if mine.empty:
        return []
    both = mine.merge(lake, on=["county_code", "column"], suffixes=("", "_lake"))
    if not both.empty:
        log_ratio = float(np.median(np.log10(both["level"] / both["level_lake"])))
        if abs(log_ratio) >= MAX_LOG10_RATIO:
            compared = f"数据湖中这些县区已有的同类数据（{both['county_code'].nunique()} 个县区）"
            return [_problem(extract, log_ratio, compared)]
        return []
    # Nothing to compare with: the typical county's largest column against the ceiling.
    typical = float(mine.groupby("county_code")["level"].max().median())
    log_ratio = math.log10(typical / PLAUSIBLE_CEILING_WAN)
    if log_ratio > 0:
        return [_problem(extract, log_ratio + 4, "县区金额的合理上限（1,000 亿元）", above_ceiling=True)]
    return []


def _problem(extract: Extract, log_ratio: float, compared: str, *, above_ceiling: bool = False) -> Problem:
    read_as = extract.unit
    likely = _likely_unit(read_as, log_ratio)
    if above_ceiling:
        size = f"金额按「{read_as}」读取后超过{compared}"
    else:
        factor = 10 ** round(log_ratio)
        size = (f"金额按「{read_as}」读取后约为{compared}的 {factor:,.0f} 倍" if log_ratio > 0
                else f"金额按「{read_as}」读取后只有{compared}的 {1 / factor:,.0f} 分之一")
    how = (f"请在表头上方加一行“单位：{likely}”，或在列名后注明“（{likely}）”，或上传时选择金额单位「{likely}」"
           if likely != read_as else "请核对金额单位")
    return Problem("error", f"{size}：文件中的金额很可能以「{likely}」为单位。{how}，然后重新上传。"
                            "为避免指标错误，此文件不能导入。")


def _likely_unit(read_as: str, log_ratio: float) -> str:
    """The unit whose factor best explains the ratio (the file's true unit)."""
    true_log_factor = math.log10(UNITS[read_as]) - log_ratio
    return min(UNITS, key=lambda unit: abs(math.log10(UNITS[unit]) - true_log_factor))
