# SurgicalAIPlanner: `make demo` and `make test` work on a fresh machine (they set everything up).
PYTHON := .venv/bin/python
export QT_QPA_PLATFORM ?= offscreen
SAMPLE_CT := Resources/SampleData/example_ct.nii.gz

.PHONY: setup demo test bench clean

setup:
	@bash scripts/bootstrap.sh

demo: setup
	$(PYTHON) -m SurgicalAIPlannerLib demo --output-dir output/demo

test: setup
	$(PYTHON) -m pytest -q Testing/Python

bench: setup

clean:
	rm -rf output .pytest_cache
