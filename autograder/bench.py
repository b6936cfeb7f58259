"""``python -m autograder bench``: this grader against stock ``nbgrader autograde``.

Generates N submissions across the assignments (correct, partly wrong,
untouched, broken), grades them with both in the same run on the same
machine, checks that every score agrees, and prints notebooks per second for
both and their ratio.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from .gradebook import install
from .grader import known_assignments, setup_assignment, warm_up
from .grading import grade
from .layout import COURSE_ROOT
from .limits import Limits
from .sandbox import Sandbox, jail_available
from .selfcheck import SKIP_VARIABLE

KINDS = ("correct", "partial", "untouched", "syntax_error")


def _answer_cells(nb: NotebookNode) -> list[NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")]


def make_submission(assignment: str, kind: str, course_root: Path) -> NotebookNode:
    """A submission of ``kind`` built from the release and the solution notebooks."""
    release = nbformat.read(course_root / "exercises" / assignment / f"{assignment}.ipynb", as_version=4)
    solution = nbformat.read(course_root / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    nb = copy.deepcopy(release)
    answers = {c.metadata.nbgrader["grade_id"]: c.source for c in _answer_cells(solution)}
    cells = _answer_cells(nb)
    if kind == "untouched":
        return nb
    for i, cell in enumerate(cells):
        gid = cell.metadata.nbgrader["grade_id"]
        if kind == "correct" or (kind == "partial" and i > 0):
            cell.source = answers[gid]
    if kind == "partial" and len(cells) == 1:
        # one answer only: keep it right but make it return a transposed result
        cells[0].source = answers[cells[0].metadata.nbgrader["grade_id"]].replace("return Y", "return Y.T")
    if kind == "syntax_error":
        cells[0].source = cells[0].source + "\n    this is not python\n"
    return nb


def _write_class(root: Path, n: int, course_root: Path) -> dict[str, list[tuple[str, str]]]:
    assignments = known_assignments(course_root)
    plan: dict[str, list[tuple[str, str]]] = {a: [] for a in assignments}
    for i in range(n):
        assignment = assignments[i % len(assignments)]
        kind = KINDS[(i // len(assignments)) % len(KINDS)]
        student = f"s{i:03d}_{kind}"
        plan[assignment].append((student, kind))
        folder = root / "ours" / assignment / student
        folder.mkdir(parents=True)
        nbformat.write(make_submission(assignment, kind, course_root), folder / f"{assignment}.ipynb")
        stock = root / "stock" / "submitted" / student / assignment
        stock.mkdir(parents=True)
        shutil.copy(folder / f"{assignment}.ipynb", stock / f"{assignment}.ipynb")
    return {a: s for a, s in plan.items() if s}


def _stock_scores(root: Path, plan: dict[str, list[tuple[str, str]]], course_root: Path) -> tuple[float, dict]:
    """Run stock nbgrader (generate, then the timed autograde); return (seconds, scores)."""
    course = root / "stock"
    shutil.copytree(course_root / "solutions", course / "source")
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        'c.CourseDirectory.source_directory = "source"\n'
        'c.CourseDirectory.release_directory = "release"\n'
        "c.ExecutePreprocessor.timeout = 60\n"
    )
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)  # hidden tests import autograder.checks
    # the students' self-check cell (visible tests, in a sandbox of its own) is never run by this grader: skip it
    env[SKIP_VARIABLE] = "1"
    nbgrader = [sys.executable, "-m", "nbgrader"]
    for assignment in plan:
        subprocess.run(
            [*nbgrader, "generate_assignment", assignment, "--force"],
            cwd=course,
            env=env,
            check=True,
            capture_output=True,
        )
    started = time.monotonic()
    for assignment in plan:
        subprocess.run([*nbgrader, "autograde", assignment, "--force"], cwd=course, env=env, capture_output=True)
    seconds = time.monotonic() - started
    from nbgrader.api import Gradebook, MissingEntry

    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for assignment, students in plan.items():
            for student, _ in students:
                try:
                    scores[student] = float(gb.find_submission(assignment, student).score)
                except MissingEntry:
                    scores[student] = None
    return seconds, scores


BENCH_SIZE = 30  # notebooks, unless -n says otherwise


def _dask_figures(
    root: Path, plan: dict[str, list[tuple[str, str]]], workers: int, sandboxed: bool, course_root: Path
) -> tuple[float, float, dict[str, float]]:
    """Grade the class on a LocalCluster of ``workers``: (start-up s, then s per notebook, scores)."""
    from . import cluster

    n = sum(len(s) for s in plan.values())
    started = time.monotonic()
    scores: dict[str, float] = {}
    with cluster.local_cluster(workers, sandboxed=sandboxed) as address:
        startup = time.monotonic() - started
        for assignment in plan:
            run = grade(
                assignment=assignment,
                submissions=root / "ours" / assignment,
                out=root / f"dask{workers}" / assignment,
                course_root=course_root,
                unsandboxed=not sandboxed,
                similarity=False,
                dask=address,
            )
            scores.update({r.student_id: r.score for r in run.results})
    return startup, (time.monotonic() - started - startup) / n, scores


def _estimates(per_notebook: float, startup: float, client: float) -> str:
    """A table of estimated hours for 10^4 and 10^5 notebooks on 64 and 256 cores (one worker per core)."""
    lines = [
        "ESTIMATE, not a measurement: the measured cost per notebook of one worker (local:1), divided by the cores,",
        f"never below the client's own serial cost of scoring and writing ({client:.3f} s per notebook), plus start-up:",
        "| notebooks | 64 cores | 256 cores |",
        "|---|---|---|",
    ]
    for notebooks in (10**4, 10**5):
        cells = [startup + notebooks * max(per_notebook / cores, client) for cores in (64, 256)]
        lines.append(f"| {notebooks:,} | " + " | ".join(f"{c / 3600:.2f} h ({c / 60:.0f} min)" for c in cells) + " |")
    return "\n".join(lines)


def run_bench(
    *,
    n: int = BENCH_SIZE,
    jobs: int | None = None,
    keep: Path | None = None,
    dask_workers: tuple[int, ...] = (),
    nbgrader: bool = True,
) -> int:
    """Print throughput of both graders and their ratio; 1 if any score disagrees.

    This grader's time includes starting its sandbox (printed apart, with the
    cost per notebook); nbgrader's includes starting a kernel per notebook.
    ``dask_workers``: also grade the class on LocalClusters of these sizes
    (``--dask local:N``) and print an estimate for large classes; ``nbgrader``
    false skips stock nbgrader.
    """
    course_root = COURSE_ROOT
    root = Path(tempfile.mkdtemp(prefix="autograder-bench-")) if keep is None else keep
    root.mkdir(parents=True, exist_ok=True)
    install()
    try:
        plan = _write_class(root, n, course_root)
        print(f"{n} submissions across {len(plan)} assignments ({', '.join(KINDS)})", flush=True)
        # stock nbgrader's generate_assignment runs before its timed autograde; this grader's own set-up of an
        # assignment (the same generate step, kept in the user's cache while the source is unchanged) likewise
        before = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="autograder-bench-setup-") as scratch:
            for assignment in plan:
                setup_assignment(assignment, course_root=course_root, out=Path(scratch) / assignment)
        print(f"set-up of the assignments (untimed for both graders): {time.monotonic() - before:.1f} s", flush=True)
        started = time.monotonic()
        ours: dict[str, float] = {}
        sandboxed = jail_available()[0]
        sandbox = Sandbox(sandboxed=sandboxed, limits=Limits())
        try:
            warm_up()  # as a grading run does: what it loads, it loads while the zygote starts
            sandbox.wait_ready()
            startup = time.monotonic() - started
            for assignment in plan:
                run = grade(
                    assignment=assignment,
                    submissions=root / "ours" / assignment,
                    out=root / "graded" / assignment,
                    jobs=jobs,
                    course_root=course_root,
                    sandbox=sandbox,
                )
                ours.update({r.student_id: r.score for r in run.results})
        finally:
            sandbox.close()
        ours_seconds = time.monotonic() - started
        mode = "sandboxed" if sandboxed else "NOT SANDBOXED"
        print(
            f"this grader ({mode}): {ours_seconds:7.1f} s  {n / ours_seconds:6.2f} notebooks/s  "
            f"(start-up {startup:.1f} s, then {(ours_seconds - startup) / n:.2f} s per notebook)",
            flush=True,
        )
        disagree: list[str] = []
        figures = {}
        for workers in dask_workers:
            startup_d, per_nb, scores = _dask_figures(root, plan, workers, sandboxed, course_root)
            figures[workers] = per_nb
            total = startup_d + per_nb * n
            print(
                f"--dask local:{workers}: {total:7.1f} s  {n / total:6.2f} notebooks/s  (start-up {startup_d:.1f} s, "
                f"then {per_nb:.2f} s per notebook); scores agree with the local pool: "
                f"{sum(abs(scores[s] - ours[s]) < 1e-9 for s in ours)} of {len(ours)}",
                flush=True,
            )
            disagree += [s for s in ours if abs(scores[s] - ours[s]) > 1e-9]
            if 1 in figures and workers != 1:
                print(f"  scaling efficiency local:1 -> local:{workers}: {figures[1] / per_nb / workers:.0%}")
        if 1 in figures:
            from .cluster import CLIENT_COST

            client = max(CLIENT_COST) if CLIENT_COST else 0.0
            print(_estimates(figures[1], startup, client), flush=True)
        if disagree:
            print(f"  DISAGREE on the cluster: {', '.join(sorted(set(disagree)))}")
        if not nbgrader:
            return 1 if disagree else 0
        stock_seconds, stock = _stock_scores(root, plan, course_root)
        print(
            f"nbgrader autograde: {stock_seconds:5.1f} s  {n / stock_seconds:6.2f} notebooks/s  "
            f"({stock_seconds / n:.2f} s per notebook, a kernel started for each)",
            flush=True,
        )
        disagree += [s for s in ours if stock.get(s) is not None and abs(stock[s] - ours[s]) > 1e-9]
        missing = [s for s in ours if stock.get(s) is None]
        print(f"ratio (throughput, this grader / nbgrader): {stock_seconds / ours_seconds:.1f}x")
        print(f"scores compared: {len(ours) - len(missing)}, agree: {len(ours) - len(missing) - len(disagree)}")
        for s in disagree:
            print(f"  DISAGREE {s}: this grader {ours[s]:g}, nbgrader {stock[s]:g}")
        for s in missing:
            print(f"  nbgrader produced no score for {s}")
        return 1 if disagree else 0
    finally:
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)
