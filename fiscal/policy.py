"""The risk policy: SPEC §4–5 defaults, read from a TOML file and validated on load."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from .settings import DEFAULT_POLICY_PATH


class PolicyError(ValueError):
    """The policy file is missing a value or holds one that makes no sense."""


@dataclass(frozen=True)
class Policy:
    lead_days: int = 7
    history_months: int = 12
    min_history_months: int = 3
    coverage_warning: float = 0.3
    coverage_prompt: float = 0.5
    coverage_idle: float = 0.8
    forward_months: int = 3
    forward_warning: float = 1.0
    revenue_prompt_pp: float = -8.0
    revenue_warning_pp: float = -20.0
    advances_cap: float = 0.05
    sev_coverage_warning: int = 2
    sev_coverage_prompt: int = 1
    sev_last_shortfall: int = 3
    sev_last_late: int = 1
    sev_next_overdue: int = 2
    sev_next_late: int = 1
    sev_forward_warning: int = 2
    sev_revenue_warning: int = 2
    sev_revenue_prompt: int = 1
    sev_advances: int = 1
    focus_when_warnings: int = 2
    stale_days: int = 7
    # SPEC §9.1–9.2: dispatch suggestions and prompt letters
    dispatch_horizon_days: int = 30
    persistent_months: int = 2
    bureau_name: str = "XX市财政局"  # a placeholder the bureau replaces with its own name
    number_prefix: str = "X财库函"
    reply_days: int = 10

    def sql_params(self) -> dict[str, float | int]:
        """The numeric settings, as SQL parameters (the texts are for documents only)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if not isinstance(getattr(self, f.name), str)}

    def lines(self) -> list[tuple[str, str]]:
        """The lines in force, as (指标, 规则) rows for display."""
        return [
            ("工资专户", f"发薪日前 {self.lead_days} 天足额存入"),
            ("库款保障水平", f"预警线 {self.coverage_warning:.2f} · 提示线 {self.coverage_prompt:.2f} · 闲置线 {self.coverage_idle:.2f}（月）"),
            ("库款保障参考期", f"截至日前 {self.history_months} 个月，至少 {self.min_history_months} 个月有数据"),
            (f"未来{self.forward_months}个月工资保障", f"保障倍数低于 {self.forward_warning:.2f} 预警"),
            ("收入进度", f"落后序时进度超过 {-self.revenue_prompt_pp:g} 个百分点提示，超过 {-self.revenue_warning_pp:g} 个百分点预警"),
            ("暂付款比例", f"不超过 {self.advances_cap:.1%}"),
            ("重点关注", f"上次发薪出现缺口，或 {self.focus_when_warnings} 项及以上指标达到预警"),
            ("数据时效", f"最新数据早于截至日 {self.stale_days} 天以上标记为过期"),
            ("调度建议", f"库款保持在预警线 {self.coverage_warning:.2f} 个月支出以上，并补足未来 "
                        f"{self.dispatch_horizon_days} 天应发工资"),
            ("提示函", f"库款保障水平低于提示线 {self.coverage_prompt:.2f} 时发函；连续 {self.persistent_months} "
                      f"个月末低于提示线为库款持续紧张；请于发函后 {self.reply_days} 天内回复"),
            ("发文机关", f"{self.bureau_name}，文号 {self.number_prefix}〔年份〕序号号"),
        ]


# TOML [section] key → Policy field
_FIELDS = {
    ("payroll", "lead_days"): "lead_days",
    ("coverage", "history_months"): "history_months",
    ("coverage", "min_history_months"): "min_history_months",
    ("coverage", "warning_line"): "coverage_warning",
    ("coverage", "prompt_line"): "coverage_prompt",
    ("coverage", "idle_line"): "coverage_idle",
    ("forward", "months"): "forward_months",
    ("forward", "warning_line"): "forward_warning",
    ("revenue", "prompt_gap_pp"): "revenue_prompt_pp",
    ("revenue", "warning_gap_pp"): "revenue_warning_pp",
    ("advances", "cap"): "advances_cap",
    ("severity", "coverage_warning"): "sev_coverage_warning",
    ("severity", "coverage_prompt"): "sev_coverage_prompt",
    ("severity", "last_payday_shortfall"): "sev_last_shortfall",
    ("severity", "last_payday_late"): "sev_last_late",
    ("severity", "next_payday_overdue"): "sev_next_overdue",
    ("severity", "next_payday_late"): "sev_next_late",
    ("severity", "forward_warning"): "sev_forward_warning",
    ("severity", "revenue_warning"): "sev_revenue_warning",
    ("severity", "revenue_prompt"): "sev_revenue_prompt",
    ("severity", "advances_over_cap"): "sev_advances",
    ("tier", "focus_when_warnings"): "focus_when_warnings",
    ("freshness", "stale_days"): "stale_days",
    ("dispatch", "horizon_days"): "dispatch_horizon_days",
    ("letters", "persistent_months"): "persistent_months",
    ("letters", "bureau_name"): "bureau_name",
    ("letters", "number_prefix"): "number_prefix",
    ("letters", "reply_days"): "reply_days",
}
_TEXT_LIMIT = 40  # characters of the bureau name and the number prefix


def load_policy(path: str | Path = DEFAULT_POLICY_PATH) -> Policy:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError(f"找不到政策文件 {path.name}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"政策文件 {path.name} 格式错误：{exc}") from None
    known = {section for section, _ in _FIELDS}
    unknown = [f"[{s}] {k}" for s, table in raw.items() for k in (table if isinstance(table, dict) else {})
               if (s, k) not in _FIELDS] + [f"[{s}]" for s in raw if s not in known]
    if unknown:
        raise PolicyError(f"政策文件中有无法识别的设置：{', '.join(unknown)}")
    defaults = Policy()
    values = {}
    for (section, key), name in _FIELDS.items():
        default = getattr(defaults, name)
        value = raw.get(section, {}).get(key, default)
        if isinstance(default, str):
            values[name] = _text_setting(section, key, value)
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise PolicyError(f"政策设置 [{section}] {key} 应为数字，实际为「{value}」")
        if isinstance(default, int) and value != int(value):
            raise PolicyError(f"政策设置 [{section}] {key} 应为整数，实际为「{value}」")
        values[name] = type(default)(value)
    policy = Policy(**values)
    _check(policy)
    return policy


def _text_setting(section: str, key: str, value) -> str:
    """A name printed on letters: one line of visible text."""
    if not isinstance(value, str):
        raise PolicyError(f"政策设置 [{section}] {key} 应为文字（用引号括起），实际为「{value}」")
    text = value.strip()
    if not text:
        raise PolicyError(f"政策设置 [{section}] {key} 不能为空")
    if len(text) > _TEXT_LIMIT or any(not ch.isprintable() for ch in text):
        raise PolicyError(f"政策设置 [{section}] {key} 应为一行不超过 {_TEXT_LIMIT} 个字的文字，实际为「{value}」")
    return text


def _check(p: Policy) -> None:
    problems = []
    if not 0 < p.coverage_warning < p.coverage_prompt <= p.coverage_idle:
        problems.append("库款保障水平应满足 0 < 预警线 < 提示线 ≤ 闲置线")
    if not p.revenue_warning_pp < p.revenue_prompt_pp <= 0:
        problems.append("收入进度应满足 预警线 < 提示线 ≤ 0（百分点）")
    if not 0 < p.advances_cap < 1:
        problems.append("暂付款控制线应在 0 和 1 之间")
    if not 0 <= p.lead_days <= 31:
        problems.append("工资提前存入天数应在 0 到 31 之间")
    if not 1 <= p.min_history_months <= p.history_months <= 36:
        problems.append("参考期月数应满足 1 ≤ 最少月数 ≤ 参考月数 ≤ 36")
    if not 1 <= p.forward_months <= 12 or p.forward_warning <= 0:
        problems.append("未来工资保障的月数应在 1 到 12 之间，预警线应大于 0")
    severities = [getattr(p, f.name) for f in fields(p) if f.name.startswith("sev_")]
    if any(not 0 <= s <= 3 for s in severities):
        problems.append("严重程度只能是 0、1、2、3")
    if p.focus_when_warnings < 1 or p.stale_days < 0:
        problems.append("重点关注条件与数据时效天数应为正数")
    if not 1 <= p.dispatch_horizon_days <= 92:
        problems.append("调度建议的工资测算天数应在 1 到 92 之间")
    if not 1 <= p.persistent_months <= 12:
        problems.append("库款持续紧张的连续月数应在 1 到 12 之间")
    if not 1 <= p.reply_days <= 60:
        problems.append("提示函回复期限应在 1 到 60 天之间")
    if any(ch in p.number_prefix for ch in "〔〕[]()（）"):
        problems.append("文号前缀只写机关代字（如“X财库函”），年份和序号由系统加上")
    if problems:
        raise PolicyError("政策文件不合理：" + "；".join(problems))
