"""National-scale timing of SPEC §9 (dispatch, prompt letters, weekly brief): prints a table, asserts nothing.

    python scripts/bench_actions.py [--lake build/national]

The lake must exist (`make demo-national`, or scripts/bench.py builds it). Times the CLI end
to end (start-up included) and the core in-process, cold (first call) and warm (median of
three). The in-process letters row renders the month's letters without registering them;
the CLI `letters` row registers them on its first run in a lake and re-issues the registered
files (after checking they are unchanged) on later runs.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fiscal import brief  # noqa: E402
from fiscal.dispatch import dispatch  # noqa: E402
from fiscal.indicators import metrics  # noqa: E402
from fiscal.issuing import drafts  # noqa: E402
from fiscal.lake import Lake  # noqa: E402
from fiscal.letters import letter_number, to_docx  # noqa: E402
from fiscal.policy import load_policy  # noqa: E402
from fiscal.reports import indicator_panel, latest_date  # noqa: E402


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def cli(*args: str) -> float:
    return timed(lambda: subprocess.run([sys.executable, "-m", "fiscal", *args], cwd=ROOT, check=True,
                                        capture_output=True))


def month_of_letters(snapshot, as_of, policy) -> int:
    plan = drafts(snapshot, as_of, policy)
    numbers = {c: letter_number(policy.number_prefix, as_of.year, i + 1) for i, c in enumerate(plan.rows["county_code"])}
    for letter in plan.compose(policy, numbers, as_of):
        to_docx(letter)
    return len(plan.rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lake", type=Path, default=ROOT / "build" / "national")
    args = parser.parse_args()
    if not (args.lake / "treasury").is_dir():
        sys.exit(f"no lake at {args.lake}: run `make demo-national` first")
    lake = Lake(args.lake)
    snapshot = lake.snapshot()
    as_of = latest_date(snapshot)
    policy = load_policy()
    data = ["--data", str(args.lake), "--as-of", as_of.isoformat()]
    rows = []
    with tempfile.TemporaryDirectory() as out:
        rows.append(("fiscal metrics（命令行，含启动）", cli("metrics", *data), None))
        rows.append(("fiscal dispatch（命令行，含启动）", cli("dispatch", *data), None))
        rows.append(("fiscal brief → .docx（命令行）", cli("brief", *data, "--out", f"{out}/brief.docx"), None))
        rows.append(("fiscal brief → .xlsx（命令行）", cli("brief", *data, "--out", f"{out}/brief.xlsx"), None))
        rows.append(("fiscal letters（命令行，含登记或核对）", cli("letters", *data, "--out", f"{out}/letters"), None))
        letters = len(list(Path(out, "letters").glob("*.docx")))
    panel = indicator_panel(snapshot, as_of, policy)
    built = brief.build(snapshot, as_of, policy, panel=panel)
    for label, call in [
        ("metrics（全部县区）", lambda: metrics(snapshot, as_of, policy)),
        ("dispatch（全部县区）", lambda: dispatch(snapshot, as_of, policy)),
        ("brief.build（已有指标面板）", lambda: brief.build(snapshot, as_of, policy, panel=panel)),
        ("brief.to_docx", lambda: brief.to_docx(built)),
        ("brief.to_xlsx", lambda: brief.to_xlsx(built)),
        (f"本月提示函 {letters} 份（选取、撰写、生成 .docx）", lambda: month_of_letters(snapshot, as_of, policy)),
    ]:
        cold = timed(call)
        warm = statistics.median(timed(call) for _ in range(3))
        rows.append((label, cold, warm))

    print(f"lake: {args.lake}  counties: {len(lake.read('counties'))}  as_of: {as_of}  letters due: {letters}")
    print(f"{'operation':<44}{'cold s':>10}{'warm s':>10}")
    for label, cold, warm in rows:
        print(f"{label:<44}{cold:>10.3f}{'' if warm is None else f'{warm:>10.3f}'}")


if __name__ == "__main__":
    main()
