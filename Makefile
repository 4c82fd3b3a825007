# The two commands of the README: `make demo` and `make test`. Both create .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check --quiet
# An editable install leaves mlyard's own modules uncompiled; where PYTHONDONTWRITEBYTECODE is set
# (as on CI machines and in many images) every process would compile them again at start-up.
COMPILE = -m compileall -q src >/dev/null

.PHONY: demo test bench bench-ui bench-pipelines bench-serving bench-batch bench-events bench-monitoring lint clean install install-test vendor screenshots

demo: $(VENV)/.installed
	$(BIN)/python examples/diabetes/quickstart.py
	@echo "--- the same loop as a pipeline (prep → train → register if better), then again: prep and train are reused"
	$(BIN)/mlyard job create --file examples/diabetes/pipeline/pipeline.yml --stream
	$(BIN)/mlyard job create --file examples/diabetes/pipeline/pipeline.yml --stream
	@echo "--- look at it: $(BIN)/mlyard job list · $(BIN)/mlyard job list --parent-job-name <pipeline job id>"

# Two test processes (pytest-xdist, a module's tests stay together): much of the suite waits on
# subprocesses and servers, so two at a time finish sooner even on two cores.
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n 2 --dist loadscope

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench examples
	$(BIN)/lint-imports

# The tracking benchmark runs mlyard and MLflow side by side in their own environment: in one
# process, then through `mlyard server` and `mlflow server`.
bench: .venv-bench/.installed
	.venv-bench/bin/python bench/tracking.py
	.venv-bench/bin/python bench/tracking.py --remote
	.venv-bench/bin/python bench/tracking.py --large

# The studio against MLflow's UI in one headless Chromium (Debian's): 10,000 runs × 10 metrics × 100
# steps, generated once into build/bench-ui/ (ARGS="--runs 300" for a quick run, "--regenerate").
bench-ui: .venv-bench/.installed
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)
	.venv-bench/bin/python bench/ui.py $(ARGS)

# Pipelines against Metaflow's local runtime, and the Ray executor's overhead (same environment).
bench-pipelines: .venv-bench/.installed
	.venv-bench/bin/python bench/pipelines.py

# Scoring instances against MLflow's and MLServer's servers and a raw ASGI reference, under wrk.
bench-serving: .venv-bench-serving/.installed
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	.venv-bench-serving/bin/python bench/serving.py

# batch-endpoint invoke on 1M generated rows against plain model.predict (Ridge and gradient boosting).
bench-batch: $(VENV)/.installed
	$(BIN)/python bench/batch.py

# Data drift + data quality on 1M + 1M rows × 20 columns against Evidently and NannyML (own venv:
# Evidently needs pandas < 3).
bench-monitoring: .venv-bench-monitoring/.installed
	.venv-bench-monitoring/bin/python bench/monitoring.py

# The studio's front-end libraries, at the versions pinned in the script, from the npm registry into
# src/mlyard/server/studio/static/vendor/ (committed: installing needs no build step).
vendor:
	$(PYTHON) scripts/vendor_frontend.py

# A demo workspace (the diabetes quickstart, a pipeline, a sweep, an endpoint with traffic) and a PNG
# of every studio page in build/screenshots/.
screenshots: $(VENV)/.installed-test
	$(BIN)/python scripts/screenshots.py build/screenshots

# 10,000 model registrations with one webhook subscription: delivery throughput and latency, outbox cost.
bench-events: $(VENV)/.installed
	$(BIN)/python bench/events.py

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade "pip>=24"

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	$(BIN)/python $(COMPILE)
	touch $@

# The studio's browser tests drive Debian's chromium through Playwright (never `playwright install`).
$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)
	$(PIP) install -e ".[test]"
	$(BIN)/python $(COMPILE)
	touch $(VENV)/.installed $@

.venv-bench/.installed: pyproject.toml
	$(PYTHON) -m venv .venv-bench
	.venv-bench/bin/python -m pip --disable-pip-version-check --quiet install -e ".[bench]"
	.venv-bench/bin/python $(COMPILE)
	touch $@

.venv-bench-serving/.installed: pyproject.toml
	$(PYTHON) -m venv .venv-bench-serving
	.venv-bench-serving/bin/python -m pip --disable-pip-version-check --quiet install -e ".[bench-serving]"
	.venv-bench-serving/bin/python $(COMPILE)
	touch $@

.venv-bench-monitoring/.installed: pyproject.toml
	$(PYTHON) -m venv .venv-bench-monitoring
	.venv-bench-monitoring/bin/python -m pip --disable-pip-version-check --quiet install -e ".[bench-monitoring]"
	.venv-bench-monitoring/bin/python $(COMPILE)
	touch $@

clean:
	rm -rf $(VENV) .venv-bench .venv-bench-serving .venv-bench-monitoring .pytest_cache build *.egg-info src/*.egg-info
