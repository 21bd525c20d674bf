# The README's two commands. Each does all set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench bench-search bench-calibration examples golden clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first and exactly this version: the CPU wheel is on the machine; any other spec pulls CUDA.
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/edgesim demo

test: $(STAMP)
	bash tools/ensure-chromium.sh
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check edgesim tests benchmarks
	$(BIN)/mypy edgesim
	$(BIN)/lint-imports --no-cache

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

bench-search: $(STAMP)
	$(BIN)/python benchmarks/search.py

# Calibrate to this machine, then predicted vs measured on models calibration never saw.
bench-calibration: $(STAMP)
	$(BIN)/python benchmarks/calibration.py

# The seed-system examples in full (minutes each); their summaries land in examples/results/,
# which the demo reads.
examples: $(STAMP)
	for f in examples/*.py; do $(BIN)/python $$f || exit 1; done

# Rewrite the golden snapshot (tests/golden/): only when a model change is meant to move numbers.
golden: $(STAMP)
	$(BIN)/python -m tests.golden.snapshot

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
