"""The dashboard server: `python -m app.serve [streamlit run options]` (make run, the browser tests).

Warms the default view first (app/warmup.py: the imports, the indicator panel and every
page's reports), so the first viewer finds them ready, and keeps warming each new lake
version in the background; then serves dashboard.py exactly as `streamlit run` does. With
FISCAL_WARMUP=0 it only serves (each first visit then computes what it shows).

The first warm-up runs before Streamlit's runtime exists: st.cache_resource is process-wide
anyway, and each st.cache_data cache keeps the (memory) storage it was created with when the
runtime starts, so the first page run finds what was computed here (tests/test_warmup.py runs
the pages after a warm-up without a runtime).
"""
from __future__ import annotations

import logging
import sys

from fiscal import settings

ROUTER = settings.PROJECT_ROOT / "dashboard.py"
# A lake far larger than the national one must not keep the server from starting: after this
# long it serves anyway, and a viewer waits on the warm-up's own computation.
START_WAIT_S = 120
# Streamlit's loggers of "no runtime yet" and "a cached function outside a page run"
STREAMLIT_OUTSIDE_A_RUN = ("streamlit.runtime.caching.cache_data_api",
                           "streamlit.runtime.scriptrunner_utils.script_run_context")


class _OutsideAPageRun(logging.Filter):
    """Streamlit warns whenever a cached function is defined or run outside a page run — and that
    there is no runtime yet, before it starts: expected while the app is imported and warmed here,
    and of the warm-up thread later, so not logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        from streamlit import runtime

        if not runtime.exists():
            return False
        from app.warmup import THREAD_NAME

        return record.threadName != THREAD_NAME


def main(options: list[str]) -> int:
    if settings.warmup():
        _log_warmups()
        for name in STREAMLIT_OUTSIDE_A_RUN:
            logging.getLogger(name).addFilter(_OutsideAPageRun())
        from app import warmup  # streamlit, pandas, plotly, duckdb and the app: imported now, not on the first visit

        warmup.start_watching().first_round.wait(START_WAIT_S)
    from streamlit.web import cli

    _ready_for_the_first_viewer()
    return cli.main(["run", str(ROUTER), *options], prog_name="streamlit")


def _ready_for_the_first_viewer() -> None:
    """Do before serving what Streamlit does once per process, at the first visit: leave its
    pages-folder mode (app.state), and fill the standard library's caches behind
    `inspect.stack()` (a module for every loaded file), which Streamlit calls at a process's
    first element to check for direct execution: 0.1 s of the first visit's server time."""
    import inspect

    from app import state

    state.start_without_pages_folder_mode()
    inspect.stack()


def _log_warmups() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    log = logging.getLogger("fiscal.warmup")
    log.addHandler(handler)
    log.setLevel(logging.INFO)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
