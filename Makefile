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

# torch is pinned (a CPU wheel is on local disk; an unpinned torch pulls a multi-GB CUDA build).
# The compiled extensions build (a wheel, in build/) while the dependencies install; the editable
# install then finds its build directory up to date (both build in the venv, without isolation, so
# that their compile commands are the same). The build's log is shown if it fails.
$(STAMP): $(PY) $(SOURCES)
	mkdir -p build
	$(PY) tools/deps.py --build > build/build-requirements.txt
	$(PY) tools/deps.py test torch jax > build/requirements.txt
	$(PIP) install -q -r build/build-requirements.txt
	$(PIP) wheel -q --no-deps --no-build-isolation -w build/wheel . > build/extensions.log 2>&1 & ext=$$!; \
	$(PIP) install -q "torch==2.13.0" -r build/requirements.txt; deps=$$?; \
	wait $$ext || { cat build/extensions.log; exit 1; }; exit $$deps
	$(PIP) install -q --no-build-isolation -e ".[test,torch,jax]"
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
	$(PIP) install -q --no-build-isolation -e ".[bench]"
	$(PY) benchmarks/bench_cast.py

clean:
	rm -rf build $(VENV) lowprec-demo
