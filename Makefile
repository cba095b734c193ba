# Two commands on a fresh machine that has Python 3.11 and apt:
#   make run    creates .venv when missing, installs the app's requirements, starts the app
#   make test   creates .venv, installs the test requirements and Debian's chromium, runs every test
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501
APP_STAMP  := $(VENV)/.installed-app
TEST_STAMP := $(VENV)/.installed-test
CHROMIUM   := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test test-fast lint bench bench-browser load clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Stamps re-run the install when a requirements file changes, and skip it otherwise.
$(APP_STAMP): requirements.txt pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

$(TEST_STAMP): requirements-dev.txt $(APP_STAMP)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

# lossviz app is streamlit run app.py that also imports the lessons while the server starts.
run: $(APP_STAMP)
	$(PY) -m lossviz app --port $(PORT)

# Lint first (seconds); then the tests without a browser and the core's docstring examples, on both
# cores; then the browser tests, one at a time (each drives a real server and chromium).
test: $(TEST_STAMP) $(CHROMIUM)
	$(PY) -m ruff check .
	$(PY) -m pytest -m "not e2e" -n 2 --durations=15
	$(PY) -m pytest -m e2e --durations=15

lint: $(TEST_STAMP)
	$(PY) -m ruff check .

# Everything but the browser tests, for a quick loop while editing the core.
test-fast: $(TEST_STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest -m "not e2e" -n 2

bench: $(APP_STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis test-artifacts
