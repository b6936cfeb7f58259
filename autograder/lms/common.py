"""Small pieces every LMS module uses: name normalisation, numbers, scores as the LMS stores them."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from ..results import StudentResult


def norm(text: str) -> str:
    """Lower-case letters and digits only (to compare assignment names)."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def number(text: str) -> float | None:
    """A number as an export writes it (a decimal comma too), or None."""
    try:
        return float(text.replace(",", "."))
    except (ValueError, AttributeError):
        return None


def scaled(result: StudentResult, points: float | None) -> str:
    """The score as the LMS should store it (scaled to its points possible), or blank.

    Blank when the score is not the student's grade as it stands (not graded,
    refused, awaiting manual grading, a collision, an ambiguous match): an
    empty cell leaves the LMS's grade alone, and the instructor decides.
    """
    if not result.exported:
        return ""
    top = points if points and points > 0 else result.max_score
    value = result.score * top / result.max_score if result.max_score else 0.0
    return f"{round(value, 2):g}"


def feedback_text(result: StudentResult, *, limit: int = 240) -> str:
    """A plain-text summary for the LMS's feedback field: score, remarks, cells that lost points."""
    if not result.graded:
        return f"{result.assignment}: {result.status}"
    parts = [f"{result.assignment}: {result.score:g} / {result.max_score:g}"]
    if not result.exported:
        parts.append(result.status)
    if result.late_penalty:
        parts.append(f"late penalty -{result.late_penalty:g}")
    parts += [n for n in result.notes if n not in parts[-1]]
    for cell in result.cells:
        reviewed = cell.grade_id in result.manual and cell.message != "awaits manual grading"  # a written answer
        if reviewed or (cell.points < cell.max_points and cell.grade_id not in result.manual):
            message = cell.message.strip().splitlines()[0][:limit] if cell.message.strip() else ""
            parts.append(f"{cell.grade_id} {cell.points:g}/{cell.max_points:g}" + (f": {message}" if message else ""))
    return "; ".join(parts)


def zip_pages(path: Path, pages: list[tuple[str, Path]]) -> list[Path]:
    """Write the feedback ``pages`` into the zip ``path``, each under its name there; [path], or [] if no page."""
    if not pages:
        return []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, page in pages:
            zf.write(page, name)
    return [path]
