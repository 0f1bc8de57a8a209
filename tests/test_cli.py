"""`python -m fiscal` end to end, as automation and outside checks call it (SPEC §6)."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from fiscal.indicators import METRIC_KEYS
from fiscal.lake import Lake
from tests.test_lake import lake_fingerprint

ROOT = Path(__file__).resolve().parent.parent
FILES = ROOT / "tests" / "files"


def fiscal(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fiscal", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def loaded_lake(tmp_path: Path, treasury_file: str, *unit: str) -> Path:
    lake = tmp_path / treasury_file.replace(".", "_")
    assert fiscal("ingest", FILES / "counties.parquet", "--kind", "counties", "--data", lake).returncode == 0
    result = fiscal("ingest", FILES / treasury_file, "--kind", "treasury", "--data", lake, *unit)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "已导入，新版本 1" in result.stdout
    return lake


def metrics_json(lake: Path, as_of: str) -> list[dict]:
    result = fiscal("metrics", "--data", lake, "--as-of", as_of, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_bureau_export_gives_the_same_numbers_as_the_clean_file(tmp_path):
    clean = metrics_json(loaded_lake(tmp_path, "treasury_wanyuan.csv"), "2025-03-03")
    messy = metrics_json(loaded_lake(tmp_path, "treasury_gbk_yuan.csv", "--unit", "元"), "2025-03-03")
    assert messy == clean
    first = {r["county_code"]: r for r in clean}["330102"]
    assert (first["treasury_date"], first["treasury_balance"]) == ("2025-03-03", 1300.0)


def test_xlsx_with_title_rows_gives_the_same_numbers(tmp_path):
    clean = metrics_json(loaded_lake(tmp_path, "treasury_wanyuan.csv"), "2025-03-03")
    assert metrics_json(loaded_lake(tmp_path, "treasury_sheets.xlsx"), "2025-03-03") == clean


def test_a_read_only_command_ends_with_its_exit_code_and_all_of_its_output(tmp_path):
    # (they skip the interpreter's teardown once their output is flushed)
    lake = tmp_path / "lake"
    assert fiscal("ingest", FILES / "counties.parquet", "--kind", "counties", "--data", lake).returncode == 0
    refused = fiscal("metrics", "--data", lake, "--format", "json")
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr == "错误：数据湖中没有库款数据，请用 --as-of 指定日期\n"
    listed = fiscal("history", "--data", lake)
    assert listed.returncode == 0 and listed.stdout.splitlines()[1].startswith("   0  ")


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path):
    # `fiscal metrics | head`: more output than a pipe holds, and the reader closes after a few bytes
    lake = tmp_path / "lake"
    assert fiscal("demo", "--out", lake, "--counties", "200", "--years", "1").returncode == 0
    process = subprocess.Popen([sys.executable, "-m", "fiscal", "metrics", "--data", str(lake), "--format", "json"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.read(10) == b'[{"county_'
    process.stdout.close()
    assert process.wait(timeout=60) == 1
    assert process.stderr.read() == b""


def test_metrics_json_shape(tmp_path):
    records = metrics_json(loaded_lake(tmp_path, "treasury_wanyuan.csv"), "2025-03-03")
    assert [tuple(r) for r in records] == [METRIC_KEYS] * 3
    assert [r["county_code"] for r in records] == ["330102", "330105", "330106"]
    assert all(r["as_of"] == "2025-03-03" and isinstance(r["reasons"], list) for r in records)


@pytest.mark.parametrize("as_of, with_nulls", [("2026-03-10", False), ("2023-02-01", True)])
def test_metrics_json_written_by_duckdb_equals_the_frame_converted_in_python(as_of, with_nulls):
    """The CLI writes each object in SQL; the pages' frame goes through pandas and
    `to_records`. Same keys, order, values and nulls (2023-02-01 has counties without history)."""
    from fiscal.indicators import metrics, to_records
    from fiscal.policy import load_policy
    from fiscal.settings import DEMO_LAKE

    printed = metrics_json(DEMO_LAKE, as_of)
    frame = metrics(Lake(DEMO_LAKE).snapshot(), dt.date.fromisoformat(as_of), load_policy())
    assert printed == to_records(frame)
    assert any(value is None for record in printed for value in record.values()) == with_nulls


@pytest.mark.parametrize("bad_file, expected", [
    ("treasury_bad_values.csv", "错误 第"),
    ("treasury_duplicates.csv", "重复"),
    ("treasury_missing_column.csv", "缺少"),
    ("treasury_header_only.csv", "没有数据行"),
    ("empty.csv", "文件为空"),
    ("corrupt.xlsx", "错误"),
])
def test_rejected_ingest_leaves_the_lake_byte_identical(tmp_path, bad_file, expected):
    lake = loaded_lake(tmp_path, "treasury_wanyuan.csv")
    before = lake_fingerprint(lake)
    result = fiscal("ingest", FILES / bad_file, "--kind", "treasury", "--data", lake)
    assert result.returncode == 1
    assert expected in result.stdout
    assert "数据湖未改变" in result.stdout
    assert lake_fingerprint(lake) == before


def test_validate_exit_codes(tmp_path):
    lake = loaded_lake(tmp_path, "treasury_wanyuan.csv")
    ok = fiscal("validate", FILES / "treasury_gbk_yuan.csv", "--kind", "treasury", "--unit", "元", "--data", lake)
    assert ok.returncode == 0 and "可以导入" in ok.stdout and "替换 " in ok.stdout
    bad = fiscal("validate", FILES / "treasury_bad_values.csv", "--kind", "treasury", "--data", lake)
    assert bad.returncode == 1 and "不能导入" in bad.stdout


def test_unknown_county_is_rejected(tmp_path):
    lake = tmp_path / "empty_lake"
    result = fiscal("validate", FILES / "treasury_wanyuan.csv", "--kind", "treasury", "--data", lake)
    assert result.returncode == 1
    assert "330102" in result.stdout


def test_history_and_rollback(tmp_path):
    lake = loaded_lake(tmp_path, "treasury_wanyuan.csv")
    header, *history = fiscal("history", "--data", lake).stdout.splitlines()
    assert header.startswith("版本  时间（北京时间）")
    assert [line.split()[0] for line in history] == ["1", "0"]
    assert "treasury_wanyuan.csv" in history[0] and "导入" in history[0]
    utc = Lake(lake).history()[0].timestamp  # stored in UTC, shown in Beijing time (UTC+8)
    assert f"{utc + dt.timedelta(hours=8):%Y-%m-%d %H:%M:%S}" in history[0]
    assert fiscal("rollback", "0", "--data", lake).returncode == 0
    assert metrics_json(lake, "2025-03-03")[0]["treasury_balance"] is None
    refused = fiscal("rollback", "9", "--data", lake)
    assert refused.returncode == 1 and "没有版本 9" in refused.stderr


def test_validate_names_a_date_out_of_range_and_exits_1():
    result = fiscal("validate", FILES / "uploads" / "date_out_of_range.csv", "--kind", "treasury",
                    "--data", ROOT / "data" / "demo")
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines() == [
        "错误 第 3 行，列「日期」，值「1500-01-01」：日期不在合理范围（2000–2100 年）",
        "错误 第 4 行，列「日期」，值「9999-12-31」：日期不在合理范围（2000–2100 年）",
        "不能导入：2 个错误，0 个提示",
    ]


def test_a_not_a_number_indicator_is_null_in_the_json(make_lake):
    # A budget of 0 with nothing collected (written straight to the lake, past the upload
    # checks) makes 0 / 0: the progress is NaN, which JSON has no word for.
    lake = make_lake(revenue=[("000001", 2025, 3, "税收收入", 0.0, 0.0)],
                     treasury=[("000001", dt.date(2025, 3, 9), 650.0, 0.0, 0.0)])
    result = fiscal("metrics", "--data", lake.root, "--as-of", "2025-03-10", "--format", "json")
    assert result.returncode == 0, result.stderr

    def no_constants(token):
        raise AssertionError(f"{token} in the JSON")

    [row] = json.loads(result.stdout, parse_constant=no_constants)
    assert (row["revenue_month"], row["revenue_progress"], row["revenue_gap_pp"]) == (3, None, None)
    assert row["time_progress"] == 0.25 and row["treasury_balance"] == 650.0
