# lowprec: `make demo` and `make test` each set up .venv and run.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.lowprec-installed
SOURCES := pyproject.toml CMakeLists.txt $(shell find csrc -type f 2>/dev/null)

.PHONY: demo test lint format bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# torch is pinned (a CPU wheel is on local disk; an unpinned torch pulls a multi-GB CUDA build)
$(STAMP): $(PY) $(SOURCES)
	$(PIP) install -q "torch==2.13.0"
	$(PIP) install -q -e ".[test,torch,jax]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/lowprec demo --out lowprec-demo

test: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src tests benchmarks examples
	LOWPREC_REQUIRE_CPP=1 $(PY) -m pytest -n 2 --dist worksteal -q --durations=30

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src tests benchmarks examples

format: $(STAMP)
	$(VENV)/bin/ruff check --fix src tests benchmarks examples
	$(VENV)/bin/ruff format src tests benchmarks examples

bench: $(STAMP)
	$(PIP) install -q -e ".[bench]"
	$(PY) benchmarks/bench_cast.py

clean:
	rm -rf build $(VENV) lowprec-demo
