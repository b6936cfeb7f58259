"""Helpers shared by the tests of the built book (browser, offline, instructor edition).

They know where the builds live, which pages the table of contents lists, which
lines of the source notebooks are secret (solutions and hidden tests), and how
to search a built HTML tree for such lines.
"""

from __future__ import annotations

import functools
import html
import html.parser
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat

from autograder.layout import assignments as course_assignments
from autograder.layout import toc_docnames  # noqa: F401  (one walker of _toc.yml, used by the browser tests)

REPO = Path(__file__).resolve().parents[1]
#: The instructor edition, as `make instructor` writes it.
INSTRUCTOR_HTML = REPO / "_build" / "instructor" / "_build" / "html"
SCREENSHOTS = REPO / "_build" / "screenshots"

#: axe-core, the accessibility engine of the browser test: an exact version from
#: the npm registry, installed by `npm` on first use (never fetched by a page).
AXE_VERSION = "4.14.1"
AXE_DIR = REPO / "_build" / "axe-core"

#: nbgrader's delimiters (its defaults) of the regions a released notebook must not contain.
SECRET_REGIONS = {
    "solution": ("BEGIN SOLUTION", "END SOLUTION"),
    "hidden test": ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS"),
}
#: Shorter lines (`return Y`, `pass`, ...) are too common to prove a leak.
MIN_SECRET_LINE = 12


def assignments() -> list[str]:
    """The course's assignments (the folders of solutions/)."""
    return course_assignments(REPO)


def build_instructor_book() -> Path:
    """Build (or bring up to date) the instructor edition with `scripts/build_instructor.py`.

    Raises `RuntimeError` with the build's output when the build fails.
    """
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "build_instructor.py")],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError("scripts/build_instructor.py failed:\n" + result.stdout[-5000:] + result.stderr[-3000:])
    return INSTRUCTOR_HTML


def axe_script() -> Path:
    """Return the path of `axe.min.js` (axe-core `AXE_VERSION`), installing it with npm if needed.

    The package goes to `_build/axe-core/node_modules` through npm's configured
    registry. Raises `RuntimeError` when npm is missing or the install fails.
    """
    package = AXE_DIR / "node_modules" / "axe-core"
    script = package / "axe.min.js"
    if script.is_file() and json.loads((package / "package.json").read_text())["version"] == AXE_VERSION:
        return script
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed: install Node.js and npm (Debian packages nodejs, npm)")
    AXE_DIR.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [
            npm,
            "install",
            "--prefix",
            str(AXE_DIR),
            "--no-save",
            "--no-package-lock",
            "--no-audit",
            "--no-fund",
            f"axe-core@{AXE_VERSION}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0 or not script.is_file():
        raise RuntimeError(
            f"npm install axe-core@{AXE_VERSION} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )
    return script


def normalize(text: str) -> str:
    """Collapse every run of whitespace to one space and fold typographic quotes (Sphinx's smartquotes) to ASCII,
    so neither layout nor typography can hide a match."""
    text = text.translate(str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'}))
    return re.sub(r"\s+", " ", text).strip()


def _as_shown(line: str) -> str:
    """A markdown line as a reader sees it: no emphasis or code marks; an HTML comment shows nothing."""
    if re.fullmatch(r"\s*<!--.*-->\s*", line):
        return ""
    line = re.sub(r"\*\*|__|`", "", line)
    return re.sub(r"(?<![\w*])\*(\S(?:.*?\S)?)\*(?![\w*])", r"\1", line)  # *emphasis*


def _regions(notebook_path: Path) -> tuple[dict[str, set[str]], set[str]]:
    """Split a source notebook's lines into secret regions (by kind) and the rest.

    A markdown cell's lines (a written question's model answer) count as the book shows them (``_as_shown``);
    its fenced rubric shows verbatim.
    """
    notebook = nbformat.read(notebook_path, as_version=4)
    inside: dict[str, set[str]] = {kind: set() for kind in SECRET_REGIONS}
    outside: set[str] = set()
    for cell in notebook.cells:
        lines = cell.source.splitlines()
        if cell.cell_type == "markdown":
            fenced, shown = False, []
            for line in lines:
                fenced ^= line.lstrip().startswith("```")
                shown.append(line if fenced or line.lstrip().startswith("```") else _as_shown(line))
            lines = shown
        is_solution_cell = cell.metadata.get("nbgrader", {}).get("solution", False)
        if is_solution_cell and not any(SECRET_REGIONS["solution"][0] in line for line in lines):
            # nbgrader replaces a solution cell without delimiters whole.
            inside["solution"].update(normalize(line) for line in lines)
            continue
        region = None
        for line in lines:
            starts = [kind for kind, (begin, _) in SECRET_REGIONS.items() if begin in line]
            if region is None and starts:
                region = starts[0]
            elif region is not None and SECRET_REGIONS[region][1] in line:
                region = None
            elif region is not None:
                inside[region].add(normalize(line))
            else:
                outside.add(normalize(line))
    return inside, outside


def public_lines(repo: Path = REPO) -> set[str]:
    """Lines the course publishes on purpose: the chapters' sources and every
    source notebook outside its secret regions (what its released copy shows)."""
    public: set[str] = set()
    for chapter in sorted((repo / "book").rglob("*.md")):
        public |= text_lines(chapter.read_text(encoding="utf-8"))
    for source in sorted((repo / "solutions").glob("*/*.ipynb")):
        public |= _regions(source)[1]
    return public


def secret_lines(source_notebook: Path, public: set[str] | None = None) -> dict[str, set[str]]:
    """Return the non-trivial lines of a source notebook's solutions and hidden tests.

    A line counts when it lies between nbgrader's delimiters (or anywhere in a
    solution cell without delimiters, which nbgrader replaces whole), has at
    least `MIN_SECRET_LINE` characters, and is not published on purpose
    (`public_lines`: a line the chapters or a released notebook show anyway,
    such as `h, w = X.shape`, proves nothing). Keys are the region kinds of
    `SECRET_REGIONS`; lines are whitespace-normalized.
    """
    inside, _ = _regions(source_notebook)
    public = public_lines() if public is None else public
    return {
        kind: {line for line in lines if len(line) >= MIN_SECRET_LINE and line not in public}
        for kind, lines in inside.items()
    }


class _TextExtractor(html.parser.HTMLParser):
    """Collect the text of an HTML document (what a reader sees, scripts included)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _json_strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _json_strings(item)


def searchable_text(path: Path) -> str | None:
    """Return what a reader or a script can read in one built file, or None for binaries.

    HTML is reduced to its text (so syntax highlighting's markup cannot split a
    line), JSON and notebooks to their strings joined by newlines (every source
    line and output), everything else is taken as text with entities decoded.
    """
    try:
        raw = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, ValueError):
        return None
    if path.suffix in {".html", ".htm", ".xml"}:
        extractor = _TextExtractor()
        extractor.feed(raw)
        return "".join(extractor.parts)
    if path.suffix in {".ipynb", ".json"}:
        try:
            return "\n".join(_json_strings(json.loads(raw)))
        except json.JSONDecodeError:
            return raw
    return html.unescape(raw)


def text_lines(text: str) -> set[str]:
    """The whitespace-normalized lines of a text, as a set (a secret line must match one whole)."""
    return {normalize(line) for line in text.splitlines()}


@functools.cache
def _tree_lines(tree: Path) -> dict[str, frozenset[str]]:
    """The text lines of every readable file under `tree`, by path relative to `tree`."""
    lines: dict[str, frozenset[str]] = {}
    for path in sorted(tree.rglob("*")):
        text = searchable_text(path) if path.is_file() else None
        if text is not None:
            # Escaped newlines (in JavaScript string literals) separate lines too.
            lines[path.relative_to(tree).as_posix()] = frozenset(text_lines(text.replace("\\n", "\n")))
    return lines


def find_lines(tree: Path, lines: set[str]) -> dict[str, list[str]]:
    """Map each of `lines` that is a whole line of some file under `tree` to those files (relative).

    The files are read once per `tree` and test session.
    """
    found: dict[str, list[str]] = {}
    for name, haystack in _tree_lines(tree.resolve()).items():
        for line in lines & haystack:
            found.setdefault(line, []).append(name)
    return found
