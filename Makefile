# Entry points of the course. `make` sets everything up and grades the demo
# class; `make test` runs the whole test suite. Both work on a fresh machine
# with Python 3.11.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
ASSIGNMENTS := corr2d matmul_conv conv2d_training kernels one_by_one
JB_FLAGS := -W -n --keep-going

.PHONY: all setup system exercises book instructor demo test bench lint clean

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

instructor: $(BIN)/.installed
	$(BIN)/python scripts/build_instructor.py

demo: $(BIN)/.installed
	$(BIN)/python scripts/make_demo_class.py demo/corr2d
	$(BIN)/python -m autograder grade corr2d demo/corr2d --out graded/corr2d

test: $(BIN)/.installed
	$(BIN)/python -m pytest

bench: $(BIN)/.installed
	$(BIN)/python -m autograder bench -n 30

lint: $(BIN)/.installed
	$(BIN)/ruff format --check autograder tests scripts book/course_plots.py
	$(BIN)/ruff check autograder tests scripts

clean:
	rm -rf _build graded demo
