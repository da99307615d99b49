# Two entry points: `make quickstart` (the main job on the embedded sample data) and `make test`.
# Both set up .venv (Python 3.11, the pinned CPU dependencies) once and reuse it.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
REQUIREMENTS := requirements/base.txt requirements/cpu.txt requirements/dev.txt
STAMP := $(VENV)/.installed

.PHONY: quickstart test lint venv clean

venv: $(STAMP)

$(STAMP): $(REQUIREMENTS) pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q $(addprefix -r ,$(REQUIREMENTS))
	$(VENV)/bin/python -m pip install -q --no-deps -e .
	@touch $(STAMP)

quickstart: $(STAMP)
	$(VENV)/bin/mlperf-ref quickstart --output output/quickstart

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf output .pytest_cache .ruff_cache
