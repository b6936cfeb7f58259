"""The book builds with zero warnings, and every chapter is in it with its figures.

Also what a reader sees: shown code holds no build-time check or glue plumbing
and fits in 88 columns, every figure has alt text, the hidden checks did run,
and the pages offer launch buttons and a publishing path.
"""

from __future__ import annotations

import ast
import html
import re
import subprocess
from pathlib import Path

import nbformat
import pytest
import yaml

from tests.helpers import ASSIGNMENTS, ROOT

# chapter -> the least number of figures it must show (counted in the built HTML),
# in reading order: images.md defines the cross-correlation before any chapter uses it.
CHAPTERS = {
    "intro": 1,
    "images": 6,
    "pooling": 4,
    "fc_to_conv": 4,
    "conv_as_matmul": 3,
    "padding_stride": 3,
    "channels": 2,
    "one_by_one": 3,
    "diagonal_edges": 6,
    "designing_kernels": 8,
    "exercises": 0,
    "publishing": 0,
}
#: Chapters whose code cells are executed at build (the others are plain Markdown).
EXECUTED = [name for name in CHAPTERS if name not in ("exercises", "publishing")]
#: The widest code line a page shows without a horizontal scrollbar.
MAX_CODE_LINE = 88
CODE_CELL = re.compile(r"```\{code-cell\}[^\n]*\n(.*?)\n```", re.DOTALL)
#: Tags that keep a cell's source off the page (hide-input folds it behind a toggle).
REMOVED = {"remove-cell", "remove-input"}


def test_build_has_no_warnings(book_build: subprocess.CompletedProcess) -> None:
    """`jupyter-book build . -W -n --keep-going` succeeds and prints no warning."""
    output = book_build.stdout + book_build.stderr
    assert book_build.returncode == 0, output[-5000:]
    warnings = [line for line in output.splitlines() if re.search(r"\bWARNING\b", line) and "IPKernelApp" not in line]
    assert not warnings, "\n".join(warnings[:20])


def test_toc_lists_the_chapters_in_order() -> None:
    """_toc.yml lists the chapters in the course's order, the exercise pages under `exercises`."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for c in toc["chapters"]]
    assert files == [f"book/{c}" for c in CHAPTERS]
    (part,) = [c for c in toc["chapters"] if "sections" in c]
    assert part["file"] == "book/exercises"
    # every assignment once, in the order the chapters introduce them
    assert sorted(s["file"] for s in part["sections"]) == [f"exercises/{a}/{a}" for a in ASSIGNMENTS]


def _calls_a_convolution(source: str) -> bool:
    return bool(re.search(r"\b(?:F\.conv[123]d|nn\.Conv[123]d|conv2d)\(|\bxcorr\(", source))


def test_cross_correlation_is_defined_before_any_chapter_uses_it() -> None:
    """No chapter before images.md (the one that defines the cross-correlation) shows a convolution call."""
    order = list(CHAPTERS)
    first_user = next(
        name
        for name in order
        if any(
            _calls_a_convolution(cell) and not (_tags(cell) & REMOVED)
            for cell in CODE_CELL.findall((ROOT / "book" / f"{name}.md").read_text(encoding="utf-8"))
        )
    )
    assert first_user == "images", f"{first_user}.md shows a convolution before images.md defines it"


def _tags(cell: str) -> set[str]:
    match = re.search(r"^:tags:\s*\[(.*?)\]", cell, re.MULTILINE)
    return {tag.strip() for tag in match.group(1).split(",")} if match else set()


def _shown_cells(chapter: str) -> list[tuple[int, str, set[str]]]:
    """(line, source, tags) of every code cell of a chapter whose source a reader can open."""
    text = (ROOT / "book" / f"{chapter}.md").read_text(encoding="utf-8")
    cells = []
    for match in CODE_CELL.finditer(text):
        body, tags = match.group(1), _tags(match.group(1))
        if tags & REMOVED:
            continue
        source = "\n".join(line for line in body.splitlines() if not line.startswith(":"))
        cells.append((text[: match.start()].count("\n") + 1, source, tags))
    return cells


@pytest.mark.parametrize("chapter", EXECUTED)
def test_shown_code_has_no_checks_and_fits(chapter: str) -> None:
    """No code a reader can open calls glue(); code shown unfolded has no assert; no shown line exceeds 88 columns."""
    problems = []
    for line, source, tags in _shown_cells(chapter):
        for number, text in enumerate(source.splitlines()):
            if len(text) > MAX_CODE_LINE:
                problems.append(f"line {line + number + 1}: {len(text)} columns")
        for node in ast.walk(ast.parse(source)):
            is_glue = isinstance(node, ast.Call) and getattr(node.func, "id", "") == "glue"
            # a check folded behind a toggle (hide-input) is evidence; glue plumbing never is
            if is_glue or (isinstance(node, ast.Assert) and "hide-input" not in tags):
                kind = "glue()" if is_glue else "assert"
                problems.append(f"cell at line {line}: a shown {kind} (move it to a remove-cell cell)")
    assert not problems, f"book/{chapter}.md:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("chapter", EXECUTED)
def test_hidden_checks_ran_at_build(built_book: Path, chapter: str) -> None:
    """The executed notebook of a chapter ran every cell, the hidden checks included."""
    notebook = nbformat.read(ROOT / "_build" / "jupyter_execute" / "book" / f"{chapter}.ipynb", as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    # every cell runs at build, and a failing one (a failed check) fails the build
    assert config["execute"]["execute_notebooks"] in ("cache", "force", "auto")
    assert config["sphinx"]["config"]["nb_execution_raise_on_error"] is True
    hidden = [cell for cell in code if set(cell.metadata.get("tags", [])) & REMOVED]
    assert any("assert" in cell.source for cell in hidden), f"{chapter}: no hidden check"
    errors = [out for cell in code for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    assert not errors, f"{chapter}: {errors[0].get('ename')}"


@pytest.mark.parametrize("chapter", sorted(CHAPTERS))
def test_every_figure_has_alt_text(built_book: Path, chapter: str) -> None:
    """Every figure of a page has alt text that describes it (words, not its file name)."""
    page = (built_book / "book" / f"{chapter}.html").read_text(encoding="utf-8")
    for tag in re.findall(r"<img[^>]+>", page):
        src = re.search(r'src="([^"]+)"', tag).group(1)
        if "_images" not in src:
            continue
        alt = html.unescape(re.search(r'alt="([^"]*)"', tag).group(1))
        assert len(alt.split()) >= 12 and "_images" not in alt, f"{chapter}: {src} has alt text {alt!r}"


#: Addresses the book once shipped as placeholders; no page may link to them.
PLACEHOLDER_HOSTS = ("hub.example.org", "convolutions-course/convolutions-course")


def test_course_addresses_are_one_documented_setting() -> None:
    """_config.yml holds the course's addresses (repository, hub, published URL), none of them a placeholder."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert "url" in config["repository"] and "jupyterhub_url" in config["launch_buttons"]
    assert "baseurl" in config["html"]
    assert "use_repository_button" not in config["html"], "the repository button follows repository.url"
    text = (ROOT / "_config.yml").read_text(encoding="utf-8")
    assert not [host for host in PLACEHOLDER_HOSTS if host in text]


def test_course_links_only_for_addresses_that_are_set() -> None:
    """book_theme.course_links: buttons only for a set repository and hub; a given hub without a repository gives none."""
    from book._ext.book_theme import course_links

    launch = {"notebook_interface": "jupyterlab", "colab_url": "https://colab.research.google.com"}
    empty = course_links({"repository_url": "", "launch_buttons": {**launch, "jupyterhub_url": "https://hub.x.edu"}})
    assert empty["use_repository_button"] is False and empty["launch_buttons"] == {}
    no_hub = course_links(
        {"repository_url": "https://github.com/o/r", "launch_buttons": {**launch, "jupyterhub_url": ""}}
    )
    assert no_hub["use_repository_button"] is True
    assert no_hub["launch_buttons"] == launch
    both = course_links(
        {"repository_url": "https://github.com/o/r", "launch_buttons": {**launch, "jupyterhub_url": "h"}}
    )
    assert both["launch_buttons"]["jupyterhub_url"] == "h"


def test_pages_link_only_to_configured_addresses(built_book: Path) -> None:
    """Launch and repository buttons appear exactly when their address is set; no page names a placeholder host."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    repo = config["repository"]["url"]
    hub = config["launch_buttons"]["jupyterhub_url"]
    colab = config["launch_buttons"]["colab_url"]
    exercise = (built_book / "exercises" / "corr2d" / "corr2d.html").read_text(encoding="utf-8")
    chapter = (built_book / "book" / "images.html").read_text(encoding="utf-8")
    slug = repo.removeprefix("https://github.com/")
    assert (f"{colab}/github/{slug}/blob/main/exercises/corr2d/corr2d.ipynb" in exercise) == bool(repo)
    assert colab not in chapter  # Colab opens notebooks, not the Markdown chapters
    for page in (exercise, chapter):
        assert ("/hub/user-redirect/git-pull?" in page) == bool(repo and hub)
        assert ('class="btn btn-sm btn-source-repository-button' in page) == bool(repo)
    for page in sorted(built_book.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        assert not [host for host in PLACEHOLDER_HOSTS if host in text], f"{page.name} links a placeholder host"


def test_publishing_path() -> None:
    """`make publish` pushes the built site with ghp-import; the workflow builds every push, publishes main."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^publish: book\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe and "ghp-import" in recipe.group(1) and "_build/html" in recipe.group(1)
    assert re.search(r"^ghp-import==[\d.]+$", (ROOT / "requirements.txt").read_text(), re.MULTILINE)
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text(encoding="utf-8"))
    steps = workflow["jobs"]["book"]["steps"]
    runs = {step.get("run", "").strip().splitlines()[-1]: step for step in steps if "run" in step}
    assert "make book" in runs
    publish = runs["make publish"]
    assert publish["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    assert workflow["permissions"]["contents"] == "write"


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
