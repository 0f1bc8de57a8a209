"""`python -m fiscal` — the command line of SPEC §6."""
from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import sys
from pathlib import Path

from .extracts import KINDS, UNITS
from .lake import Lake, LakeError
from .policy import PolicyError, load_policy
from .settings import DEFAULT_POLICY_PATH, DEMO_LAKE, DISPLAY_TZ
from .vocabulary import LEDGER_STATUSES


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期应为 YYYY-MM-DD：{text}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fiscal", description="县区库款与三保流动性监测")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="生成确定性的演示数据湖")
    demo.add_argument("--out", type=Path, required=True)
    demo.add_argument("--counties", type=int, default=30)
    demo.add_argument("--years", type=int, default=3)
    demo.add_argument("--seed", type=int, default=2025)
    demo.add_argument("--daily", action="store_true",
                      help="库款和工资专户每个自然日一行（如银行对账单；用于规模测试）")

    for name, text in (("validate", "检查文件是否可以导入"), ("ingest", "检查并导入文件，生成新版本")):
        p = sub.add_parser(name, help=text)
        p.add_argument("file", type=Path)
        p.add_argument("--kind", choices=sorted(KINDS), help="数据类型（省略时按表头识别）")
        p.add_argument("--unit", choices=list(UNITS), help="金额单位（省略时读取文件中的“单位：”行，默认万元）")
        _data_arg(p)
        if name == "ingest":
            p.add_argument("--user", default=getpass.getuser(), help="记录在版本历史中的操作人")

    _data_arg(sub.add_parser("history", help="版本历史（最新在前）"))

    rollback = sub.add_parser("rollback", help="回滚到某个版本（生成新版本）")
    rollback.add_argument("version", type=int)
    rollback.add_argument("--user", default=getpass.getuser())
    _data_arg(rollback)

    add_focus_commands(sub)
    add_ledger_commands(sub)

    _as_of_args(sub.add_parser("metrics", help="各县区指标与风险等级"))
    _as_of_args(sub.add_parser("dispatch", help="调度建议：各县区建议调度的库款"))

    letters = sub.add_parser("letters", help="签发本月库款保障水平偏低的提示函（Word），登记文号")
    letters.add_argument("--out", type=Path, required=True, help="提示函 .docx 的输出目录")
    letters.add_argument("--user", default=getpass.getuser(), help="记录在提示函登记中的签发人")
    letters.add_argument("--again", action="store_true",
                         help="本月已签发过提示函时，确认再次签发（使用新的文号）")
    _as_of_args(letters, formats=("json",))

    brief = sub.add_parser("brief", help="周调度简报（.docx 或 .xlsx，按文件后缀）")
    brief.add_argument("--out", type=Path, required=True, help="输出文件：.docx（打印、转发）、.xlsx 或 .html")
    _as_of_args(brief, formats=())

    add_user = sub.add_parser("add-user", help="添加分析员账号或修改其密码（写入 .streamlit/secrets.toml）")
    add_user.add_argument("name", help="用户名（字母、数字、汉字和 . _ - @）")
    add_user.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码（第一行），用于脚本")
    add_user.add_argument("--secrets", type=Path, default=None,
                          help="账号配置文件（默认：环境变量 FISCAL_SECRETS，否则项目的 .streamlit/secrets.toml）")
    return parser


def _data_arg(p) -> None:
    p.add_argument("--data", type=Path, default=DEMO_LAKE, help="数据湖目录（默认：随附的演示数据）")


def _as_of_args(p, formats: tuple[str, ...] = ("json", "csv")) -> None:
    """--as-of, --format (when the command prints a table), --policy and --data: what every
    command computed as of a date takes."""
    p.add_argument("--as-of", type=_date, help="截至日期（默认：库款数据最新日期）")
    if formats:
        p.add_argument("--format", choices=list(formats), default="json")
    p.add_argument("--policy", type=Path, default=DEFAULT_POLICY_PATH)
    _data_arg(p)


def _user_arg(p) -> None:
    p.add_argument("--user", default=getpass.getuser(), help="记录在版本历史和操作日志中的操作人（默认：当前系统用户）")


def add_focus_commands(sub) -> None:
    focus = sub.add_parser("focus", help="重点关注名单：人工列入、移出与查看（SPEC §9.3）")
    actions = focus.add_subparsers(dest="focus_command", required=True)
    for name, text in (("add", "人工列入重点关注名单"), ("remove", "人工移出重点关注名单（等级为重点关注也移出）"),
                       ("withdraw", "撤销此前的人工调整，恢复按风险等级计算")):
        p = actions.add_parser(name, help=text)
        p.add_argument("code", help="区划代码")
        p.add_argument("--reason", default="", help="理由（必填）")
        p.add_argument("--from", dest="effective_from", type=_date, help="生效日期（默认：今天）")
        p.add_argument("--until", type=_date, help="截止日期（含当天；省略：长期有效）")
        _user_arg(p)
        _data_arg(p)
    _as_of_args(actions.add_parser("list", help="某日的重点关注名单"))


def _status(text: str) -> str:
    """A ledger status given as its code or its Chinese label."""
    stored = {t.code: t.code for t in LEDGER_STATUSES if t.code != "overdue"}
    stored |= {t.label: t.code for t in LEDGER_STATUSES if t.code != "overdue"}
    if text not in stored:
        raise argparse.ArgumentTypeError(f"状态应为 {' / '.join(stored)}：{text}")
    return stored[text]


def add_ledger_commands(sub) -> None:
    ledger = sub.add_parser("ledger", help="工作台账：各县区措施的记录、更新与查看（SPEC §9.4）")
    actions = ledger.add_subparsers(dest="ledger_command", required=True)
    add = actions.add_parser("add", help="为县区记录一项措施，输出该措施（JSON）")
    add.add_argument("code", help="区划代码")
    update = actions.add_parser("update", help="修改一项措施（生成新的修订，历史保留），输出该措施（JSON）")
    update.add_argument("measure_id", type=int, help="措施编号")
    for p, required in ((add, True), (update, False)):
        p.add_argument("--measure", required=required, help="措施内容")
        p.add_argument("--owner", required=required, help="责任人")
        p.add_argument("--due", type=_date, required=required, help="完成时限 YYYY-MM-DD")
        p.add_argument("--status", type=_status, default="not_started" if required else None,
                       help="状态：" + " / ".join(f"{t.code} {t.label}" for t in LEDGER_STATUSES if t.code != "overdue"))
        p.add_argument("--note", default="" if required else None, help="备注")
        _user_arg(p)
        _data_arg(p)
    listing = actions.add_parser("list", help="台账（每项措施的当前状态）")
    listing.add_argument("--county", help="只列出这个县区（区划代码）")
    listing.add_argument("--open", action="store_true", help="只列出未完成的措施")
    listing.add_argument("--history", action="store_true", help="列出每一次修订（最新在前），而不是当前状态")
    listing.add_argument("--today", type=_date, default=None, help="判断是否逾期的日期（默认：今天）")
    listing.add_argument("--format", choices=["json", "csv"], default="json")
    _data_arg(listing)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (LakeError, PolicyError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1


def cmd_demo(args) -> int:
    from .demo import build_frames

    frames = build_frames(counties=args.counties, years=args.years, seed=args.seed, daily=args.daily)
    days = "，逐日" if args.daily else ""
    version = Lake(args.out).replace_all(
        frames, user="demo", note=f"演示数据 {args.counties} 县 {args.years} 年 seed={args.seed}{days}")
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


def _service(args):
    from .service import VIA_CLI, WriteService

    return WriteService(Lake(args.data), via=VIA_CLI)


def cmd_ingest(args) -> int:
    outcome = _service(args).ingest(args.file, kind=args.kind, unit=args.unit, user=args.user)
    _report(outcome.detail)
    for message in outcome.messages:
        print(message)
    if not outcome.committed:
        print("数据湖未改变")
        return 1
    print(f"已导入，新版本 {outcome.version}")
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
    outcome = _service(args).rollback(args.version, user=args.user)
    if not outcome.committed:
        print(f"错误：{outcome.message}", file=sys.stderr)
        return 1
    print(f"已回滚到版本 {args.version}，新版本 {outcome.version}（各类数据已恢复；重点关注名单调整和工作台账不随回滚撤销）")
    return 0


def cmd_focus(args) -> int:
    from .focus import FOCUS_KEYS, focus_list, to_records
    from .service import FOCUS_ACTIONS

    if args.focus_command == "list":
        snapshot, as_of = _snapshot_and_date(args)
        listed = focus_list(snapshot, as_of, load_policy(args.policy))
        if args.format == "json":
            _print_json(to_records(listed))
        else:
            listed[list(FOCUS_KEYS)].to_csv(sys.stdout, index=False)
        return 0
    start = args.effective_from or dt.date.today()
    outcome = _service(args).enter_focus(args.code, args.focus_command, args.reason, user=args.user,
                                         effective_from=start, until=args.until)
    if not outcome.committed:
        print(f"错误：{outcome.message}。数据湖未改变", file=sys.stderr)
        return 1
    span = f"{start:%Y-%m-%d} 至 {args.until:%Y-%m-%d}" if args.until else f"自 {start:%Y-%m-%d} 起长期"
    print(f"已记录重点关注名单调整（{FOCUS_ACTIONS[args.focus_command]}）：{args.code.strip()}，{span}有效；"
          f"操作人 {args.user}，新版本 {outcome.version}")
    return 0


def cmd_ledger(args) -> int:
    from . import ledger

    lake = Lake(args.data)
    if args.ledger_command == "list":
        snapshot = lake.snapshot()
        today = args.today or dt.date.today()
        rows = ledger.history(snapshot) if args.history else ledger.current(snapshot, today)
        keys = ledger.HISTORY_KEYS if args.history else ledger.LEDGER_KEYS
        if args.county:
            rows = rows[rows["county_code"] == args.county]
        if args.open:
            rows = rows[rows["status"] != "done"]
        if args.format == "json":
            _print_json(ledger.to_records(rows, keys))
        else:
            rows[list(keys)].to_csv(sys.stdout, index=False)
        return 0
    service = _service(args)
    fields = {"measure": args.measure, "owner": args.owner, "due": args.due, "status": args.status, "note": args.note}
    if args.ledger_command == "add":
        outcome = service.add_measure(args.code, **fields, user=args.user)
    else:
        outcome = service.update_measure(args.measure_id, **fields, user=args.user)
    if not outcome.committed:
        print(f"错误：{outcome.message}。数据湖未改变", file=sys.stderr)
        return 1
    measure_id = int(outcome.rows.at[0, "measure_id"])
    written = ledger.current(lake.snapshot(), dt.date.today())
    _print_json(ledger.to_records(written[written["measure_id"] == measure_id])[0])
    return 0


class NoAsOfDate(LakeError):
    def __init__(self):
        super().__init__("数据湖中没有库款数据，请用 --as-of 指定日期")


def _snapshot_and_date(args):
    """The lake snapshot and the as-of date: --as-of, else the latest treasury date."""
    from .indicators import latest_date

    snapshot = Lake(args.data).snapshot()
    as_of = args.as_of or latest_date(snapshot)
    if as_of is None:
        raise NoAsOfDate()
    return snapshot, as_of


def _print_json(records: list[dict]) -> None:
    # indented only for a person at a terminal: the C encoder (no indent) is several times faster
    print(json.dumps(records, ensure_ascii=False, indent=2 if sys.stdout.isatty() else None))


def _print_json_objects(objects: list[str]) -> None:
    """An array of JSON objects already written (by DuckDB), indented only for a terminal."""
    if sys.stdout.isatty():
        _print_json([json.loads(text) for text in objects])
    else:
        print("[" + ",".join(objects) + "]")


def cmd_metrics(args) -> int:
    # JSON straight from DuckDB's rows: importing pandas alone would take longer than the query
    from .indicators import METRIC_KEYS, metrics, metrics_json

    snapshot, as_of = _snapshot_and_date(args)
    policy = load_policy(args.policy)
    if args.format == "json":
        _print_json_objects(metrics_json(snapshot, as_of, policy))
    else:
        frame = metrics(snapshot, as_of, policy)
        table = frame[list(METRIC_KEYS)].assign(reasons=frame["reasons"].map("；".join))
        table.to_csv(sys.stdout, index=False)
    return 0


def cmd_dispatch(args) -> int:
    from .dispatch import DISPATCH_KEYS, dispatch
    from .indicators import json_records

    snapshot, as_of = _snapshot_and_date(args)
    frame = dispatch(snapshot, as_of, load_policy(args.policy))
    if args.format == "json":
        _print_json(json_records(frame, DISPATCH_KEYS))
    else:
        frame[list(DISPATCH_KEYS)].to_csv(sys.stdout, index=False, date_format="%Y-%m-%d")
    return 0


def cmd_letters(args) -> int:
    from .indicators import json_records
    from .issuing import issue
    from .letters import LETTER_KEYS

    _, as_of = _snapshot_and_date(args)
    result = issue(Lake(args.data), as_of, load_policy(args.policy), user=args.user, again=args.again)
    print(result.message, file=sys.stderr)
    if not result.ok:
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for letter in result.letters:
        (args.out / letter.file_name).write_bytes(letter.content)
    files = {letter.county_code: letter.file_name for letter in result.letters}
    rows = result.rows.assign(file=result.rows["county_code"].map(files))
    _print_json(json_records(rows, LETTER_KEYS))
    return 0


def cmd_brief(args) -> int:
    from . import brief

    renderers = {".docx": brief.to_docx, ".xlsx": brief.to_xlsx, ".html": lambda b: brief.to_html(b).encode("utf-8")}
    render = renderers.get(args.out.suffix.lower())
    if render is None:
        print(f"错误：输出文件应以 .docx、.xlsx 或 .html 结尾：{args.out.name}", file=sys.stderr)
        return 1
    snapshot, as_of = _snapshot_and_date(args)
    data = render(brief.build(snapshot, as_of, load_policy(args.policy)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"已生成周调度简报（截至 {as_of:%Y-%m-%d}）：{args.out}", file=sys.stderr)
    return 0


def cmd_add_user(args) -> int:
    from .auth import MIN_PASSWORD_LENGTH, AuthConfigError, set_password
    from .settings import secrets_path

    path = args.secrets or secrets_path()
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"{args.name} 的密码（至少 {MIN_PASSWORD_LENGTH} 个字符）：")
        if getpass.getpass("再输入一次：") != password:
            print("错误：两次输入的密码不一致，未做修改", file=sys.stderr)
            return 1
    try:
        created = set_password(args.name, password, path)
    except AuthConfigError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    print(f"{'已添加分析员' if created else '已更新密码：'} {args.name}（{path}）")
    return 0


# Commands that commit nothing and write no audit entry or document: once their output is
# flushed they can end without the interpreter's teardown (`metrics` may keep the monthly
# flows beside the lake, a file complete and renamed into place before it prints).
READ_ONLY_COMMANDS = frozenset({"history", "metrics", "dispatch"})

COMMANDS = {
    "demo": cmd_demo, "validate": cmd_validate, "ingest": cmd_ingest,
    "history": cmd_history, "rollback": cmd_rollback, "metrics": cmd_metrics,
    "dispatch": cmd_dispatch, "letters": cmd_letters, "brief": cmd_brief, "focus": cmd_focus, "ledger": cmd_ledger,
    "add-user": cmd_add_user,
}
