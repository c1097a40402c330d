# SurgicalAIPlanner: `make demo` and `make test` work on a fresh machine (they set everything up).
PYTHON := .venv/bin/python
export QT_QPA_PLATFORM ?= offscreen

.PHONY: setup demo test bench bench-interactive bench-seg bench-landmarks serve bench-web clean

setup:
	@bash scripts/bootstrap.sh

demo: setup
	$(PYTHON) -m SurgicalAIPlannerLib demo --output-dir output/demo

test: setup
	$(PYTHON) -m pytest -q Testing/Python

bench: setup bench-interactive bench-seg bench-landmarks bench-web

bench-interactive: setup
	$(PYTHON) Testing/Benchmarks/bench_interactive.py

bench-seg: setup
	$(PYTHON) Testing/Benchmarks/bench_segmentation.py

bench-landmarks: setup
	$(PYTHON) Testing/Benchmarks/bench_landmarks.py

serve: setup
	$(PYTHON) -m SurgicalAIPlannerLib serve

bench-web: setup
	$(PYTHON) Testing/Benchmarks/bench_web.py

clean:
	rm -rf output .pytest_cache
