"""The sections of the 提示函 page: this month's letters, a preview, issuing (analysts only,
through the write service, audited) and downloads of what was issued."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from fiscal import issuing
from fiscal.auth import Identity
from fiscal.lake import Lake, Snapshot
from fiscal.letters import to_text
from fiscal.policy import Policy
from fiscal.service import VIA_DASHBOARD

from . import cache, state, widgets

FLASH = "letters_flash"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def drafts() -> issuing.Drafts:
    """This month's letters at the view's as-of date, for every county whatever the city filter:
    computed once per lake version, as-of date and policy, and shared read-only by every session."""
    view = state.view()
    return _cached_drafts(view.snapshot.key, view.as_of, view.policy, _snapshot=view.snapshot,
                          _panel=cache.panel(all_cities=True))


@st.cache_resource(show_spinner="正在计算提示函…", max_entries=8)
def _cached_drafts(snapshot_key: str, as_of: dt.date, policy: Policy, _snapshot: Snapshot,
                   _panel: pd.DataFrame) -> issuing.Drafts:
    return issuing.drafts(_snapshot, as_of, policy, panel=_panel, at_date=_panel)


def show_flash() -> None:
    if flash := st.session_state.pop(FLASH, None):
        getattr(st, flash[0])(flash[1])


def due_table(plan: issuing.Drafts, batch: pd.DataFrame) -> None:
    """The counties due a letter, with whether this month's batch holds theirs."""
    numbers = batch.drop_duplicates("county_code", keep="last").set_index("county_code")["number"]
    rows = plan.rows.assign(persistent_label=plan.rows["persistent"].map({True: "是", False: "否"}),
                            letter_status=plan.rows["county_code"].map(numbers).astype(object).fillna("待签发"))
    widgets.table(widgets.detail_links(rows), [
        "county_name", "city_name", "coverage_months", "coverage_band", "months_below", "persistent_label",
        "dispatch_need", "letter_status", "detail_url"], key="letters_due", file_stem="本月提示函")


def preview(plan: issuing.Drafts, batch: pd.DataFrame) -> None:
    names = dict(zip(plan.rows["county_code"], plan.rows["county_name"]))
    code = st.selectbox("预览函件", list(names), format_func=names.get, key="letters_preview")
    letter = issuing.preview(plan, state.view().policy, batch, code, dt.date.today())
    st.code(to_text(letter), language=None, wrap_lines=True)


def issue_section(plan: issuing.Drafts, batch: pd.DataFrame, identity: Identity | None) -> None:
    view = state.view()
    if identity is None:
        st.info("签发提示函（编文号、登记、留痕）需要分析员登录。", icon=":material/lock:")
        return
    again = False
    if not batch.empty:
        st.warning(f"本月已签发提示函 {len(batch)} 份（文号 {batch['number'].iloc[0]} 至 {batch['number'].iloc[-1]}）。"
                   "重新签发同一截至日期、数据未变的提示函不会产生新文号。")
        again = st.checkbox("确认再次签发（使用新的文号，另成一批）", key="letters_again")
    if st.button(f"签发本月提示函（{len(plan.rows)} 份）", type="primary", key="letters_issue"):
        result = issuing.issue(Lake(view.snapshot.root), view.as_of, view.policy, user=identity.name,
                               via=VIA_DASHBOARD, again=again, plan=plan)
        st.session_state[FLASH] = ("success" if result.ok else "error", result.message)
        st.rerun()


def downloads(batch: pd.DataFrame) -> None:
    """This month's issued letters: all as one .zip, or one .docx."""
    if batch.empty:
        return
    # shared, not copied per rerun, and zipped on click: a month's batch is hundreds of letters
    letters = cache.shared(issuing.stored_letters, tuple(batch["number"]))
    left, right = st.columns([1, 2], vertical_alignment="bottom")
    left.download_button(f"下载全部（{len(letters)} 份，.zip）", data=lambda: issuing.bundle(letters),
                         file_name=f"提示函_{state.view().as_of:%Y%m}.zip", mime="application/zip",
                         icon=":material/folder_zip:", key="letters_zip", on_click="ignore")
    by_number = {l.number: l for l in letters}
    number = right.selectbox("单份下载", list(by_number), key="letters_one",
                             format_func=lambda n: f"{n}　{by_number[n].county_name}")
    right.download_button("下载 .docx", data=by_number[number].content, file_name=by_number[number].file_name,
                          mime=DOCX_MIME, icon=":material/download:", key="letters_docx", on_click="ignore")


def register_table(register: pd.DataFrame) -> None:
    if register.empty:
        widgets.empty("尚未签发过提示函")
        return
    rows = register.sort_values(["year", "sequence"], ascending=False).assign(
        issued_at=register["at"].dt.tz_convert("Asia/Shanghai").dt.strftime("%Y-%m-%d %H:%M"),
        sha256_short=register["sha256"].str[:16], data_as_of=register["as_of"])
    widgets.table(rows, ["number", "county_name", "data_as_of", "issued_on", "user", "issued_at", "file_name",
                         "sha256_short"], key="letters_register", file_stem="提示函登记")
    by_number = dict(zip(rows["number"], rows["county_name"]))
    number = st.selectbox("重新下载已签发的提示函", list(by_number), key="letters_again_pick",
                          format_func=lambda n: f"{n}　{by_number[n]}")
    letter = cache.report(issuing.stored_letters, (number,))[0]
    st.download_button("下载 .docx", data=letter.content, file_name=letter.file_name, mime=DOCX_MIME,
                       icon=":material/download:", key="letters_register_docx", on_click="ignore")
