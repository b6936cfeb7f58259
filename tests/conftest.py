"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# the suite's grading runs (and the commands it starts) keep their cache apart from the user's own
_CACHE = tempfile.mkdtemp(prefix="autograder-test-cache-")
os.environ["AUTOGRADER_CACHE"] = _CACHE
# tests fork this process (the jail's own tests): a torch thread pool started here by an earlier test would
# hang the forked child's first parallel operation, so torch here runs single-threaded, as the zygote does
os.environ["OMP_NUM_THREADS"] = "1"


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_CACHE, ignore_errors=True)


@pytest.fixture(scope="session")
def book_build() -> subprocess.CompletedProcess:
    """Build the book once per session, exactly as CI and the README do."""
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    proc = subprocess.run(
        [str(jupyter_book), "build", ".", "-W", "-n", "--keep-going"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    return proc


@pytest.fixture(scope="session")
def built_book(book_build: subprocess.CompletedProcess) -> Path:
    """The built HTML site (``_build/html``); fails if the build failed."""
    assert book_build.returncode == 0, "book build failed:\n" + (book_build.stdout + book_build.stderr)[-5000:]
    return ROOT / "_build" / "html"


_MODULE_MARKS = {"test_book": "book", "test_instructor": "book", "test_browser": "browser"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tiers by module: the book's and the browser's tests carry their marker (``-m "not book"``)."""
    for item in items:
        mark = _MODULE_MARKS.get(item.module.__name__.rsplit(".", 1)[-1]) if item.module else None
        if mark:
            item.add_marker(getattr(pytest.mark, mark))
