"""The policy file: defaults of SPEC §4–5, validated on load, used by the indicators."""
from __future__ import annotations

import pytest

from fiscal.indicators import metrics, to_records
from fiscal.policy import Policy, PolicyError, load_policy
from fiscal.settings import DEFAULT_POLICY_PATH
from tests.conftest import D


def test_shipped_policy_is_the_spec_defaults():
    assert load_policy() == Policy()
    p = Policy()
    assert (p.lead_days, p.coverage_warning, p.coverage_prompt, p.coverage_idle) == (7, 0.3, 0.5, 0.8)
    assert (p.forward_warning, p.revenue_prompt_pp, p.revenue_warning_pp, p.advances_cap) == (1.0, -8.0, -20.0, 0.05)
    assert (p.sev_last_shortfall, p.sev_next_overdue, p.focus_when_warnings) == (3, 2, 2)


def write(tmp_path, text: str):
    path = tmp_path / "policy.toml"
    path.write_text(DEFAULT_POLICY_PATH.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text, message", [
    ("[extra]\nx = 1", "无法识别的设置：[extra]"),
    ("", None),
])
def test_unknown_sections_are_refused(tmp_path, text, message):
    if message is None:
        assert load_policy(write(tmp_path, text)) == Policy()
    else:
        with pytest.raises(PolicyError, match=message.replace("[", r"\[").replace("]", r"\]")):
            load_policy(write(tmp_path, text))


@pytest.mark.parametrize("old, new, message", [
    ("warning_line = 0.3 ", "warning_line = 0.6 ", "预警线 < 提示线"),
    ("lead_days = 7", "lead_days = 7.5", "应为整数"),
    ("cap = 0.05", 'cap = "5%"', "应为数字"),
    ("prompt_gap_pp = -8.0", "prompt_gap_pp = 8.0", "提示线 ≤ 0"),
    ("last_payday_shortfall = 3", "last_payday_shortfall = 4", "严重程度"),
])
def test_nonsense_values_are_refused_in_chinese(tmp_path, old, new, message):
    path = tmp_path / "policy.toml"
    text = DEFAULT_POLICY_PATH.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(PolicyError, match=message):
        load_policy(path)


def test_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(PolicyError, match="找不到政策文件"):
        load_policy(tmp_path / "none.toml")
    (tmp_path / "bad.toml").write_text("[coverage\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="格式错误"):
        load_policy(tmp_path / "bad.toml")


def test_an_edited_line_changes_the_tier(make_lake, tmp_path):
    rows = [("000001", D(2025, 3 - i, 10), 0.0, 0.0, 1000.0) for i in range(3)] + [("000001", D(2025, 4, 1), 350.0, 0.0, 0.0)]
    lake = make_lake(treasury=rows)
    strict = tmp_path / "strict.toml"
    strict.write_text(DEFAULT_POLICY_PATH.read_text(encoding="utf-8").replace("warning_line = 0.3 ", "warning_line = 0.4 "), encoding="utf-8")
    default = to_records(metrics(lake.snapshot(), D(2025, 4, 2), load_policy()))[0]
    edited = to_records(metrics(lake.snapshot(), D(2025, 4, 2), load_policy(strict)))[0]
    assert (default["tier"], default["coverage_band"]) == (1, "偏低")
    assert (edited["tier"], edited["coverage_band"]) == (2, "预警")
    assert edited["reasons"] == ["库款保障水平 0.35 低于预警线 0.40"]


def test_the_lines_in_force_print_percentages_as_every_page_does():
    lines = dict(load_policy().lines())
    assert lines["暂付款比例"] == "不超过 5.0%"  # the reason says "高于控制线 5.0%": the same figure
