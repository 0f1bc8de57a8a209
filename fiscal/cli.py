"""`python -m fiscal` — the command line of SPEC §6."""
from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import sys
from pathlib import Path

from .auth import DISPLAY_TZ, AuthConfigError
from .extracts import KINDS, UNITS
from .lake import Lake, LakeError
from .policy import DEFAULT_POLICY_PATH, PolicyError, load_policy

DEMO_LAKE = Path(__file__).resolve().parent.parent / "data" / "demo"


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期应为 YYYY-MM-DD：{text}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fiscal", description="县区库款与三保流动性监测")
    sub = parser.add_subparsers(dest="command", required=True)

    def data_arg(p):
        p.add_argument("--data", type=Path, default=DEMO_LAKE, help="数据湖目录（默认：随附的演示数据）")

    demo = sub.add_parser("demo", help="生成确定性的演示数据湖")
    demo.add_argument("--out", type=Path, required=True)
    demo.add_argument("--counties", type=int, default=30)
    demo.add_argument("--years", type=int, default=3)
    demo.add_argument("--seed", type=int, default=2025)

    for name, text in (("validate", "检查文件是否可以导入"), ("ingest", "检查并导入文件，生成新版本")):
        p = sub.add_parser(name, help=text)
        p.add_argument("file", type=Path)
        p.add_argument("--kind", choices=sorted(KINDS), help="数据类型（省略时按表头识别）")
        p.add_argument("--unit", choices=list(UNITS), help="金额单位（省略时读取文件中的“单位：”行，默认万元）")
        data_arg(p)
        if name == "ingest":
            p.add_argument("--user", default=getpass.getuser(), help="记录在版本历史中的操作人")

    data_arg(sub.add_parser("history", help="版本历史（最新在前）"))

    rollback = sub.add_parser("rollback", help="回滚到某个版本（生成新版本）")
    rollback.add_argument("version", type=int)
    rollback.add_argument("--user", default=getpass.getuser())
    data_arg(rollback)

    metrics = sub.add_parser("metrics", help="各县区指标与风险等级")
    metrics.add_argument("--as-of", type=_date, help="截至日期（默认：库款数据最新日期）")
    metrics.add_argument("--format", choices=["json", "csv"], default="json")
    metrics.add_argument("--policy", type=Path, default=DEFAULT_POLICY_PATH)
    data_arg(metrics)

    add_user = sub.add_parser("add-user", help="添加分析员账号或修改其密码（写入 .streamlit/secrets.toml）")
    add_user.add_argument("name", help="用户名（字母、数字、汉字和 . _ - @）")
    add_user.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码（第一行），用于脚本")
    add_user.add_argument("--secrets", type=Path, default=None,
                          help="账号配置文件（默认：环境变量 FISCAL_SECRETS，否则项目的 .streamlit/secrets.toml）")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (LakeError, PolicyError, AuthConfigError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1


def cmd_demo(args) -> int:
    from .demo import build_frames

    frames = build_frames(counties=args.counties, years=args.years, seed=args.seed)
    version = Lake(args.out).replace_all(frames, user="demo", note=f"演示数据 {args.counties} 县 {args.years} 年 seed={args.seed}")
    rows = sum(len(f) for f in frames.values())
    print(f"演示数据（虚构）已写入 {args.out}：{args.counties} 个县区，{rows} 行，版本 {version}")
    return 0


def _report(checked) -> None:
    for problem in checked.problems:
        print(("错误 " if problem.level == "error" else "提示 ") + problem.message)
    extract = checked.extract
    if checked.ok:
        p = checked.preview
        span = f"，日期 {p.first_date} 至 {p.last_date}" if p.first_date else ""
        print(f"可以导入：{KINDS[extract.kind].label} {len(extract.frame)} 行（单位{extract.unit}），"
              f"新增 {p.new_rows} 行，替换 {p.replaced_rows} 行，涉及 {len(p.counties)} 个县区{span}")
    else:
        print(f"不能导入：{len(checked.errors)} 个错误，{len(checked.warnings)} 个提示")


def cmd_validate(args) -> int:
    from .ingest import check

    checked = check(Lake(args.data), args.file, kind=args.kind, unit=args.unit)
    _report(checked)
    return 0 if checked.ok else 1


def cmd_ingest(args) -> int:
    from .ingest import ingest

    result = ingest(Lake(args.data), args.file, kind=args.kind, unit=args.unit, user=args.user)
    _report(result)
    if result.version is None:
        print("数据湖未改变")
        return 1
    print(f"已导入，新版本 {result.version}")
    return 0


def cmd_history(args) -> int:
    commits = Lake(args.data).history()
    if not commits:
        print("数据湖中还没有版本")
        return 0
    print("版本  时间（北京时间）         操作  操作人      数据类型                  行数  文件 / SHA-256 / 说明")
    for c in commits:
        detail = " ".join(x for x in (c.file_name, c.sha256[:12], c.note) if x)
        print(f"{c.lake_version:>4}  {c.timestamp.astimezone(DISPLAY_TZ):%Y-%m-%d %H:%M:%S}  {c.operation_label:<4}  {c.user:<10}  "
              f"{','.join(c.kinds):<24}  {c.rows:>8} 行  {detail}")
    return 0


def cmd_rollback(args) -> int:
    version = Lake(args.data).rollback(args.version, user=args.user)
    print(f"已回滚到版本 {args.version}，新版本 {version}")
    return 0


def cmd_metrics(args) -> int:
    from .indicators import METRIC_KEYS, metrics, to_records
    from .reports import latest_date

    lake = Lake(args.data)
    snapshot = lake.snapshot()
    as_of = args.as_of or latest_date(snapshot)
    if as_of is None:
        print("错误：数据湖中没有库款数据，请用 --as-of 指定日期", file=sys.stderr)
        return 1
    frame = metrics(snapshot, as_of, load_policy(args.policy))
    if args.format == "json":
        # indented only for a person at a terminal: the C encoder (no indent) is several times faster
        print(json.dumps(to_records(frame), ensure_ascii=False, indent=2 if sys.stdout.isatty() else None))
    else:
        table = frame[list(METRIC_KEYS)].assign(reasons=frame["reasons"].map("；".join))
        table.to_csv(sys.stdout, index=False)
    return 0


def cmd_add_user(args) -> int:
    from .auth import MIN_PASSWORD_LENGTH, secrets_path, set_password

    path = args.secrets or secrets_path()
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"{args.name} 的密码（至少 {MIN_PASSWORD_LENGTH} 个字符）：")
        if getpass.getpass("再输入一次：") != password:
            print("错误：两次输入的密码不一致，未做修改", file=sys.stderr)
            return 1
    created = set_password(args.name, password, path)
    print(f"{'已添加分析员' if created else '已更新密码：'} {args.name}（{path}）")
    return 0


COMMANDS = {
    "demo": cmd_demo, "validate": cmd_validate, "ingest": cmd_ingest,
    "history": cmd_history, "rollback": cmd_rollback, "metrics": cmd_metrics,
    "add-user": cmd_add_user,
}
