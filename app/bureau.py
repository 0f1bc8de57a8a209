"""The bureau's own records on the pages: the 重点关注 list with its manual entries and history
(风险分级), the 工作台账 (县区详情; the open measures of the list's counties on 风险分级 and
in meeting mode).

Reads come from fiscal.focus / fiscal.ledger, cached per lake version. Every edit goes
through fiscal.service.WriteService (lock, version check, audit) with the lake version
the user was shown, so an edit made on a stale page is refused, not silently applied.
Edits need an analyst signed in on 数据管理; meeting mode shows the records without forms.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from fiscal import focus, ledger, reports
from fiscal.auth import Identity
from fiscal.settings import DISPLAY_TZ
from fiscal.lake import Lake
from fiscal.service import COMMITTED, FOCUS_ACTIONS, LEDGER_STATUS_CODES, WriteService
from fiscal.vocabulary import FOCUS_SOURCES, TIER_LABELS, labels

from . import formatting as fmt
from . import cache, state, widgets
from .data_management import signed_in_analyst

S = st.session_state
SOURCE_LABELS = labels(FOCUS_SOURCES)
FOCUS_COLUMNS = ["source_label", "tier_label", "county_name", "city_name", "reason", "since_text", "until_text",
                 "by", "detail_url"]
OPEN_ENDED = "长期有效"
MEASURE_COLUMNS = ["ledger_status_label", "county_name", "measure", "owner", "due", "note", "by", "recorded_at",
                   "measure_id"]


# ---- reads, cached per lake version -------------------------------------------------------------
@st.cache_resource(show_spinner="正在整理重点关注名单…", max_entries=16)  # shared read-only, like the panel
def _membership(snapshot_key: str, as_of: dt.date, _snapshot, _panel: pd.DataFrame) -> pd.DataFrame:
    dates = pd.to_datetime(reports.history_dates(as_of))
    return focus.membership(_snapshot, _panel[_panel["as_of"].isin(dates)])


def members() -> pd.DataFrame:
    """Every county at the tier-history dates: on the list or not, and why (all cities)."""
    view = state.view()
    return _membership(view.snapshot.key, view.as_of, _snapshot=view.snapshot, _panel=cache.panel(all_cities=True))


def moves() -> pd.DataFrame:
    """Who entered and left the list between the tier-history dates, newest first (all cities)."""
    view = state.view()
    return _moves(view.snapshot.key, view.as_of, _members=members())


@st.cache_resource(show_spinner=False, max_entries=16)  # derived from the shared membership, shared the same way
def _moves(snapshot_key: str, as_of: dt.date, _members: pd.DataFrame) -> pd.DataFrame:
    return focus.moves(_members)


@st.cache_data(show_spinner=False, max_entries=16)
def _measures(snapshot_key: str, today: dt.date, _snapshot) -> pd.DataFrame:
    return ledger.current(_snapshot, today)


def measures() -> pd.DataFrame:
    """Every measure of the ledger at its current revision, 已逾期 as of today."""
    view = state.view()
    return _with_shown_columns(_measures(view.snapshot.key, dt.date.today(), _snapshot=view.snapshot))


def _local(moments: pd.Series) -> pd.Series:
    return moments.dt.tz_convert(DISPLAY_TZ).dt.strftime("%Y-%m-%d %H:%M").fillna("")


def _with_shown_columns(frame: pd.DataFrame) -> pd.DataFrame:
    shown = frame.assign(by=frame["user"].fillna(""), recorded_at=_local(frame["at"]))
    if "until" in frame:  # a manual entry's last day; none: open-ended
        shown["until_text"] = frame["until"].dt.strftime("%Y-%m-%d").fillna(OPEN_ENDED)
    if "status_label" in frame:
        shown["ledger_status_label"] = frame["status_label"]
    return shown


# ---- who may edit, and with which lake version --------------------------------------------------
def analyst() -> Identity | None:
    """The signed-in analyst, or None (then say where to sign in). Never in meeting mode."""
    view = state.view()
    if view.meeting:
        return None
    identity = signed_in_analyst(view.snapshot.root)
    if identity is None:
        st.caption("修改需要分析员登录。")
        if state.data_page_exists():
            st.page_link(state.DATA_PAGE, label="前往数据管理登录", icon=":material/login:")
    return identity


def _shown_version(form: str) -> int:
    """The lake version when `form` was last drawn — what the user looked at — and remember this one."""
    current = Lake(state.view().snapshot.root).lake_version()
    seen = S.get(f"_version_{form}", current)
    S[f"_version_{form}"] = current
    return seen


def _service() -> WriteService:
    return WriteService(Lake(state.view().snapshot.root))


def _flash(text: str) -> None:
    S["bureau_flash"] = text


def show_flash() -> None:
    if text := S.pop("bureau_flash", None):
        st.success(text)


def _report(outcome, success: str, form: str) -> None:
    """After a write: on success, a fresh form and the new data; otherwise say why (the form keeps its input)."""
    if outcome.status == COMMITTED:
        _flash(f"{success}（新版本 {outcome.version}，已记入操作日志）")
        S[f"_n_{form}"] = S.get(f"_n_{form}", 0) + 1
        st.rerun()
    st.error(fmt.md_text(outcome.message))


# ---- 重点关注 list ---------------------------------------------------------------------------------
def _since_text(listed: pd.DataFrame) -> pd.Series:
    since = listed["since"].dt.strftime("%Y-%m-%d")
    return since.where(~listed["since_open"].astype(bool), since + " 或更早")


def focus_section() -> pd.DataFrame:
    """The list at A (of the chosen cities) with source, reasons, since when; returns it."""
    view = state.view()
    listed = reports.in_cities(focus.on_list(members(), view.as_of), view.cities)
    manual = int((listed["source"] == "manual").sum())
    st.caption(f"截至 {view.as_of:%Y-%m-%d} 共 {len(listed)} 个县区：风险等级为重点关注 {len(listed) - manual} 个"
               f"（计算），本局人工列入 {manual} 个（人工）。人工移出的县区不在名单上，见下方“人工调整记录”。")
    if listed.empty:
        widgets.empty("名单上没有县区")
        return listed
    shown = _with_shown_columns(listed).assign(
        source_label=listed["source"].map(SOURCE_LABELS), tier_label=listed["tier"].map(TIER_LABELS),
        since_text=_since_text(listed))
    manual_rows = listed["source"] == "manual"
    shown["by"] = shown["by"].where(manual_rows, "")
    shown["until_text"] = shown["until_text"].where(manual_rows, fmt.MISSING)
    widgets.table(widgets.detail_links(shown), FOCUS_COLUMNS, key="focus_list", file_stem="重点关注名单", wrapped=True)
    return listed


def focus_form() -> None:
    """Analysts: put a county on the list or take it off, with a reason and an optional end date."""
    identity = analyst()
    if identity is None:
        return
    view = state.view()
    form = f"focus_form_{S.get('_n_focus', 0)}"
    expected = _shown_version("focus")
    counties = cache.report(reports.county_list)
    names = fmt.county_labels(counties)
    with st.form(form, border=True):
        st.markdown("**人工调整重点关注名单**")
        action_col, county_col = st.columns([1, 3])
        action = action_col.radio("调整", list(FOCUS_ACTIONS), format_func=FOCUS_ACTIONS.get, horizontal=True,
                                  key=f"{form}_action")
        code = county_col.selectbox("县区", list(names), format_func=names.get, index=None, placeholder="请选择县区",
                                    key=f"{form}_county")
        reason = st.text_area("理由（必填）", key=f"{form}_reason", max_chars=500,
                              placeholder="例如：已调度资金 5,000 万元，工资专户已足额；或：收入大幅下滑，需重点跟踪")
        from_col, until_col = st.columns(2)
        # the list is shown as of A (the latest extract is usually a day or more behind today)
        start = from_col.date_input("生效日期", value=min(view.as_of, dt.date.today()), key=f"{form}_from",
                                    help="默认为当前截至日期，调整即在本页名单上生效")
        until = until_col.date_input("截止日期（可不填，长期有效）", value=None, key=f"{form}_until")
        submitted = st.form_submit_button("保存调整", type="primary")
    if submitted:
        outcome = _service().enter_focus(code or "", action, reason, user=identity.name, effective_from=start,
                                         until=until, expected_version=expected)
        _report(outcome, f"已{FOCUS_ACTIONS[action]}：{fmt.md_text(names.get(code, code))}", "focus")


def focus_history_section() -> None:
    """Who entered and left the list over the last 12 months (month-ends and A), and every manual entry."""
    view = state.view()
    changes = reports.in_cities(moves(), view.cities)
    st.markdown("**名单进出（各月末及截至日）**")
    if changes.empty:
        widgets.empty("近 12 个月没有县区进入或退出重点关注名单")
    else:
        shown = changes.assign(basis_label=changes["basis"].map(SOURCE_LABELS))
        widgets.table(widgets.detail_links(shown), ["as_of", "change", "county_name", "city_name", "basis_label", "why",
                                                    "by", "detail_url"], key="focus_moves", file_stem="重点关注名单进出")
    st.markdown("**人工调整记录**")
    entries = reports.in_cities(cache.report(focus.entries), view.cities)
    if entries.empty:
        widgets.empty("还没有人工调整")
        return
    shown = _with_shown_columns(entries).assign(action_label=entries["action"].map(FOCUS_ACTIONS))
    widgets.table(shown, ["recorded_at", "by", "action_label", "county_name", "city_name", "reason", "effective_from",
                          "until_text"], key="focus_entries", file_stem="重点关注名单人工调整记录")


def county_focus_note(code: str) -> None:
    """One line on 县区详情: is this county on the list, and on whose decision."""
    view = state.view()
    row = members()
    row = row[(row["county_code"] == code) & (row["as_of"] == pd.Timestamp(view.as_of))]
    if row.empty:
        return
    r = row.iloc[0]
    who = f"（{fmt.md_text(r.user)}，理由：{fmt.md_text(r.reason)}" + (f"，至 {r.until:%Y-%m-%d}" if pd.notna(r.until) else "") + "）"
    if r.on_list:
        source = "人工列入" + who if r.source == "manual" else "风险等级为重点关注"
        st.markdown(f":red-badge[重点关注名单] 在名单上：{source}")
    elif r.action == "remove":
        st.markdown(f":green-badge[已人工移出] 不在重点关注名单上{who}")


# ---- 工作台账 -------------------------------------------------------------------------------------
def open_measures_section(listed: pd.DataFrame) -> None:
    """The open measures of every county on the list: overdue first."""
    open_ = ledger.open_measures(measures(), listed["county_code"])
    overdue = int(open_["overdue"].sum())
    st.caption(f"名单上 {len(listed)} 个县区共有 {len(open_)} 项未完成措施，其中已逾期 {overdue} 项（完成时限早于今天 "
               f"{dt.date.today():%Y-%m-%d} 且未完成）。在县区详情页记录和更新措施。")
    if open_.empty:
        widgets.empty("名单上的县区没有未完成的措施")
        return
    widgets.table(widgets.detail_links(open_), [*MEASURE_COLUMNS[:-1], "detail_url"], key="focus_measures",
                  file_stem="重点关注县区在办措施")


def county_ledger_section(code: str, county_name: str) -> None:
    """One county's measures, their change history and (analysts) the add and update forms."""
    all_measures = measures()
    mine = all_measures[all_measures["county_code"] == code]
    if mine.empty:
        widgets.empty("尚未记录措施")
    else:
        widgets.table(mine, [c for c in MEASURE_COLUMNS if c != "county_name"], key="county_ledger",
                      file_stem=f"工作台账_{county_name}")
        with st.expander("修改记录（每次新增和更新都保留）"):
            revisions = cache.report(ledger.history)
            revisions = _with_shown_columns(revisions[revisions["county_code"] == code])
            widgets.table(revisions, ["recorded_at", "by", "measure_id", "revision", "measure", "owner", "due",
                                      "ledger_status_label", "note"], key="county_ledger_history",
                          file_stem=f"工作台账修改记录_{county_name}")
    identity = analyst()
    if identity is None:
        return
    add_col, update_col = st.columns(2)
    with add_col:
        _add_measure_form(identity, code)
    with update_col:
        _update_measure_form(identity, mine)


NEXT_MEETING_DAYS = 7
STATUS_LABELS = {code: ledger.STATUS_LABELS[code] for code in LEDGER_STATUS_CODES}


def _add_measure_form(identity: Identity, code: str) -> None:
    form = f"ledger_add_{code}_{S.get('_n_ledger_add', 0)}"
    expected = _shown_version("ledger_add")
    with st.form(form, border=True):
        st.markdown("**新增措施**")
        measure = st.text_area("措施（必填）", key=f"{form}_measure", max_chars=500)
        owner = st.text_input("责任人（必填）", key=f"{form}_owner", max_chars=100)
        due_col, status_col = st.columns(2)
        due = due_col.date_input("完成时限", value=dt.date.today() + dt.timedelta(days=NEXT_MEETING_DAYS),
                                 key=f"{form}_due", help="默认为一周后（下次周调度会）")
        status = status_col.selectbox("状态", list(STATUS_LABELS), format_func=STATUS_LABELS.get, key=f"{form}_status")
        note = st.text_input("备注", key=f"{form}_note", max_chars=500)
        submitted = st.form_submit_button("保存措施", type="primary")
    if submitted:
        outcome = _service().add_measure(code, measure, owner, due, status=status, note=note, user=identity.name,
                                         expected_version=expected)
        _report(outcome, "已记录措施", "ledger_add")


def _update_measure_form(identity: Identity, mine: pd.DataFrame) -> None:
    if mine.empty:
        return
    options = dict(zip(mine["measure_id"], mine["measure_id"].astype(str) + "　" + mine["measure"].str.slice(0, 30)))
    chosen = st.selectbox("更新措施", list(options), format_func=options.get, key="ledger_update_pick")
    current = mine.set_index("measure_id").loc[chosen]
    form = f"ledger_update_{chosen}_{int(current['revision'])}_{S.get('_n_ledger_update', 0)}"
    expected = _shown_version("ledger_update")
    with st.form(form, border=True):
        measure = st.text_area("措施", value=current["measure"], key=f"{form}_measure", max_chars=500)
        owner = st.text_input("责任人", value=current["owner"], key=f"{form}_owner", max_chars=100)
        due_col, status_col = st.columns(2)
        due = due_col.date_input("完成时限", value=current["due"].date(), key=f"{form}_due")
        codes = list(STATUS_LABELS)
        status = status_col.selectbox("状态", codes, index=codes.index(current["status"]), format_func=STATUS_LABELS.get,
                                      key=f"{form}_status")
        note = st.text_input("备注", value=current["note"], key=f"{form}_note", max_chars=500)
        submitted = st.form_submit_button("保存更新", type="primary")
    if submitted:
        outcome = _service().update_measure(int(chosen), measure=measure, owner=owner, due=due, status=status,
                                            note=note, user=identity.name, expected_version=expected)
        _report(outcome, f"已更新措施 {chosen}", "ledger_update")
