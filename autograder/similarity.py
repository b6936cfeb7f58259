"""Pairwise similarity of the students' answer cells: a heuristic that points at pairs worth reading.

The work is copydetect's (github.com/blingenf/copydetect): Pygments tokens with
names and strings normalised, winnowed k-gram fingerprints as in MOSS. The
released notebook's answer cells (signature, docstring, stub) are the
boilerplate, so the code every student was given does not count as shared.
A high score says two answers share long token sequences, nothing more: the
exercises are small and a correct answer has few natural shapes.
"""

from __future__ import annotations

import io
import logging
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from . import csvio

log = logging.getLogger(__name__)

NOISE = 25  # copydetect's default noise threshold (k-gram length, in filtered characters)
WINDOW = 1  # guarantee threshold = noise threshold: every shared k-gram is found
COLUMNS = ["student_a", "student_b", "similarity", "similarity_a", "similarity_b", "shared_tokens"]


@dataclass
class Pair:
    """Two students and how much of each one's answers the other's contain."""

    student_a: str
    student_b: str
    similarity_a: float  # fraction of a's fingerprinted tokens found in b's answers
    similarity_b: float
    shared_tokens: int
    code_a: str  # the answer code compared, for the side-by-side view
    code_b: str
    slices_a: list[tuple[int, int]]  # character ranges of code_a shared with code_b
    slices_b: list[tuple[int, int]]

    @property
    def similarity(self) -> float:
        return max(self.similarity_a, self.similarity_b)


def answer_code(nb: NotebookNode, answer_ids: set[str]) -> str:
    """The source of the notebook's answer cells, in order (all code cells if none carries nbgrader metadata)."""
    cells = [c for c in nb.cells if c.cell_type == "code"]
    answers = [c for c in cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") in answer_ids]
    chosen = answers or [c for c in cells if "nbgrader" not in c.get("metadata", {})]
    return "\n\n".join(str(c.source) for c in chosen).strip() + "\n"


def answer_ids(release: NotebookNode) -> set[str]:
    """grade_ids of the release notebook's answer (solution) cells."""
    return {
        c.metadata.nbgrader["grade_id"]
        for c in release.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
    }


def _fingerprint(name: str, code: str, boilerplate: Any) -> Any:
    from copydetect import CodeFingerprint

    return CodeFingerprint(name, NOISE, WINDOW, boilerplate=boilerplate, language="python", fp=io.StringIO(code))


def _ranges(slices: Any) -> list[tuple[int, int]]:
    if len(slices) == 0 or len(slices[0]) == 0:
        return []
    return [(int(a), int(b)) for a, b in zip(slices[0], slices[1])]


@dataclass
class Fingerprints:
    """The class's answers, fingerprinted: what :func:`compare` compares pair by pair."""

    codes: dict[str, str]  # student id -> the answer code fingerprinted
    prints: dict[str, Any]  # student id -> its copydetect fingerprint


def fingerprint(
    notebooks: dict[str, Path], release: NotebookNode, *, each: AbstractContextManager[Any] | None = None
) -> Fingerprints:
    """The answers of ``notebooks`` (student id to the submitted notebook), fingerprinted.

    Files that are not readable notebooks, or whose answers are only the
    template, are left out. The work of one notebook at a time, each under
    ``each`` (a lock, reentrant), without output: it can run while the class is graded.
    """
    each = each if each is not None else nullcontext()
    ids = answer_ids(release)
    template = answer_code(release, ids)
    boilerplate = _fingerprint("template.py", template, None).hashes
    codes: dict[str, str] = {}
    prints: dict[str, Any] = {}
    for sid, path in sorted(notebooks.items()):
        with each:
            try:
                nb = nbformat.read(path, as_version=4)
            except Exception as exc:  # an unreadable notebook is the grader's business, not this heuristic's
                log.debug("similarity: skipping %s (%s)", sid, exc)
                continue
            code = answer_code(nb, ids)
            fp = _fingerprint(f"{sid}.py", code, list(boilerplate))
        if fp.token_coverage:
            codes[sid], prints[sid] = code, fp
    return Fingerprints(codes, prints)


def compare(answers: Fingerprints, *, progress: bool = False, min_similarity: float = 0.0) -> list[Pair]:
    """Every pair of students whose answers (:func:`fingerprint`) share fingerprints, most similar first."""
    from copydetect import compare_files

    codes, prints = answers.codes, answers.prints
    students = sorted(prints)
    total = len(students) * (len(students) - 1) // 2
    from .report import progress_bar

    bar = progress_bar(total, enabled=progress and total > 0, desc="similarity", unit="pair")
    pairs = []
    for i, a in enumerate(students):
        for b in students[i + 1 :]:
            shared, (sim_a, sim_b), (slices_a, slices_b) = compare_files(prints[a], prints[b])
            bar.update(1)
            if shared and max(sim_a, sim_b) > min_similarity:
                pairs.append(
                    Pair(
                        a,
                        b,
                        float(sim_a),
                        float(sim_b),
                        int(shared),
                        codes[a],
                        codes[b],
                        _ranges(slices_a),
                        _ranges(slices_b),
                    )
                )
    bar.close()
    pairs.sort(key=lambda p: (-p.similarity, p.student_a, p.student_b))
    return pairs


def write_csv(pairs: list[Pair], path: Path) -> Path:
    """``similarity.csv``: one row per pair, most similar first."""
    rows = [
        [
            p.student_a,
            p.student_b,
            f"{p.similarity:.3f}",
            f"{p.similarity_a:.3f}",
            f"{p.similarity_b:.3f}",
            p.shared_tokens,
        ]
        for p in pairs
    ]
    return csvio.write_csv(path, COLUMNS, rows)
