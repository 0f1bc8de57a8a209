"""The query runner's derived summaries: monthly treasury flows kept beside the lake, per
treasury version, and read by the next process instead of summing the daily rows again."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from fiscal.queries import cache_dir_for, parsed
from tests.conftest import D

ROOT = Path(__file__).resolve().parent.parent

# Outflows of 3,000 / 2,500 / 2,200 in the three months before March 2025: 7,700 / 3 a month.
TREASURY = [
    ("000001", D(2024, 12, 16), 1000.0, 0.0, 3000.0),
    ("000001", D(2025, 1, 15), 900.0, 0.0, 2500.0),
    ("000001", D(2025, 2, 14), 700.0, 0.0, 2200.0),
    ("000001", D(2025, 3, 9), 650.0, 0.0, 0.0),
]


def metrics(lake_root: Path, **env: str) -> dict:
    """`fiscal metrics` in a new process (what keeps nothing in memory from an earlier run)."""
    out = subprocess.run([sys.executable, "-m", "fiscal", "metrics", "--data", str(lake_root), "--as-of",
                          "2025-03-10", "--format", "json"], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**_base_env(), **env})
    [row] = json.loads(out.stdout)
    return row


def _base_env() -> dict:
    return {k: v for k, v in os.environ.items() if k != "FISCAL_CACHE"}


def files_under(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def cached_files(lake_root: Path) -> list[Path]:
    return sorted((lake_root.parent / "cache" / lake_root.name).glob("treasury-months-*.parquet"))


def test_the_next_process_reads_the_monthly_flows_kept_beside_the_lake(make_lake):
    lake = make_lake(treasury=TREASURY)
    before = files_under(lake.root)
    assert metrics(lake.root)["avg_monthly_outflow"] == pytest.approx(7700 / 3)
    [saved] = cached_files(lake.root)
    assert files_under(lake.root) == before  # the lake itself is not written

    # What the file says is what the next process uses: double every outflow in it (in 1e-6 万元).
    with duckdb.connect() as con:
        con.execute("COPY (SELECT county_code, month, inflow, outflow * 2 AS outflow FROM read_parquet($f)) "
                    "TO $out (FORMAT parquet)", {"f": str(saved), "out": str(saved) + ".new"})
    Path(str(saved) + ".new").replace(saved)
    assert metrics(lake.root)["avg_monthly_outflow"] == pytest.approx(2 * 7700 / 3)


def test_new_treasury_rows_are_summed_anew_under_a_new_name(make_lake):
    lake = make_lake(treasury=TREASURY)
    metrics(lake.root)
    [first] = cached_files(lake.root)
    extra = make_lake("other", treasury=[("000001", D(2025, 2, 20), 500.0, 0.0, 800.0)])
    lake.upsert("treasury", extra.read("treasury"), user="test")  # February's outflow: 2,200 + 800
    assert metrics(lake.root)["avg_monthly_outflow"] == pytest.approx(8500 / 3)
    assert first in cached_files(lake.root) and len(cached_files(lake.root)) == 2


def test_a_damaged_file_is_summed_again_and_replaced(make_lake):
    lake = make_lake(treasury=TREASURY)
    metrics(lake.root)
    [saved] = cached_files(lake.root)
    good = rows_of(saved)
    saved.write_bytes(saved.read_bytes()[: saved.stat().st_size // 2])  # a copy cut short
    assert metrics(lake.root)["avg_monthly_outflow"] == pytest.approx(7700 / 3)
    assert rows_of(saved) == good  # written again, whole


def rows_of(parquet: Path) -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute("SELECT * FROM read_parquet($f) ORDER BY ALL", {"f": str(parquet)}).fetchall()


def test_no_cache_inside_the_lake_or_where_it_cannot_be_written(make_lake, tmp_path, monkeypatch):
    lake = make_lake(treasury=TREASURY)
    before = files_under(lake.root)
    assert metrics(lake.root, FISCAL_CACHE=str(lake.root / "cache"))["avg_monthly_outflow"] == pytest.approx(7700 / 3)
    assert files_under(lake.root) == before
    monkeypatch.setenv("FISCAL_CACHE", str(lake.root / "cache"))
    assert cache_dir_for(lake.root) is None
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    monkeypatch.setenv("FISCAL_CACHE", str(blocked / "cache"))
    assert cache_dir_for(lake.root) is None
    monkeypatch.setenv("FISCAL_CACHE", str(tmp_path / "elsewhere"))
    assert cache_dir_for(lake.root) == (tmp_path / "elsewhere").resolve()


@pytest.mark.parametrize("path", sorted((ROOT / "fiscal" / "sql").glob("*.sql")), ids=lambda p: p.stem)
def test_each_query_file_is_one_statement_whose_parameters_are_those_duckdb_finds(path):
    body = path.read_text(encoding="utf-8")
    if path.stem == "macros":  # run as a script when a connection is made, never bound
        return
    [statement] = duckdb.extract_statements(body)
    query, parameters = parsed(body)
    assert parameters == set(statement.named_parameters)
    assert query == statement.query.strip().removesuffix(";").rstrip()


def test_a_dollar_name_in_a_comment_or_in_quoted_text_is_not_a_parameter():
    body = "-- uses $a\nSELECT 'costs $b', 'it''s $e', $c /* not $d */ FROM t;\n"
    assert parsed(body) == ("SELECT 'costs $b', 'it''s $e', $c /* not $d */ FROM t", {"c"})
    assert set(duckdb.extract_statements(body)[0].named_parameters) == {"c"}
