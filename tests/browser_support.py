"""Helpers shared by the tests of the built book (browser, offline, instructor edition).

They know where the builds live, which pages the table of contents lists, which
lines of the source notebooks are secret (solutions and hidden tests), and how
to search a built HTML tree for such lines.
"""

from __future__ import annotations

import html
import html.parser
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
import yaml

REPO = Path(__file__).resolve().parents[1]
#: The student edition, as `jupyter-book build .` writes it.
STUDENT_HTML = REPO / "_build" / "html"
#: The instructor edition, as `make instructor` writes it.
INSTRUCTOR_HTML = REPO / "_build" / "instructor" / "_build" / "html"
SCREENSHOTS = REPO / "_build" / "screenshots"

#: nbgrader's delimiters (its defaults) of the regions a released notebook must not contain.
SECRET_REGIONS = {
    "solution": ("BEGIN SOLUTION", "END SOLUTION"),
    "hidden test": ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS"),
}
#: Shorter lines (`return Y`, `pass`, ...) are too common to prove a leak.
MIN_SECRET_LINE = 12


def toc_docnames(toc_file: Path = REPO / "_toc.yml") -> list[str]:
    """Return every document of a Jupyter Book `_toc.yml`, in reading order."""
    toc = yaml.safe_load(toc_file.read_text(encoding="utf-8"))
    names = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                names.append(
                    str(entry["file"]).removesuffix(".md").removesuffix(".ipynb")
                )
            for key in ("sections", "chapters", "parts"):
                walk(entry.get(key, []))

    for key in ("chapters", "parts", "sections"):
        walk(toc.get(key, []))
    return names


def assignments() -> list[str]:
    """Return the assignments whose released notebooks the table of contents lists."""
    return [
        name.split("/")[1] for name in toc_docnames() if name.startswith("exercises/")
    ]


def build_student_book() -> Path:
    """Build the student edition into `_build/html` if it is not there yet; return the folder.

    Raises `RuntimeError` with the build's output when the build fails.
    """
    if not (STUDENT_HTML / "index.html").is_file():
        jupyter_book = Path(sys.executable).with_name("jupyter-book")
        result = subprocess.run(
            [str(jupyter_book), "build", ".", "-W", "-n", "--keep-going"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                "`jupyter-book build . -W -n --keep-going` failed:\n"
                + result.stdout[-5000:]
                + result.stderr[-3000:]
            )
    return STUDENT_HTML


def build_instructor_book() -> Path:
    """Build the instructor edition with `scripts/build_instructor.py` if it is not there yet.

    Raises `RuntimeError` with the build's output when the build fails.
    """
    if not (INSTRUCTOR_HTML / "index.html").is_file():
        result = subprocess.run(
            [sys.executable, str(REPO / "scripts" / "build_instructor.py")],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                "scripts/build_instructor.py failed:\n"
                + result.stdout[-5000:]
                + result.stderr[-3000:]
            )
    return INSTRUCTOR_HTML


def normalize(text: str) -> str:
    """Collapse every run of whitespace to one space, so layout cannot hide a match."""
    return re.sub(r"\s+", " ", text).strip()


def secret_lines(source_notebook: Path) -> dict[str, set[str]]:
    """Return the non-trivial lines of a source notebook's solutions and hidden tests.

    A line counts when it lies between nbgrader's delimiters (or anywhere in a
    solution cell without delimiters, which nbgrader replaces whole), has at
    least `MIN_SECRET_LINE` characters, and appears nowhere outside those
    regions (a line that is also part of the released text proves nothing).
    Keys are the region kinds of `SECRET_REGIONS`; lines are whitespace-normalized.
    """
    notebook = nbformat.read(source_notebook, as_version=4)
    inside: dict[str, set[str]] = {kind: set() for kind in SECRET_REGIONS}
    outside: set[str] = set()
    for cell in notebook.cells:
        lines = cell.source.splitlines()
        is_solution_cell = cell.metadata.get("nbgrader", {}).get("solution", False)
        if is_solution_cell and not any(
            SECRET_REGIONS["solution"][0] in line for line in lines
        ):
            inside["solution"].update(normalize(line) for line in lines)
            continue
        region = None
        for line in lines:
            starts = [
                kind for kind, (begin, _) in SECRET_REGIONS.items() if begin in line
            ]
            if region is None and starts:
                region = starts[0]
            elif region is not None and SECRET_REGIONS[region][1] in line:
                region = None
            elif region is not None:
                inside[region].add(normalize(line))
            else:
                outside.add(normalize(line))
    return {
        kind: {
            line
            for line in lines
            if len(line) >= MIN_SECRET_LINE and line not in outside
        }
        for kind, lines in inside.items()
    }


class _TextExtractor(html.parser.HTMLParser):
    """Collect the text of an HTML document, attribute values included."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.parts.extend(f" {value} " for _, value in attrs if value)


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


def find_lines(tree: Path, lines: set[str]) -> dict[str, list[str]]:
    """Map each of `lines` found in some file under `tree` to the files (relative) that contain it."""
    found: dict[str, list[str]] = {}
    for path in sorted(tree.rglob("*")):
        if not path.is_file():
            continue
        text = searchable_text(path)
        if text is None:
            continue
        # Both the raw lines and the text of a file are whitespace-normalized.
        haystack = normalize(text.replace("\\n", "\n"))
        for line in lines:
            if line in haystack:
                found.setdefault(line, []).append(path.relative_to(tree).as_posix())
    return found
