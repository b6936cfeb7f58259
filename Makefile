# Entry points of the course. `make` sets everything up and grades the demo
# class; `make test` runs the whole test suite. Both work on a fresh machine
# with Python 3.11.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Every tool runs with the venv's bin first on PATH: nbgrader starts `alembic`,
# jupyter-book starts a kernel, and neither looks beside its own executable.
export PATH := $(abspath $(BIN)):$(PATH)
# the assignments are the folders of solutions/ (one source of truth)
ASSIGNMENTS := $(sort $(notdir $(patsubst %/,%,$(dir $(wildcard solutions/*/*.ipynb)))))
JB_FLAGS := -W -n --keep-going

.PHONY: all setup system exercises book publish instructor demo test test-fast bench lint clean

all: setup exercises book demo

# The pinned environment, then the course package itself (editable, pyproject.toml): every kernel,
# plain `nbgrader autograde`'s too, imports autograder without a PYTHONPATH.
$(BIN)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

system:
	@sh scripts/install_system_packages.sh

setup: system $(BIN)/.installed

# A student-edition fork has no solutions/ (book/publishing.md): it keeps exercises/ as they are,
# and there is no demo class to grade; `make` says so and builds the rest.
ifeq ($(ASSIGNMENTS),)
exercises:
	@echo "make exercises: skipped: no solutions/ (a student edition); exercises/ is kept as it is"
else
exercises: $(BIN)/.installed
	for a in $(ASSIGNMENTS); do $(BIN)/nbgrader generate_assignment $$a --force --log-level=WARN || exit 1; done
endif

book: $(BIN)/.installed
	$(BIN)/jupyter-book build . $(JB_FLAGS)

# Push the built site to the gh-pages branch of `origin` (GitHub Pages serves it;
# -n adds .nojekyll so that Sphinx's _static folder is served). book/publishing.md.
publish: book
	$(BIN)/ghp-import -n -p -f -m "Publish the book" _build/html

instructor: $(BIN)/.installed
	$(BIN)/python scripts/build_instructor.py

ifeq ($(wildcard solutions/corr2d/corr2d.ipynb),)
demo:
	@echo "make demo: skipped: no solutions/corr2d (a student edition); grading needs the source notebooks"
else
demo: $(BIN)/.installed
	$(BIN)/python scripts/make_demo_class.py demo/corr2d
	$(BIN)/python -m autograder grade corr2d demo/corr2d --out graded/corr2d
endif

test: lint
	$(BIN)/python -m pytest

# the unit tier (tests/unit: protocol, proxies, jail, prepare, checks, CLI): seconds, no grading runs
test-fast: $(BIN)/.installed
	$(BIN)/python -m pytest tests/unit -q

bench: $(BIN)/.installed
	$(BIN)/python -m autograder bench -n 16 --dask 1,2
	$(BIN)/python -m autograder bench -n 64

LINTED := autograder tests scripts book/_ext book/course_plots.py

lint: $(BIN)/.installed
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/ruff check $(LINTED)

clean:
	rm -rf _build graded demo
