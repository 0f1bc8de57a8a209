"""dashboard.py as AppTest should run it.

With a `pages/` folder beside the entry script, AppTest puts Streamlit back into its old
pages-folder mode before every run, and a page switched to is then run on its own, without
dashboard.py. From this folder (no `pages/` beside it) every run goes through
st.navigation, exactly as under `streamlit run dashboard.py`.
"""
import runpy
from pathlib import Path

runpy.run_path(str(Path(__file__).resolve().parent.parent / "dashboard.py"))
