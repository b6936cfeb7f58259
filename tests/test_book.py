"""The book builds with zero warnings, and every chapter is in it with its figures."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.helpers import ASSIGNMENTS, ROOT

# chapter -> the least number of figures it must show (counted in the built HTML)
CHAPTERS = {
    "intro": 1,
    "fc_to_conv": 3,
    "one_by_one": 2,
    "conv_as_matmul": 3,
    "images": 4,
    "diagonal_edges": 4,
    "designing_kernels": 4,
    "exercises": 0,
}


def test_build_has_no_warnings(book_build: subprocess.CompletedProcess) -> None:
    """`jupyter-book build . -W -n --keep-going` succeeds and prints no warning."""
    output = book_build.stdout + book_build.stderr
    assert book_build.returncode == 0, output[-5000:]
    warnings = [line for line in output.splitlines() if re.search(r"\bWARNING\b", line) and "IPKernelApp" not in line]
    assert not warnings, "\n".join(warnings[:20])


def test_toc_lists_the_chapters_in_order() -> None:
    """_toc.yml lists the chapters in the course's order, then the five exercise pages."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for c in toc["chapters"]]
    assert files == [f"book/{c}" for c in CHAPTERS]
    sections = [s["file"] for s in toc["chapters"][-1]["sections"]]
    assert sections == [f"exercises/{a}/{a}" for a in ASSIGNMENTS]


@pytest.mark.parametrize(("chapter", "figures"), sorted(CHAPTERS.items()))
def test_chapter_page_has_its_figures(built_book: Path, chapter: str, figures: int) -> None:
    """Each chapter page exists in the built HTML, with its figures as images on disk."""
    page = built_book / "book" / f"{chapter}.html"
    assert page.is_file(), f"{page} missing"
    html = page.read_text()
    images = re.findall(r'<img[^>]+src="([^"]+\.(?:png|svg|jpg))"', html)
    outputs = [src for src in images if "_images" in src]
    assert len(outputs) >= figures, f"{chapter}: {len(outputs)} figures, expected at least {figures}"
    for src in outputs:
        assert (page.parent / src).resolve().is_file(), f"{chapter}: image {src} not in the build"
    assert "Traceback (most recent call last)" not in html, f"{chapter}: an executed cell raised"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_exercise_page_and_download(built_book: Path, assignment: str) -> None:
    """Each released notebook is a page of the book, not executed, with its .ipynb to download."""
    page = built_book / "exercises" / assignment / f"{assignment}.html"
    assert page.is_file()
    html = page.read_text()
    assert "NotImplementedError" in html  # the stub is shown ...
    assert "Traceback" not in html  # ... but never run
    assert (built_book / "_sources" / "exercises" / assignment / f"{assignment}.ipynb").is_file()
    assert f"{assignment}.ipynb" in html  # the download button links the notebook
