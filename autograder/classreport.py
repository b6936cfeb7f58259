"""``report.html``: one offline page about the whole class, for the instructor.

Score histogram, pass rate per test cell, misconception tags, pass rate per
book section (linked into the built book), the slowest submissions, the
students not graded and why, and the most similar pairs of answers side by
side (a heuristic). The histogram is ``scores.png`` embedded as base64, the pass
rates inline SVG, so the page needs no network and no other file. Everything students wrote (names,
file names, code, messages) goes through Jinja2's autoescaping.
"""

from __future__ import annotations

import base64
import functools
import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment, Template
from markupsafe import Markup

from .charts import bars_svg
from .concepts import Concept, concepts_of
from .results import State

if TYPE_CHECKING:
    from .results import GradingRun, StudentResult
    from .similarity import Pair

TOP_PAIRS = 5
SLOWEST = 10


@dataclass
class CellRow:
    grade_id: str
    max_points: float
    passed: int  # graded students with full points in the cell
    graded: int
    mean: float
    concept: Concept | None

    @property
    def rate(self) -> float:
        return self.passed / self.graded if self.graded else 0.0


def cell_rows(results: list[StudentResult], concepts: dict[str, Concept]) -> list[CellRow]:
    """Pass rate of each test cell over the graded students, in notebook order."""
    order: list[str] = []
    stats: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for r in results:
        if not r.graded:
            continue
        for c in r.cells:
            if c.grade_id not in stats:
                order.append(c.grade_id)
            stats[c.grade_id].append((c.points, c.max_points))
    rows = []
    for gid in order:
        marks = stats[gid]
        top = max(m for _, m in marks)
        rows.append(
            CellRow(
                gid,
                top,
                sum(p >= m for p, m in marks),
                len(marks),
                sum(p for p, _ in marks) / len(marks),
                concepts.get(gid),
            )
        )
    return rows


def concept_rows(cells: list[CellRow]) -> list[tuple[Concept, list[str], float]]:
    """Pass rate per concept: the share of (student, cell) pairs with full points among the concept's cells."""
    grouped: dict[Concept, list[CellRow]] = {}
    for row in cells:
        if row.concept is not None:
            grouped.setdefault(row.concept, []).append(row)
    out = []
    for concept, rows in grouped.items():
        passed, total = sum(r.passed for r in rows), sum(r.graded for r in rows)
        out.append((concept, [r.grade_id for r in rows], passed / total if total else 0.0))
    return out


def tag_rows(results: list[StudentResult]) -> list[tuple[str, int, list[str]]]:
    """Misconception tags: how many students' messages carry each, and in which cells."""
    students: Counter[str] = Counter()
    cells: dict[str, set[str]] = defaultdict(set)
    for r in results:
        seen = set()
        for c in r.cells:
            for tag in c.tags:
                cells[tag].add(c.grade_id)
                seen.add(tag)
        students.update(seen)
    return [(tag, n, sorted(cells[tag])) for tag, n in students.most_common()]


def _segments(code: str, slices: list[tuple[int, int]]) -> list[tuple[str, bool]]:
    """``code`` cut into (text, shared) pieces for the side-by-side view."""
    pieces, at = [], 0
    for start, end in sorted(slices):
        start, end = max(start, at), min(end, len(code))
        if start > at:
            pieces.append((code[at:start], False))
        if end > start:
            pieces.append((code[start:end], True))
        at = max(at, end)
    if at < len(code):
        pieces.append((code[at:], False))
    return pieces


TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{{ run.assignment }}: class report</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #555; font-size: 0.9rem; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; margin-bottom: 2rem; }
pre { background: #f6f6f6; padding: 0.5rem; overflow-x: auto; font-size: 0.8rem; white-space: pre-wrap; }
mark { background: #ffe082; }
.heuristic { border-left: 4px solid #e65100; padding: 0.3rem 0.8rem; background: #fff3e0; }
</style></head><body>
<h1>{{ run.assignment }}: class report</h1>
<p class="note">Graded {{ when }} in {{ "%.1f"|format(run.seconds) }} s; layout {{ run.layout or "folders" }};
{{ "sandboxed" if run.sandboxed else "NOT SANDBOXED" }}; maximum score {{ "%g"|format(run.max_score) }}.
{%- if reviewed %} Written answers reviewed {{ reviewed }}.{% endif %}</p>
<table>{% for state, n in states %}<tr><td>{{ state }}</td><td class="num">{{ n }}</td></tr>{% endfor %}</table>

<h2>Scores</h2>
{% if histogram %}<img alt="histogram of scores" src="data:image/png;base64,{{ histogram }}">{% endif %}

<h2>Pass rate per test cell</h2>
<p class="note">Share of the graded students with full points in the cell.</p>
<table><tr><th>cell</th><th>points</th><th>passed</th><th>pass rate</th><th>mean points</th><th>book section</th></tr>
{% for c in cells %}<tr><td>{{ c.grade_id }}</td><td class="num">{{ "%g"|format(c.max_points) }}</td>
<td class="num">{{ c.passed }} / {{ c.graded }}</td><td class="num">{{ "%.0f"|format(100 * c.rate) }}%</td>
<td class="num">{{ "%.2f"|format(c.mean) }}</td>
<td>{% if c.concept %}<a href="{{ href(c.concept) }}">{{ c.concept.title }}</a>{% endif %}</td></tr>
{% else %}<tr><td colspan="6">no graded submissions</td></tr>{% endfor %}</table>
{{ cells_chart }}

<h2>Misconceptions</h2>
<p class="note">Tags that failure messages carry (<code>[misconception: ...]</code>), counted once per student.</p>
<table><tr><th>misconception</th><th>students</th><th>cells</th></tr>
{% for tag, n, where in tags %}<tr><td>{{ tag }}</td><td class="num">{{ n }}</td><td>{{ where|join(", ") }}</td></tr>
{% else %}<tr><td colspan="3">no tagged misconception in this class</td></tr>{% endfor %}</table>

<h2>Pass rate per concept</h2>
<p class="note">Each test cell assesses a section of the book; the rate is over all graded students and the section's cells.</p>
<table><tr><th>book section</th><th>cells</th><th>pass rate</th></tr>
{% for concept, gids, rate in concepts %}<tr><td><a href="{{ href(concept) }}">{{ concept.title }}</a></td>
<td>{{ gids|join(", ") }}</td><td class="num">{{ "%.0f"|format(100 * rate) }}%</td></tr>
{% else %}<tr><td colspan="3">no graded submissions</td></tr>{% endfor %}</table>
{{ concepts_chart }}

<h2>Slowest submissions</h2>
<table><tr><th>student</th><th>seconds</th><th>status</th></tr>
{% for r in slowest %}<tr><td>{{ r.student_id }}{% if r.name %} ({{ r.name }}){% endif %}</td><td class="num">{{ "%.1f"|format(r.seconds) }}</td><td>{{ r.status }}</td></tr>
{% endfor %}</table>

<h2>Not graded, or waiting for you</h2>
<table><tr><th>student</th><th>name</th><th>why</th></tr>
{% for r in ungraded %}<tr><td>{{ r.student_id }}</td><td>{{ r.name or (r.first_name ~ " " ~ r.last_name).strip() }}</td><td>{{ r.status }}</td></tr>
{% else %}<tr><td colspan="3">every student was graded</td></tr>{% endfor %}</table>

<h2>Similar answers</h2>
<p class="heuristic"><strong>A heuristic, not a verdict.</strong> copydetect's winnowed fingerprints of the answer
cells, with the released template as boilerplate. Small exercises have few natural solutions: two students can write
the same code independently. Read the pair before drawing any conclusion. All pairs: <code>similarity.csv</code>.</p>
{% for p in pairs %}
<h3>{{ p.student_a }} and {{ p.student_b }}: {{ "%.0f"|format(100 * p.similarity) }}%</h3>
<div class="pair">
<div><p class="note">{{ p.student_a }}: {{ "%.0f"|format(100 * p.similarity_a) }}% of the answer shared</p>
<pre>{% for text, shared in segments(p.code_a, p.slices_a) %}{% if shared %}<mark>{{ text }}</mark>{% else %}{{ text }}{% endif %}{% endfor %}</pre></div>
<div><p class="note">{{ p.student_b }}: {{ "%.0f"|format(100 * p.similarity_b) }}% of the answer shared</p>
<pre>{% for text, shared in segments(p.code_b, p.slices_b) %}{% if shared %}<mark>{{ text }}</mark>{% else %}{{ text }}{% endif %}{% endfor %}</pre></div>
</div>
{% else %}<p>No two answers share code beyond the template.</p>{% endfor %}
</body></html>
"""


@functools.cache
def _template() -> Template:
    """The report's template, compiled once per process."""
    return Environment(autoescape=True).from_string(TEMPLATE)


def write_report(
    run: GradingRun,
    pairs: list[Pair],
    *,
    course_root: Path,
    links_from: Path | None = None,
    histogram: Path | None = None,
    when: str | None = None,
    reviewed: str | None = None,
) -> Path:
    """Write ``report.html`` into the run's output folder and return its path.

    Links into the built book are relative to ``links_from`` (the folder the
    report ends up in; default the run's output folder). ``histogram`` is the
    run's ``scores.png`` (:func:`autograder.report.write_histogram`), embedded
    in the page; the pass rates are drawn as inline SVG. ``when`` is the
    time of grading (default now); ``reviewed``, the time of the review that
    redrew the report (:class:`autograder.review.carry.Class`).
    """
    concepts = concepts_of(run.assignment, course_root=course_root)
    cells = cell_rows(run.results, concepts)
    per_concept = concept_rows(cells)
    out = (links_from or run.out).resolve()
    book_html = course_root.resolve() / "_build" / "html"
    page = _template().render(
        run=run,
        when=when or _now(),
        reviewed=reviewed,
        states=sorted(Counter(r.state.value for r in run.results).items()),
        histogram=base64.b64encode(histogram.read_bytes()).decode("ascii") if histogram else "",
        cells=cells,
        cells_chart=Markup(
            bars_svg([c.grade_id for c in cells], [c.rate for c in cells], xlabel="students with full points (%)")
        )
        if cells
        else "",
        tags=tag_rows(run.results),
        concepts=per_concept,
        concepts_chart=Markup(
            bars_svg([c.title for c, _, _ in per_concept], [r for _, _, r in per_concept], xlabel="pass rate (%)")
        )
        if per_concept
        else "",
        slowest=sorted((r for r in run.results if r.seconds), key=lambda r: -r.seconds)[:SLOWEST],
        ungraded=[r for r in run.results if r.state is not State.GRADED],
        pairs=pairs[:TOP_PAIRS],
        segments=_segments,
        href=lambda concept: concept.href(book_html=book_html, start=out),
    )
    path = run.out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


def _now() -> str:
    return datetime.now().strftime("%Y-%m-%d %H:%M")


INPUTS = "report.json"  # what report.html shows besides results.json, for a review to draw it again


@dataclass
class ReportInputs:
    """The parts of ``report.html`` that ``results.json`` does not hold: the run's facts and the similar pairs."""

    when: str
    seconds: float
    sandboxed: bool
    layout: str
    pairs: list[Pair]


def write_inputs(run: GradingRun, pairs: list[Pair], *, when: str | None = None) -> Path:
    """``report.json`` beside the report: the run's time, mode and layout, and the pairs the report shows."""
    data = {
        "format": 1,
        "when": when or _now(),
        "seconds": run.seconds,
        "sandboxed": run.sandboxed,
        "layout": run.layout,
        "pairs": [asdict(p) for p in pairs[:TOP_PAIRS]],
    }
    path = run.out / INPUTS
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path


def write_class_report(
    run: GradingRun,
    pairs: list[Pair],
    *,
    course_root: Path,
    links_from: Path | None = None,
    when: str | None = None,
    reviewed: str | None = None,
) -> list[Path]:
    """``scores.png``, ``report.html`` and its ``report.json``, drawn together: by a grading run, again by a review."""
    from .report import write_histogram

    when = when or _now()
    histogram = write_histogram(run)
    page = write_report(
        run, pairs, course_root=course_root, links_from=links_from, histogram=histogram, when=when, reviewed=reviewed
    )
    return [histogram, page, write_inputs(run, pairs, when=when)]


def read_inputs(out: Path) -> ReportInputs | None:
    """The ``report.json`` of the run in ``out``; None when it has none (a run older than it) or it is unreadable."""
    from .similarity import Pair

    try:
        data = json.loads((out / INPUTS).read_text(encoding="utf-8"))
        pairs = [
            Pair(
                str(p["student_a"]),
                str(p["student_b"]),
                float(p["similarity_a"]),
                float(p["similarity_b"]),
                int(p["shared_tokens"]),
                str(p["code_a"]),
                str(p["code_b"]),
                [(int(a), int(b)) for a, b in p["slices_a"]],
                [(int(a), int(b)) for a, b in p["slices_b"]],
            )
            for p in data["pairs"]
        ]
        return ReportInputs(
            str(data["when"]), float(data["seconds"]), data["sandboxed"] is True, str(data["layout"]), pairs
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
