"""The sections of the 数据管理 page: sign-in, upload → check → preview → commit, versions
with download and rollback, and the audit log.

Viewing is open; upload, commit and rollback need an analyst (fiscal.auth). Every sign-in
and data change goes to the audit log (fiscal.audit), kept outside the lake.
"""
from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

import pandas as pd
import streamlit as st

from fiscal import audit, auth, settings, uploads
from fiscal.export import to_csv_bytes, to_excel_bytes
from fiscal.extracts import KIND_ORDER, KINDS, UNITS
from fiscal.ingest import Checked, replaced_values
from fiscal.lake import Lake, table_label
from fiscal.service import COMMITTED, MOVED_ON, WriteService
from fiscal.validation import Problem

from . import formatting as fmt

SESSION_HOURS = 8
AUTO_UNIT = "自动"
S = st.session_state
# What the analyst sees while a file is read and checked (in a child process) and committed.
STAGES = {"read": "读取：正在读取文件…", "check": "校验：正在逐项检查数据…", "checked": "读取、校验完成",
          "failed": "读取、校验结束：发现问题（见下方）", "commit": "提交：正在写入新版本…"}
PROBLEM_COLUMNS = {"行": st.column_config.NumberColumn(width="small", help="文件中看到的行号"),
                   "列": st.column_config.TextColumn(width="small"), "值": st.column_config.TextColumn(width="small"),
                   "问题": st.column_config.TextColumn(width="large")}


def _local(moment: dt.datetime | str) -> str:
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    return moment.astimezone(settings.DISPLAY_TZ).strftime("%Y-%m-%d %H:%M:%S")


def _flash(level: str, text: str) -> None:
    S["dm_flash"] = (level, text)


def show_flash() -> None:
    if flash := S.pop("dm_flash", None):
        getattr(st, flash[0])(flash[1])


# ---------------------------------------------------------------- sign-in

def _oidc_configured() -> bool:
    try:
        return st.secrets.load_if_toml_exists() and "auth" in st.secrets
    except Exception:  # a malformed secrets.toml must not take the page down
        return False


def _current_identity(authn: auth.Authenticator, log: audit.AuditLog) -> auth.Identity | None:
    """The analyst of this session, re-checked on every run against the credentials file."""
    if _oidc_configured() and st.user.get("is_logged_in"):
        identity = authn.oidc_identity(st.user.to_dict())
        if identity is not None:
            if S.get("dm_oidc_logged") != identity.name:  # once per session in the audit log
                log.append("login_success", identity.name, method="oidc")
                S["dm_oidc_logged"] = identity.name
            return identity
    signed = S.get("dm_identity")
    if not signed:
        return None
    since = dt.datetime.fromisoformat(signed["since"])
    fresh = dt.datetime.now(dt.timezone.utc) - since < dt.timedelta(hours=SESSION_HOURS)
    if fresh and signed["name"] in auth.analysts(authn.credentials()):
        return auth.Identity(signed["name"], "password")
    S.pop("dm_identity", None)
    return None


def _client() -> str:
    """Where a sign-in attempt comes from, for per-client throttling: the remote address, else
    this browser session. (X-Forwarded-For is not trusted: without a proxy that strips it,
    a client could name a new address on every attempt.)"""
    address = st.context.ip_address  # None on localhost
    return address if isinstance(address, str) and address else f"session:{S.setdefault('dm_client', secrets.token_hex(8))}"


def signed_in_analyst(lake_root: Path) -> auth.Identity | None:
    """The analyst signed in (on 数据管理) in this session, or None: other pages' edit forms use it."""
    log = audit.AuditLog.for_lake(lake_root)
    authn = auth.Authenticator(log)
    try:
        return _current_identity(authn, log) if authn.configured() else None
    except auth.AuthConfigError:
        return None


def sign_in_panel(authn: auth.Authenticator, log: audit.AuditLog, *, purpose: str = "上传、导入和回滚数据") -> auth.Identity | None:
    """The analyst of this session, or the sign-in form; `purpose` names what signing in allows."""
    try:
        configured = authn.configured()
        identity = _current_identity(authn, log) if configured else None
    except auth.AuthConfigError as exc:
        st.error(f"{exc}。{purpose}已停用，请管理员检查账号配置。")
        return None
    if not configured:
        st.warning(f"尚未配置分析员账号：{purpose}已停用（查看不受影响）。"
                   "管理员可在服务器上运行 `python -m fiscal add-user 用户名` 添加账号。")
        return None
    with st.container(border=True):
        if identity:
            left, right = st.columns([4, 1], vertical_alignment="center")
            left.markdown(f"已登录分析员：**{fmt.md_text(identity.label)}**　可以{purpose}。")
            if right.button("退出登录", key="dm_logout", width="stretch"):
                log.append("logout", identity.name, method=identity.method)
                S.pop("dm_identity", None)
                if identity.method == "oidc":
                    st.logout()
                st.rerun()
            return identity
        st.markdown(f"**分析员登录**　查看无需登录；{purpose}需要分析员登录。")
        if _oidc_configured() and st.user.get("is_logged_in"):
            st.warning(f"{fmt.md_text(st.user.get('email') or '当前用户')} 不在分析员名单中，不能{purpose}。")
        if authn.has_password_accounts():
            with st.form("dm_sign_in", clear_on_submit=True, border=False):  # no password kept in the session
                name_col, pw_col, button_col = st.columns([2, 2, 1], vertical_alignment="bottom")
                name = name_col.text_input("用户名", key="dm_user")
                password = pw_col.text_input("密码", type="password", key="dm_password")
                submitted = button_col.form_submit_button("登录", type="primary", width="stretch")
            if submitted:
                result = authn.sign_in(name, password, client=_client())
                if result.ok:
                    S["dm_identity"] = {"name": result.identity.name,
                                        "since": dt.datetime.now(dt.timezone.utc).isoformat()}
                    st.rerun()
                st.error(result.message)
        if _oidc_configured():
            st.button("使用统一身份认证登录", key="dm_oidc", on_click=st.login)
    return None


# ---------------------------------------------------------------- upload → check → preview → commit

def _check_upload(lake: Lake, log: audit.AuditLog, upload, kind: str | None, unit: str | None,
                  user: str, limit: int) -> tuple[tuple, Checked]:
    """Check once per (file, kind, unit) and keep the result for this session: what is committed
    is exactly what was previewed (commit() itself notices if the lake moved on meanwhile)."""
    key = (upload.file_id, kind, unit)
    cache = S.setdefault("dm_checks", {})
    if key in cache:
        return key, cache[key]
    name = uploads.display_name(upload.name)
    service = WriteService(lake, log)
    try:
        with uploads.spool(upload, upload.name, max_bytes=limit, size_hint=upload.size) as spooled, \
                st.status(STAGES["read"], expanded=False) as status:
            # In a child process (other viewers keep the server); check_upload audits a file with errors itself.
            checked = service.check_upload(spooled.path, user=user, kind=kind, unit=unit,
                                           source_name=spooled.display_name, max_bytes=limit, size=upload.size,
                                           isolated=True, on_stage=lambda stage: status.update(label=STAGES[stage]))
            status.update(label=STAGES["failed"] if checked.errors else STAGES["checked"],
                          state="error" if checked.errors else "complete")
    except Exception as exc:  # too large, or a reader bug (no traceback shown); nothing was written
        message = (str(exc) if isinstance(exc, uploads.UploadTooLarge)
                   else f"文件无法读取（{type(exc).__name__}），请检查文件格式后重新上传")
        checked = Checked(None, [Problem("error", message)], "")
        service.audit_rejected_upload(user, file_name=name, sha256=checked.sha256, size=upload.size, kind=kind or "",
                                      errors=len(checked.errors))
    cache[key] = checked
    return key, checked


def _report(checked: Checked, file_name: str) -> None:
    extract = checked.extract
    if extract is not None:
        where = f"工作表「{fmt.md_text(extract.sheet)}」" if extract.sheet else ""
        st.caption(f"文件「{fmt.md_text(file_name)}」：{KINDS[extract.kind].label}，{where}表头在第 {extract.header_row} 行，"
                   f"{len(extract.frame)} 行数据，"
                   + (f"金额单位{extract.unit}（入库时换算为万元）" if extract.unit_stated else "金额单位未写明（暂按万元读取）")
                   + (f"，SHA-256 {checked.sha256[:16]}…" if checked.sha256 else ""))
    errors, warnings = checked.errors, checked.warnings
    if errors:
        st.error(f"发现 {len(errors)} 个错误，整个文件不能导入，数据未做任何改变。请修改文件后重新上传。")
        st.dataframe(uploads.problems_frame(errors).drop(columns="级别"), hide_index=True, width="stretch",
                     key="dm_errors", column_config=PROBLEM_COLUMNS)
    if warnings:
        st.warning(f"{len(warnings)} 个提示（不影响导入，请核实）")
        st.dataframe(uploads.problems_frame(warnings).drop(columns="级别"), hide_index=True, width="stretch",
                     key="dm_warnings", column_config=PROBLEM_COLUMNS)
    if errors or warnings:
        table = uploads.problems_frame(checked.problems)
        stem = Path(file_name).stem
        buttons = st.container(horizontal=True)
        buttons.download_button("下载检查报告（Excel）", to_excel_bytes(table, sheet_name="检查报告"),
                             f"{stem}_检查报告.xlsx", key="dm_report_xlsx")
        buttons.download_button("下载检查报告（CSV）", to_csv_bytes(table), f"{stem}_检查报告.csv",
                              mime="text/csv", key="dm_report_csv")


def _preview(lake: Lake, checked: Checked) -> None:
    p, extract = checked.preview, checked.extract
    st.subheader("导入前预览")
    st.caption("以下是确认导入后将发生的变化；此时还没有写入任何数据。同一主键的行将被替换，其余行保持不变。")
    cols = st.columns(3)
    cols[0].metric("新增行", f"{p.new_rows:,}")
    cols[1].metric("替换行", f"{p.replaced_rows:,}", help="主键（区划代码＋日期等）与现有数据相同的行，导入后以文件中的值为准")
    cols[2].metric("涉及县区", f"{len(p.counties)}")
    if p.first_date:
        span = (f"{p.first_date:%Y-%m-%d} 至 {p.last_date:%Y-%m-%d}" if p.first_date != p.last_date
                else f"{p.first_date:%Y-%m-%d}")
        st.markdown(f"**日期范围**：{span}")
    names = lake.read("counties").set_index("county_code")["county_name"].to_dict()
    if extract.kind == "counties":
        names |= extract.frame.set_index("county_code")["county_name"].to_dict()
    with st.expander(f"涉及的县区（{len(p.counties)} 个）"):
        st.markdown("、".join(f"{fmt.md_text(names.get(c, ''))}（{c}）" for c in p.counties))
    spec = KINDS[extract.kind]
    sample = extract.frame.head(5).rename(columns={c.name: c.label for c in spec.columns})
    st.markdown(f"**导入后的样例（前 5 行，金额已换算为万元；文件单位：{extract.unit}）**")
    dates = {c.label: st.column_config.DateColumn(format="YYYY-MM-DD") for c in spec.columns if c.kind == "date"}
    st.dataframe(sample, hide_index=True, width="stretch", key="dm_sample", column_config=dates)
    if p.replaced_rows:
        st.markdown(f"**将被替换的行：现值与新值（前 {min(p.replaced_rows, 20)} 行，共 {p.replaced_rows:,} 行）**")
        st.dataframe(replaced_values(lake, extract), hide_index=True, width="stretch", key="dm_replaced")


def upload_section(lake: Lake, log: audit.AuditLog, identity: auth.Identity | None) -> None:
    st.subheader("上传数据")
    if identity is None:
        st.info("上传和导入需要分析员登录。")
        return
    limit = settings.max_upload_bytes()
    upload = st.file_uploader(
        f"选择文件：CSV、Excel（.xlsx）或 Parquet，单个文件不超过 {uploads.human_size(limit)}",
        type=list(uploads.ACCEPTED_TYPES), key=f"dm_upload_{S.get('dm_upload_n', 0)}",
        max_upload_size=uploads.widget_limit_mb(limit))
    if upload is None:
        S.pop("dm_checks", None)
        st.caption("数据类型按表头自动识别，可在上传后更改。一次上传要么全部导入，要么完全不导入。")
        return
    # Keep only this file's checks (each holds the parsed table).
    S["dm_checks"] = {k: v for k, v in S.get("dm_checks", {}).items() if k[0] == upload.file_id}
    kind_col, unit_col = st.columns(2)
    unit_choice = unit_col.selectbox("金额单位", [AUTO_UNIT, *UNITS], key="dm_unit",
                                     help="自动：读取文件中“单位：”一行或列名中的单位；文件没有写明时须在此选择")
    unit = None if unit_choice == AUTO_UNIT else unit_choice
    detected_key, detected = _check_upload(lake, log, upload, None, unit, identity.name, limit)
    found = detected.extract.kind if detected.extract else None
    kind = kind_col.selectbox(
        "数据类型（已按表头识别，请确认）" if found else "数据类型（无法按表头识别，请选择）", KIND_ORDER,
        index=KIND_ORDER.index(found) if found else None, format_func=lambda k: f"{KINDS[k].label}（{k}）",
        key=f"dm_kind_{upload.file_id}", placeholder="请选择数据类型")
    key, checked = ((detected_key, detected) if kind == found
                    else _check_upload(lake, log, upload, kind, unit, identity.name, limit))
    file_name = uploads.display_name(upload.name)
    _report(checked, file_name)
    if not checked.ok:
        return
    _preview(lake, checked)
    if not checked.extract.unit_stated:  # never a silent 万元: the analyst must say it
        st.warning("文件中没有写明金额单位（没有“单位：”一行，列名也没有注明）。"
                   "请在上方“金额单位”中选择元、万元或亿元，核对预览后再导入。")
        return
    for message in S.pop("dm_commit_messages", []):
        st.warning(message)
    if st.button("确认导入（生成新版本）", type="primary", key="dm_commit"):
        _commit(lake, log, identity, checked, key)


def _commit(lake: Lake, log: audit.AuditLog, identity: auth.Identity, checked: Checked, key: tuple) -> None:
    extract = checked.extract
    with st.status(STAGES["commit"], expanded=False):
        outcome = WriteService(lake, log).commit_upload(checked, user=identity.name)
    if outcome.status == MOVED_ON:  # the lake moved on since the check: show the new preview first
        S.setdefault("dm_checks", {})[key] = outcome.detail
        S["dm_commit_messages"] = list(outcome.messages)
        st.rerun()
    if outcome.status != COMMITTED:  # the lake is unchanged (one atomic Delta commit); say what happened
        st.error("；".join(outcome.problems))
        return
    newest = next(c for c in lake.history() if c.lake_version == outcome.version)
    result = outcome.detail
    _flash("success", f"已导入「{fmt.md_text(extract.source_name)}」：{KINDS[extract.kind].label} {len(extract.frame)} 行，"
                      f"新增 {newest.inserted} 行，替换 {newest.updated} 行，新版本 {result.version}。各看板已使用新数据。")
    S["dm_upload_n"] = S.get("dm_upload_n", 0) + 1
    S.pop("dm_checks", None)
    st.rerun()


# ---------------------------------------------------------------- versions, download, rollback

def versions_section(lake: Lake, log: audit.AuditLog, identity: auth.Identity | None) -> None:
    commits = lake.history()
    st.subheader("版本历史")
    if not commits:
        st.info("数据湖中还没有版本。")
        return
    current = commits[0].lake_version
    table = pd.DataFrame([{
        "版本": c.lake_version, "时间（北京时间）": _local(c.timestamp), "操作": c.operation_label,
        "操作人": c.user, "文件名": c.file_name, "行数": c.rows, "新增": c.inserted, "替换": c.updated,
        "数据类型": "、".join(table_label(k) for k in c.kinds), "说明": c.note, "SHA-256": c.sha256,
    } for c in commits])
    if identity is None:  # who changed the data is for analysts (names invite guessing at sign-in)
        table = table.drop(columns="操作人")
    st.caption(f"当前版本：{current}。每次导入、回滚和业务记录（重点关注名单调整、工作台账等）都生成一个新版本，旧版本全部保留。")
    st.dataframe(table, hide_index=True, width="stretch", key="dm_history",
                 column_config={"数据类型": st.column_config.TextColumn(width="medium"),
                                "说明": st.column_config.TextColumn(width="medium")})

    labels = {c.lake_version: f"版本 {c.lake_version}（{_local(c.timestamp)[:16]}，{c.operation_label}"
                              f"{'，' + c.file_name if c.file_name else ''}）" for c in commits}
    shown = {v: fmt.md_text(label) for v, label in labels.items()}  # inside Markdown-rendering messages
    pick_col, format_col, button_col = st.columns([3, 2, 2], vertical_alignment="bottom")
    version = pick_col.selectbox("下载某个版本的全部数据", list(labels), format_func=labels.get,
                                 key=f"dm_dl_version_{current}")
    file_format = format_col.radio("格式", ["CSV", "Excel"], horizontal=True, key="dm_dl_format",
                           help="CSV：每类数据一个文件，打包为 zip；Excel：一个工作簿，每类数据一个工作表。列名可直接再次上传")
    if file_format == "Excel":
        data, name = (lambda: uploads.version_workbook(lake, version)), f"数据_版本{version}.xlsx"
    else:
        data, name = (lambda: uploads.version_csv_zip(lake, version)), f"数据_版本{version}_CSV.zip"
    button_col.download_button("下载", data, name, key="dm_download", on_click="ignore")

    st.subheader("回滚")
    if identity is None:
        st.info("回滚需要分析员登录。")
        return
    older = [c.lake_version for c in commits[1:]]
    if not older:
        st.caption("只有一个版本，无可回滚。")
        return
    target_col, button_col = st.columns([3, 2], vertical_alignment="bottom")
    target = target_col.selectbox("恢复到版本", older, format_func=labels.get, key=f"dm_rb_version_{current}")
    if button_col.button("回滚到所选版本…", key="dm_rb_start"):
        S["dm_rb_target"] = target
    pending = S.get("dm_rb_target")
    if pending is None or pending not in older:
        return
    with st.container(border=True):
        st.warning(f"确认回滚：各类上报数据将恢复到{shown[pending]}时的状态，并记为新版本 {current + 1}。"
                   f"当前版本 {current} 及其他版本都会保留，之后仍可恢复。重点关注名单调整和工作台账是本局的工作记录，"
                   f"不随回滚撤销。")
        buttons = st.container(horizontal=True)
        if buttons.button("确认回滚", type="primary", key="dm_rb_confirm"):
            S.pop("dm_rb_target", None)
            outcome = WriteService(lake, log).rollback(pending, user=identity.name, expected_version=current)
            if not outcome.committed:  # refused, a lock timeout, the lake moved on…: the lake is as it was
                st.error(f"回滚失败，数据未改变：{outcome.message}")
                return
            _flash("success", f"已回滚到版本 {pending}，新版本 {outcome.version}。各看板已使用回滚后的数据；"
                              f"重点关注名单调整和工作台账保持不变。")
            st.rerun()
        if buttons.button("取消", key="dm_rb_cancel"):
            S.pop("dm_rb_target", None)
            st.rerun()


def audit_section(log: audit.AuditLog, identity: auth.Identity | None) -> None:
    st.subheader("操作日志")
    if identity is None:  # user names, failures and lock times are not for everyone
        st.info("操作日志仅对已登录的分析员显示。")
        return
    records = log.read(limit=500)
    if not records:
        st.info("还没有操作记录。")
        return
    table = pd.DataFrame([{
        "时间（北京时间）": _local(r.get("ts", "")) if r.get("ts") else "",
        "事件": audit.EVENT_LABELS.get(r.get("event"), r.get("event")), "用户": r.get("user", ""),
        "详情": audit.describe(r),
    } for r in records])
    st.caption("登录、登录失败、锁定和每一次数据改动都记录在只追加的日志中（最新在前，显示最近 500 条）。")
    st.dataframe(table, hide_index=True, width="stretch", key="dm_audit")
    st.download_button("下载操作日志（CSV）", to_csv_bytes(table), "操作日志.csv", mime="text/csv",
                       key="dm_audit_csv", on_click="ignore")
