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

.PHONY: all setup system exercises book publish instructor demo test bench lint clean

all: setup exercises book demo

$(BIN)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

system:
	@sh scripts/install_system_packages.sh

setup: system $(BIN)/.installed

exercises: $(BIN)/.installed
	mkdir -p _build
	for a in $(ASSIGNMENTS); do $(BIN)/nbgrader generate_assignment $$a --force --log-level=WARN || exit 1; done

book: $(BIN)/.installed
	$(BIN)/jupyter-book build . $(JB_FLAGS)

# Push the built site to the gh-pages branch of `origin` (GitHub Pages serves it;
# -n adds .nojekyll so that Sphinx's _static folder is served). book/publishing.md.
publish: book
	$(BIN)/ghp-import -n -p -f -m "Publish the book" _build/html

instructor: $(BIN)/.installed
	$(BIN)/python scripts/build_instructor.py

demo: $(BIN)/.installed
	$(BIN)/python scripts/make_demo_class.py demo/corr2d
	$(BIN)/python -m autograder grade corr2d demo/corr2d --out graded/corr2d

test: lint
	$(BIN)/python -m pytest

bench: $(BIN)/.installed
	$(BIN)/python -m autograder bench -n 30

LINTED := autograder tests scripts book/_ext book/course_plots.py

lint: $(BIN)/.installed
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/ruff check $(LINTED)

clean:
	rm -rf _build graded demo
