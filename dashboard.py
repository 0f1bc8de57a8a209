"""县区库款与“三保”流动性监测 — the dashboard: `streamlit run dashboard.py`.

Each rerun takes the view (lake snapshot, policy, sidebar choices) once, then runs the
chosen page. The lake is $FISCAL_DATA (default: the shipped demo lake), the policy
$FISCAL_POLICY (default: data/policy.toml). The data-management page is listed when
pages/data.py exists.
"""
import streamlit as st

from app import sidebar, state, theme

st.set_page_config(page_title="县区库款与三保监测", page_icon=":material/account_balance:", layout="wide")

# The app's front door: the overview is served at the root, with no second run to get there.
overview = st.Page(state.PAGES_DIR / "overview.py", title="总览", icon=":material/dashboard:", url_path="home",
                   default=True)


def open_overview() -> None:
    """/overview, the overview's address in links shared before it moved to the root: the overview
    with the link's choices (not Streamlit's English "Page not found")."""
    st.switch_page(overview, query_params={key: st.query_params.get_all(key) for key in st.query_params})


pages = [
    overview,
    st.Page(open_overview, title="总览", url_path="overview", visibility="hidden"),
    st.Page(state.PAGES_DIR / "payroll.py", title="工资保障", icon=":material/payments:", url_path="payroll"),
    st.Page(state.PAGES_DIR / "treasury.py", title="库款保障", icon=":material/account_balance:", url_path="treasury"),
    st.Page(state.PAGES_DIR / "revenue.py", title="收入进度", icon=":material/trending_up:", url_path="revenue"),
    st.Page(state.PAGES_DIR / "risk.py", title="风险分级", icon=":material/warning:", url_path="risk"),
    st.Page(state.PAGES_DIR / "county.py", title="县区详情", icon=":material/location_city:", url_path="county"),
    st.Page(state.PAGES_DIR / "dispatch.py", title="调度建议", icon=":material/swap_horiz:", url_path="dispatch"),
    st.Page(state.PAGES_DIR / "letters.py", title="提示函", icon=":material/mail:", url_path="letters"),
    st.Page(state.PAGES_DIR / "brief.py", title="周调度简报", icon=":material/summarize:", url_path="brief"),
    st.Page(state.PAGES_DIR / "reporting.py", title="报送情况", icon=":material/fact_check:", url_path="reporting"),
]
if state.data_page_exists():
    pages.append(st.Page(state.PAGES_DIR / "data.py", title="数据管理", icon=":material/upload_file:", url_path="data"))

st.sidebar.markdown("### 县区库款与“三保”监测")
view = sidebar.start()
theme.apply(view.meeting)
try:
    st.navigation(pages, position="top" if view.meeting else "sidebar").run()
finally:
    state.forget_view()
