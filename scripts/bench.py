"""National-scale benchmark: one table of the figures that matter, their bars, and baselines
measured in the same run (numbers for the record; no assertions).

    python scripts/bench.py [--lake build/national] [--runs 3] [--before [--before-ingest]] [--skip-ingest]

Builds the national lake if it is missing: 2,844 counties × 3 years, treasury and payroll
account on every calendar day (`fiscal demo --daily`). Whole-process figures are the
median wall time of --runs runs and their peak RSS (`/usr/bin/time -v`); in-process
figures are the median of warm calls. Each figure is printed next to a baseline run in the
same process conditions (DuckDB reading just the columns the figure needs; pandas
`read_csv` of the export), because the machine's load moves every number. With --before,
the implementation at BEFORE (recovered from git into build/before) runs too, and
`metrics` is compared with it field by field.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEFORE = "31e8a6775b51a33dba65d242d0aec3433635aef7"  # the last commit before the national-scale work
AS_OF = "2026-11-20"
EXPORT_ROWS = 1_000_000


@dataclass
class Figure:
    name: str
    seconds: float
    rss_mb: float | None
    bar: str
    baseline: str = ""
    before: str = ""


def measure(command: list[str], cwd: Path, runs: int, stdin: str | None = None,
            env: Callable[[], dict] | None = None) -> tuple[float, float]:
    """Median wall seconds and the largest peak RSS (MB) of `command` over `runs` runs (each
    with the environment `env()` gives, when given)."""
    walls, peaks = [], []
    for _ in range(runs):
        result = subprocess.run(["/usr/bin/time", "-v", *command], cwd=cwd, capture_output=True, text=True,
                                input=stdin, env=env() if env else None)
        if result.returncode != 0:
            raise SystemExit(f"failed: {' '.join(command)}\n{result.stderr[-2000:]}")
        walls.append(_time_field(result.stderr, r"Elapsed \(wall clock\) time.*: (.+)"))
        peaks.append(int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)[1]) / 1024)
    return statistics.median(walls), max(peaks)


def _time_field(text: str, pattern: str) -> float:
    value = re.search(pattern, text)[1].strip()
    seconds = 0.0
    for part in value.split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def python(code: str, tree: Path, *args: str) -> list[str]:
    """A Python process that imports `fiscal` from `tree`."""
    return [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(tree)!r})\n" + textwrap.dedent(code), *args]


def in_process(code: str, tree: Path, *args: str) -> dict:
    """Run timing code against the `fiscal` of `tree`; it prints a JSON object."""
    result = subprocess.run(python(code, tree, *args), cwd=tree, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(result.stderr[-2000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


WARM_CALLS = """
import datetime as dt, json, statistics, time
from fiscal.lake import Lake
from fiscal.policy import load_policy
from fiscal import reports
snapshot = Lake({lake!r}).snapshot(); policy = load_policy(); as_of = dt.date.fromisoformat({as_of!r})
def warm(fn, n=5):
    fn()
    times = []
    for _ in range(n):
        start = time.perf_counter(); fn(); times.append(time.perf_counter() - start)
    return statistics.median(times)
print(json.dumps({{
    "panel": warm(lambda: reports.indicator_panel(snapshot, as_of, policy)),
    "payday_history": warm(lambda: reports.payday_history(snapshot, as_of, policy)),
}}))
"""

# What the metrics need from the lake, read by DuckDB and nothing else: the floor.
READ_COLUMNS = """
import duckdb, json, statistics, sys, time
from fiscal.lake import Lake
files = Lake(sys.argv[1]).snapshot().files
def read():
    con = duckdb.connect()
    for kind, columns in (("treasury", "county_code, date, balance, inflow, outflow"),
                          ("payroll_account", "county_code, date, balance"),
                          ("payroll_schedule", "county_code, payday, amount_due"),
                          ("revenue", "*"), ("advances", "*"), ("counties", "*")):
        con.execute(f"SELECT {columns} FROM read_parquet($f)", {"f": files[kind]}).to_arrow_table()
if len(sys.argv) > 2:
    read(); times = []
    for _ in range(5):
        start = time.perf_counter(); read(); times.append(time.perf_counter() - start)
    print(json.dumps({"read": statistics.median(times)}))
else:
    read()
"""


def ensure_lake(lake: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from fiscal.lake import Lake

    if not Lake(lake).history():
        print(f"building the national lake in {lake} …", flush=True)
        subprocess.run([sys.executable, "-m", "fiscal", "demo", "--out", str(lake), "--counties", "2844",
                        "--years", "3", "--daily"], cwd=ROOT, check=True)


def ensure_before(tree: Path) -> Path:
    """The pre-change implementation, from git (the comparison's reference; never imported here)."""
    if not (tree / "fiscal").is_dir():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", BEFORE, "fiscal", "data/policy.toml"], cwd=ROOT,
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def compare_metrics(lake: Path, before: Path) -> str:
    """Field by field: identical, within 1e-12 relative (the old floating sums), or different."""
    def run(tree: Path) -> list[dict]:
        out = subprocess.run([sys.executable, "-m", "fiscal", "metrics", "--data", str(lake), "--as-of", AS_OF,
                              "--format", "json"], cwd=tree, capture_output=True, text=True, check=True).stdout
        return json.loads(out)

    old, new = run(before), run(ROOT)
    same = close = reworded = 0
    different = []
    for a, b in zip(old, new, strict=True):
        for key in a:
            if a[key] == b[key]:
                same += 1
            elif isinstance(a[key], float) and isinstance(b[key], float) and math.isclose(a[key], b[key], rel_tol=1e-12):
                close += 1
            elif key == "reasons" and len(a[key]) == len(b[key]) and all(map(_same_figures, a[key], b[key])):
                reworded += 1
            else:
                different.append((a["county_code"], key, a[key], b[key]))
    text = (f"metrics vs before: {same} fields identical, {close} within 1e-12 relative, {reworded} reasons with "
            f"the same figures in today's number format (5,336.45 万元; 5.6%), {len(different)} different")
    return text + "".join(f"\n  {d}" for d in different[:10])


def _same_figures(old: str, new: str) -> bool:
    """One reason before and after amounts got thousands separators and percentages one decimal
    (so a figure may differ by the half unit of its last digit)."""
    def figures(text: str) -> list[float]:
        return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", text.replace(",", ""))]

    old_figures, new_figures = figures(old), figures(new)
    return (re.sub(r"[\d.,\-]+", "#", old) == re.sub(r"[\d.,\-]+", "#", new) and len(old_figures) == len(new_figures)
            and all(math.isclose(x, y, abs_tol=0.0501) for x, y in zip(old_figures, new_figures)))


def treasury_exports(lake: Path, folder: Path) -> tuple[Path, Path]:
    """The canonical treasury parquet of the lake, and a 1,000,000-row export of it as a bank
    system writes one: GBK CSV in 元, a title line and a unit line, dates as 2025/07/13."""
    parquet, csv = folder / "treasury.parquet", folder / "treasury_export_gbk.csv"
    if parquet.exists() and csv.exists():
        return parquet, csv
    import duckdb

    sys.path.insert(0, str(ROOT))
    from fiscal.lake import Lake

    files = Lake(lake).snapshot().files["treasury"]
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * FROM read_parquet($f) ORDER BY county_code, date) TO '{parquet}' (FORMAT parquet)",
                {"f": files})
    rows = con.execute(
        """SELECT county_code, strftime(date, '%Y/%m/%d'), printf('%.2f', balance * 10000),
                  printf('%.2f', inflow * 10000), printf('%.2f', outflow * 10000)
           FROM read_parquet($f) ORDER BY date DESC, county_code LIMIT $n""", {"f": files, "n": EXPORT_ROWS}).fetchall()
    with open(csv, "w", encoding="gbk", newline="") as out:
        out.write("演示市2026年库款日报表\r\n单位：元\r\n区划代码,日期,期末库款余额,本期库款流入,本期库款流出\r\n")
        out.writelines(",".join(row) + "\r\n" for row in rows)
    return parquet, csv


def ingest_command(file: Path, data: Path) -> list[str]:
    return [sys.executable, "-m", "fiscal", "ingest", str(file), "--kind", "treasury", "--data", str(data),
            "--user", "bench"]


def bench_ingest(lake: Path, tree: Path, runs: int, work: Path, label: str) -> tuple[tuple, tuple]:
    """(first load of the canonical parquet into an empty lake, 1M-row export replacing rows)."""
    parquet, csv = treasury_exports(lake, work)
    first, replace = [], []
    for _ in range(runs):
        empty = Path(tempfile.mkdtemp(prefix=f"bench-{label}-", dir=work))
        shutil.copytree(lake / "counties", empty / "counties")
        first.append(measure(ingest_command(parquet, empty), tree, 1))
        replace.append(measure(ingest_command(csv, empty), tree, 1))
        shutil.rmtree(empty)
    median = lambda xs: (statistics.median(x[0] for x in xs), max(x[1] for x in xs))  # noqa: E731
    return median(first), median(replace)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake", type=Path, default=ROOT / "build" / "national")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", action="store_true", help="also run the pre-change implementation")
    parser.add_argument("--before-ingest", action="store_true",
                        help="with --before, also the old ingest (minutes: it typed every cell in Python)")
    parser.add_argument("--skip-ingest", action="store_true")
    args = parser.parse_args()
    lake = args.lake.resolve()
    ensure_lake(lake)
    work = ROOT / "build" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    before = ensure_before(ROOT / "build" / "before") if args.before else None
    metrics = [sys.executable, "-m", "fiscal", "metrics", "--data", str(lake), "--as-of", AS_OF, "--format", "json"]
    figures = []

    floor = measure(python(READ_COLUMNS, ROOT, str(lake)), ROOT, args.runs)
    # What a user would write instead: SPEC §4–5 in plain vectorised pandas, same output.
    plain = measure([sys.executable, "scripts/pandas_metrics.py", "--data", str(lake), "--as-of", AS_OF], ROOT,
                    args.runs)
    # the first run after a new treasury version sums the months and keeps them beside the lake
    # (an empty cache directory each run); every later run reads them
    caches = Path(tempfile.mkdtemp(prefix="metrics-first-run-", dir=work))
    first = measure(metrics, ROOT, args.runs, env=lambda: {**os.environ, "FISCAL_CACHE": tempfile.mkdtemp(dir=caches)})
    shutil.rmtree(caches)
    subprocess.run(metrics, cwd=ROOT, capture_output=True, check=True)
    now = measure(metrics, ROOT, args.runs)
    old = measure(metrics, before, args.runs) if before else None
    figures.append(Figure("fiscal metrics --format json（整个进程）", *now, "≤ 0.8 s, ≤ 500 MB",
                          f"DuckDB 只读所需列 {floor[0]:.2f} s {floor[1]:.0f} MB（{now[0] / floor[0]:.1f}×）；"
                          f"pandas 实现 {plain[0]:.1f} s {plain[1]:.0f} MB",
                          f"{old[0]:.2f} s {old[1]:.0f} MB" if old else ""))
    figures.append(Figure("  其中新数据版本后的第一次（汇总各月并保存）", *first, "≤ 0.8 s, ≤ 500 MB"))

    warm = in_process(WARM_CALLS.format(lake=str(lake), as_of=AS_OF), ROOT)
    read = in_process(READ_COLUMNS, ROOT, str(lake), "warm")
    warm_old = in_process(WARM_CALLS.format(lake=str(lake), as_of=AS_OF), before) if before else {}
    figures.append(Figure("指标面板（A + 12 个月末 + A−7），进程内热", warm["panel"], None, "≤ 0.5 s",
                          f"DuckDB 只读所需列 {read['read']:.2f} s",
                          f"{warm_old['panel']:.2f} s" if warm_old else ""))
    figures.append(Figure("发薪历史（县 × 月状态），进程内热", warm["payday_history"], None, "≤ 0.3 s", "",
                          f"{warm_old['payday_history']:.2f} s" if warm_old else ""))

    if not args.skip_ingest:
        parquet, csv = treasury_exports(lake, work)
        read_csv = measure([sys.executable, "-c", "import pandas, sys; pandas.read_csv(sys.argv[1], encoding='gbk', "
                            "skiprows=2, dtype={'区划代码': str})", str(csv)], ROOT, args.runs)
        first, replace = bench_ingest(lake, ROOT, args.runs, work, "now")
        first_old, replace_old = (bench_ingest(lake, before, 1, work, "before") if before and args.before_ingest
                                  else (None, None))
        figures.append(Figure(f"fiscal ingest 规范 parquet {_rows(parquet)} 行到空数据湖", *first, "≤ 10 s", "",
                              f"{first_old[0]:.1f} s {first_old[1]:.0f} MB" if first_old else ""))
        figures.append(Figure(f"fiscal ingest GBK CSV（元）{EXPORT_ROWS:,} 行替换", *replace,
                              "≤ 10× read_csv, ≤ 1.5 GB",
                              f"pandas read_csv {read_csv[0]:.2f} s {read_csv[1]:.0f} MB"
                              f"（{replace[0] / read_csv[0]:.1f}×）",
                              f"{replace_old[0]:.1f} s {replace_old[1]:.0f} MB" if replace_old else ""))

    load = os.getloadavg()
    print(f"\nlake {lake}  as of {AS_OF}  load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} "
          f"on {os.cpu_count()} CPUs (other work on the machine slows every column alike)")
    print(f"{'figure':<44}{'this run':>10}{'peak RSS':>10}  {'bar':<26}{'baseline, same run':<62}before ({BEFORE[:7]})")
    for f in figures:
        rss = f"{f.rss_mb:.0f} MB" if f.rss_mb is not None else ""
        print(f"{f.name:<44}{f.seconds:>9.2f}s{rss:>10}  {f.bar:<26}{f.baseline:<62}{f.before}")
    if before:
        print(compare_metrics(lake, before))


def _rows(parquet: Path) -> str:
    import duckdb

    [(count,)] = duckdb.execute("SELECT count(*) FROM read_parquet($f)", {"f": str(parquet)}).fetchall()
    return f"{count:,}"


if __name__ == "__main__":
    main()
