# Two commands: `make run` (dashboard on the shipped demo lake) and `make test` (the full suite).
# `make test-fast` is the inner loop: every test but the real-browser ones, no apt-get.
# Everything they need is installed here, into .venv and (for browser tests) with apt-get.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501
# Only this machine by default (uploads and sign-in travel unencrypted); to show the
# dashboard on the meeting-room network: `make run ADDRESS=0.0.0.0`, behind HTTPS if possible.
ADDRESS ?= 127.0.0.1

.PHONY: run test test-fast browser compiled demo-national bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.runtime: requirements.txt | $(PY)
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.testing: requirements.txt requirements-test.txt | $(PY)
	$(PY) -m pip install -q -r requirements-test.txt
	touch $@ $(VENV)/.runtime

# Our modules byte-compiled ahead, as an installed package is: a short command (`fiscal
# metrics`) then does not compile them on every call where writing bytecode on import is off.
compiled: $(VENV)/.runtime
	$(PY) -m compileall -q fiscal app pages

# app/serve.py: computes the default view first (FISCAL_WARMUP), then `streamlit run dashboard.py`
run: $(VENV)/.runtime compiled
	$(PY) -m app.serve --server.port $(PORT) --server.address $(ADDRESS) --browser.gatherUsageStats false

# Debian's Chromium and a CJK font for the real-browser tests (never a downloaded browser).
browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
		echo "installing chromium and fonts-noto-cjk"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

test: $(VENV)/.testing browser
	$(PY) -m pytest

test-fast: $(VENV)/.testing
	$(PY) -m pytest -m "not browser" -q

# A national-scale lake shaped like bank statements (2,844 counties × 3 years, treasury and
# payroll account on every calendar day) and the timing table (which builds it if absent).
demo-national: $(VENV)/.runtime
	$(PY) -m fiscal demo --out build/national --counties 2844 --years 3 --daily

bench: $(VENV)/.testing compiled
	$(PY) scripts/bench.py --lake build/national --before
	$(PY) scripts/bench_pages.py build/national
	$(PY) scripts/bench_actions.py --lake build/national
	$(MAKE) browser
	$(PY) scripts/load.py --lake build/national --sessions 10

clean:
	rm -rf $(VENV) build .pytest_cache
