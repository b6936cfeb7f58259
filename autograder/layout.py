"""Where the course's files are: the assignments and the book's table of contents.

One source of truth for both: the assignments are the folders of
``solutions/`` that hold a notebook of their own name, and the documents of
the book are what ``_toc.yml`` lists, walked in reading order by
:func:`toc_docnames` (the only walker of the table of contents).
"""

from __future__ import annotations

from pathlib import Path

COURSE_ROOT = Path(__file__).resolve().parent.parent


def assignments(course_root: Path = COURSE_ROOT) -> list[str]:
    """The assignment names: folders ``solutions/<name>/`` with a ``<name>.ipynb``, sorted."""
    folder = course_root / "solutions"
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if (p / f"{p.name}.ipynb").is_file())


def toc_docnames(toc_file: Path = COURSE_ROOT / "_toc.yml") -> list[str]:
    """Every document of a Jupyter Book ``_toc.yml`` (root first), in reading order, without suffix."""
    import yaml

    toc = yaml.safe_load(toc_file.read_text(encoding="utf-8"))
    names = [str(toc["root"]).removesuffix(".md").removesuffix(".ipynb")]

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                names.append(str(entry["file"]).removesuffix(".md").removesuffix(".ipynb"))
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key, []))

    for key in ("parts", "chapters", "sections"):
        walk(toc.get(key, []))
    return names


def toc_exercises(toc_file: Path = COURSE_ROOT / "_toc.yml") -> list[str]:
    """The assignments whose released notebooks the table of contents lists, in reading order."""
    return [name.split("/")[1] for name in toc_docnames(toc_file) if name.startswith("exercises/")]
