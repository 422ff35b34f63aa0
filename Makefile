# Fresh machine: `make smoke` rebuilds reports/all at scale smoke; `make test` runs the tests.
# Both create the virtual environment (and, as root on Debian, the offline data packages).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CORES ?= 2

.PHONY: env system-deps smoke small paper paper-check test clean

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
	$(BIN)/snakemake --cores $(CORES) reports/all --config scale=smoke
	$(BIN)/snakemake --report reports/report.html --config scale=smoke

small: env system-deps
	$(BIN)/snakemake --cores $(CORES) reports/all --config scale=small

paper: env
	$(BIN)/snakemake --cores all reports/all --config scale=paper

# Every distinct paper job at paper sizes, iteration and sample counts cut, on fixtures in each
# dataset's real format, with a random-weight Inception stand-in: seconds and peak memory per job
# (a table in paper-check/; about an hour on 2 cores, outside CI).
paper-check: env
	$(BIN)/replicate paper-check --jobs $(CORES)

test: env system-deps
	$(BIN)/pytest -q

clean:
	rm -rf results/smoke reports/smoke logs/smoke .snakemake

# Speed of the papers' image steps vs an official-style loop (not part of the tests): benchmarks/README.md
.PHONY: bench
bench: env
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)
