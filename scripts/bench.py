"""National-scale benchmark: prints a timing table (no assertions; numbers for the record).

    python scripts/bench.py [--lake build/national] [--counties 2844] [--years 3]

Builds the demo lake if it is missing (timed), then times the CLI end to end and the core
queries in-process, cold (first call in the process) and warm (median of five).
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fiscal.indicators import metrics, tier_changes, tier_history  # noqa: E402
from fiscal.lake import Lake  # noqa: E402
from fiscal.policy import load_policy  # noqa: E402
from fiscal.reports import freshness, latest_date  # noqa: E402


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lake", type=Path, default=ROOT / "build" / "national")
    parser.add_argument("--counties", type=int, default=2844)
    parser.add_argument("--years", type=int, default=3)
    args = parser.parse_args()

    rows = []
    if not Lake(args.lake).history():
        command = [sys.executable, "-m", "fiscal", "demo", "--out", str(args.lake),
                   "--counties", str(args.counties), "--years", str(args.years)]
        rows.append(("fiscal demo（生成并写入数据湖）", timed(lambda: subprocess.run(command, cwd=ROOT, check=True,
                                                                             capture_output=True)), None))
    lake = Lake(args.lake)
    snapshot = lake.snapshot()
    as_of = latest_date(snapshot)
    policy = load_policy()
    cli = [sys.executable, "-m", "fiscal", "metrics", "--data", str(args.lake), "--as-of", as_of.isoformat(),
           "--format", "json"]
    rows.append(("fiscal metrics（命令行，含启动）", timed(lambda: subprocess.run(cli, cwd=ROOT, check=True,
                                                                        capture_output=True)), None))
    for label, call in [
        ("Lake.snapshot", lake.snapshot),
        ("metrics（全部县区）", lambda: metrics(snapshot, as_of, policy)),
        ("tier_history（13 个截至日）", lambda: tier_history(snapshot, as_of, policy)),
        ("tier_changes（本周变化）", lambda: tier_changes(snapshot, as_of, policy)),
        ("freshness", lambda: freshness(snapshot, as_of)),
    ]:
        cold = timed(call)
        warm = statistics.median(timed(call) for _ in range(5))
        rows.append((label, cold, warm))

    counties = len(lake.read("counties"))
    print(f"lake: {args.lake}  counties: {counties}  as_of: {as_of}")
    print(f"{'operation':<36}{'cold s':>10}{'warm s':>10}")
    for label, cold, warm in rows:
        print(f"{label:<36}{cold:>10.3f}{'' if warm is None else f'{warm:>10.3f}'}")


if __name__ == "__main__":
    main()
