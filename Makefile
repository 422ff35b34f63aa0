# Fresh machine: `make smoke` rebuilds reports/smoke/all; `make test` runs the tests.
# Both create the virtual environment (and, as root on Debian, the offline data packages).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CORES ?= 2

.PHONY: env system-deps smoke small paper paper-check publish-small publish-paper test controls clean

env: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first, pinned: a looser range would pull a newer multi-GB build.
	$(BIN)/pip install -q torch==2.14.1 torchvision==0.29.1
	$(BIN)/pip install -q -e '.[test]'
	touch $@

# Offline stand-in data: Fashion-MNIST images and the fortunes English corpus (Debian).
system-deps:
	@if [ -d /usr/share/datasets/fashion-mnist ] && [ -d /usr/share/games/fortunes ]; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist fortunes >/dev/null; \
	else echo "note: without the Debian packages dataset-fashion-mnist and fortunes, 'replicate fetch' downloads the data"; fi

smoke: env system-deps
	$(BIN)/snakemake --cores $(CORES) reports/smoke/all --config scale=smoke
	$(BIN)/snakemake --report reports/smoke/report.html --config scale=smoke

small: env system-deps
	$(BIN)/snakemake --cores $(CORES) reports/small/all --config scale=small

paper: env
	$(BIN)/snakemake --cores all reports/paper/all --config scale=paper

# Publish a built study into git: reports/published/<scale>/ (scorecard, figures, measured values,
# run records and curves, its stamp; no checkpoints) and the README's status table from it.
# Then commit reports/published/<scale> and README.md.
publish-small publish-paper: publish-%: env
	$(BIN)/replicate publish --scale $*
	$(BIN)/replicate readme-status

# Every distinct paper job at paper sizes, iteration and sample counts cut, on fixtures in each
# dataset's real format, with a random-weight Inception stand-in: seconds and peak memory per job
# (a table in paper-check/; about an hour on 2 cores, outside CI).
paper-check: env
	$(BIN)/replicate paper-check --jobs $(CORES)

test: env system-deps
	$(BIN)/pytest -q

# The claims' slow controls too (runs that really train; tens of minutes, outside CI).
controls: env system-deps
	$(BIN)/pytest -q tests/test_controls.py --slow-controls

# Everything scale smoke built, its resumable state included (else a rebuild resumes finished
# runs). .snakemake/ stays: it holds the other scales' records, and a missing file is rebuilt
# whatever it says. reports/all and logs/manifest.log: where the manifest and its log were
# before targets named their scale.
clean:
	rm -rf results/smoke results/.state/smoke reports/smoke logs/smoke reports/all logs/manifest.log

# Speed of the papers' image steps vs an official-style loop (not part of the tests): benchmarks/README.md
.PHONY: bench
bench: env
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)
