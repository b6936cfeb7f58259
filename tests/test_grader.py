"""The grading command on a class of misbehaving submissions: nothing lost, nothing leaked.

One class, graded once through the real command line (sandboxed, two
workers), holds a submission for every way a student's notebook can go
wrong; each test below checks one student's row. The same class graded with
one worker must get identical scores.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.sandbox import jail_available
from tests.helpers import (
    ROOT,
    ClassResult,
    autograded_cells,
    autograded_max,
    grade_id,
    pending_status,
    read_results,
    release_notebook,
    run_cli,
    solution_answers,
    solution_notebook,
    submission,
    write_class,
    written_questions,
)

pytestmark = pytest.mark.slow

CORRECT = solution_answers("corr2d")["corr2d"]


def answer(body: str) -> str:
    """An answer cell for corr2d whose body is ``body`` (indented by the caller)."""
    return "def corr2d(X, K):\n" + body


def with_answer(body: str) -> nbformat.NotebookNode:
    return submission("corr2d", {"corr2d": answer(body)})


def deleted_test_cells() -> nbformat.NotebookNode:
    nb = submission("corr2d", {"corr2d": CORRECT})
    nb.cells = [c for c in nb.cells if not (grade_id(c) or "").startswith("test_")]
    return nb


def edited_test_cells() -> nbformat.NotebookNode:
    nb = submission("corr2d", {"corr2d": answer("    return X\n")})
    for cell in nb.cells:
        if (grade_id(cell) or "").startswith("test_"):
            cell.source = "pass  # every test passes now"
    return nb


def copied_without_metadata() -> nbformat.NotebookNode:
    fresh = nbformat.v4.new_notebook()
    fresh.cells = [
        nbformat.v4.new_markdown_cell("my work"),
        nbformat.v4.new_code_cell("import torch"),
        nbformat.v4.new_code_cell(CORRECT),
    ]
    return fresh


CHEAT_READ_SOLUTIONS = f"""    import glob, os
    found = []
    for top in ({"/" + ROOT.parts[1]!r}, "/tmp", "/opt", "/root", "/home", "/srv", "/mnt", "/var"):
        found += glob.glob(top + "/**/*.ipynb", recursive=True)
        found += glob.glob(top + "/**/gradebook.db", recursive=True)
    for path in [{str(ROOT / "solutions" / "corr2d" / "corr2d.ipynb")!r}, "solutions/corr2d/corr2d.ipynb"]:
        if os.path.exists(path):
            found.append(path)
    raise RuntimeError(f"FOUND {{found}}")
"""

WRITE_OUTSIDE = f"""import os
results = []
for path in ["/usr/local/cheat.txt", "/etc/cheat.txt", {str(ROOT / "cheat.txt")!r}, {str(ROOT / "autograder" / "cheat.py")!r}]:
    try:
        with open(path, "w") as f:
            f.write("x")
        results.append(f"WROTE {{path}}")
    except OSError:
        results.append(f"refused {{path}}")
print(results)

"""

BACKGROUND = (
    """import subprocess
subprocess.Popen(["sleep", "300"], start_new_session=True)
subprocess.Popen(["sh", "-c", "sleep 300 &"])

"""
    + CORRECT
)

PATCH_ALLCLOSE = """    import torch, numpy
    torch.allclose = lambda *a, **k: True
    torch.equal = lambda *a, **k: True
    torch.testing.assert_close = lambda *a, **k: None
    numpy.allclose = lambda *a, **k: True
    import autograder.checks as checks
    checks.expect_close = lambda *a, **k: None
    checks.expect_shape = lambda *a, **k: None
    checks.expect = lambda *a, **k: None
    return torch.zeros(X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1)
"""

LYING_SUBCLASS = """    import torch

    class Agreeable(torch.Tensor):
        def __eq__(self, other):
            return torch.ones(self.shape, dtype=torch.bool)

        def __sub__(self, other):
            return torch.zeros(self.shape)

    return torch.zeros(X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1).as_subclass(Agreeable)
"""


# an answer cell that starts with blank lines (IPython drops them before it runs the cell) and stops
BLANK_FIRST_LINES = "\n\n" + answer("    h, w = X.shape\n    raise ValueError('stopped here')\n")


def answer_in_own_cell() -> nbformat.NotebookNode:
    nb = release_notebook("corr2d")
    at = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "corr2d")
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(CORRECT))
    return nb


CLASS = {
    "correct": lambda: submission("corr2d", {"corr2d": CORRECT}),
    "untouched": lambda: release_notebook("corr2d"),
    "empty_file": lambda: b"",
    "invalid_json": lambda: b'{"cells": [ {"cell_type": "code", ',
    "not_a_notebook": lambda: b'{"hello": "world"}',
    "deleted_tests": deleted_test_cells,
    "edited_tests": edited_test_cells,
    "no_metadata": copied_without_metadata,
    "os_exit": lambda: with_answer("    import os\n    os._exit(7)\n"),
    "infinite_loop": lambda: with_answer("    while True:\n        pass\n"),
    "stubborn_loop": lambda: with_answer(
        "    while True:\n        try:\n            while True:\n                pass\n        except BaseException:\n            pass\n"
    ),
    "memory_hog": lambda: with_answer(
        "    blocks = []\n    while True:\n        blocks.append(bytearray(256 * 2**20))\n"
    ),
    "flood_output": lambda: submission(
        "corr2d", {"corr2d": "for i in range(200000):\n    print('spam' * 10, i)\n\n" + answer("    return X\n")}
    ),
    "read_solutions": lambda: with_answer(CHEAT_READ_SOLUTIONS),
    "write_outside": lambda: submission("corr2d", {"corr2d": WRITE_OUTSIDE + answer("    return X\n")}),
    "background_process": lambda: submission("corr2d", {"corr2d": BACKGROUND}),
    "patch_allclose": lambda: with_answer(PATCH_ALLCLOSE),
    "lying_subclass": lambda: with_answer(LYING_SUBCLASS),
    "no_notebook": None,
    # what real notebooks hold: IPython magics and shell escapes around a correct answer,
    # the answer written in a cell of the student's own below the untouched answer cell
    "magics": lambda: submission(
        "corr2d",
        {
            "corr2d": "%matplotlib inline\n%config InlineBackend.figure_format = 'svg'\n%load_ext autoreload\n"
            + CORRECT
            + "\n!echo shell\n%timeit -n 1 -r 1 corr2d(torch.ones(3, 3), torch.ones(2, 2))\n"
            "import matplotlib.pyplot as plt\nplt.imshow(corr2d(torch.eye(4), torch.ones(2, 2)).detach())\nplt.show()\n"
        },
    ),
    "cell_magic": lambda: submission("corr2d", {"corr2d": "%%time\n" + CORRECT}),
    "pylab": lambda: submission("corr2d", {"corr2d": "%pylab inline\n" + CORRECT}),
    "answer_in_own_cell": answer_in_own_cell,
    "d2l_import": lambda: submission("corr2d", {"corr2d": "from d2l import torch as d2l\n" + CORRECT}),
    "blank_first_lines": lambda: submission("corr2d", {"corr2d": BLANK_FIRST_LINES}),
}


@pytest.fixture(scope="module")
def submissions_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("class") / "submissions"
    write_class(folder, "corr2d", {k: (v() if v else None) for k, v in CLASS.items()})
    (folder / "no_notebook" / "notes.txt").write_text("I forgot to attach it")
    # a notebook under another name, with Jupyter's checkpoint copy and a stray file beside it
    renamed = folder / "renamed"
    (renamed / ".ipynb_checkpoints").mkdir(parents=True)
    nbformat.write(submission("corr2d", {"corr2d": CORRECT}), renamed / "corr2d (1).ipynb")
    nbformat.write(release_notebook("corr2d"), renamed / ".ipynb_checkpoints" / "corr2d-checkpoint.ipynb")
    (renamed / "scratch.py").write_text("print('not graded')")
    return folder


GRADE_ARGS = ("--timeout", "4", "--notebook-timeout", "40", "--memory", "1G")


@pytest.fixture(scope="module")
def graded(submissions_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> ClassResult:
    out = tmp_path_factory.mktemp("graded")
    proc = run_cli("grade", "corr2d", str(submissions_dir), "--out", str(out), "--jobs", "2", *GRADE_ARGS)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return read_results(out, proc)


# graded, a notebook's written answer awaits review: full marks are those of the autograded cells
TOP = autograded_max("corr2d")
MAX = TOP + sum(written_questions("corr2d").values())


def full(result: ClassResult, student: str) -> bool:
    return result.score(student) == TOP > 0 and result.max_score(student) == MAX and result.lost(student) == []


def test_every_student_folder_has_exactly_one_row(graded: ClassResult, submissions_dir: Path) -> None:
    """grades.csv has one row per student folder, no more, no less."""
    folders = sorted(p.name for p in submissions_dir.iterdir() if p.is_dir())
    assert sorted(graded.rows) == folders
    lines = (graded.out / "grades.csv").read_text().strip().splitlines()
    assert len(lines) == len(folders) + 1


def test_correct_and_untouched(graded: ClassResult) -> None:
    """The reference answer gets full marks, its written answer awaiting review; the untouched release 0."""
    assert full(graded, "correct")
    assert graded.status("correct") == pending_status("corr2d")
    assert graded.pending("correct") == list(written_questions("corr2d"))
    assert graded.score("untouched") == 0


@pytest.mark.parametrize(
    ("student", "words"),
    [
        ("empty_file", "empty"),
        ("invalid_json", "not valid JSON"),
        ("not_a_notebook", "not a Jupyter notebook"),
        ("no_notebook", "no notebook submitted"),
    ],
)
def test_unreadable_submissions_get_a_row_in_words(graded: ClassResult, student: str, words: str) -> None:
    """A file that is not a notebook gets 0 and a status that says why."""
    assert graded.score(student) == 0
    assert graded.status(student).startswith("not graded")
    assert words in graded.status(student)


def test_renamed_notebook_is_graded_and_checkpoints_ignored(graded: ClassResult) -> None:
    """'corr2d (1).ipynb' is graded (full marks); the checkpoint copy and stray files are ignored."""
    assert full(graded, "renamed")
    assert "corr2d (1).ipynb" in graded.status("renamed")


@pytest.mark.parametrize("student", ["magics", "cell_magic", "pylab", "answer_in_own_cell"])
def test_real_notebook_habits_are_graded_as_in_jupyter(graded: ClassResult, student: str) -> None:
    """%matplotlib inline, %%time, %pylab, shell escapes, an answer in a cell of one's own: full marks."""
    assert full(graded, student), graded.status(student)


def test_a_name_lost_to_a_failing_cell_names_that_cell(graded: ClassResult) -> None:
    """An answer cell that stops at `from d2l import ...`: every test says so, with the cell and line."""
    assert graded.score("d2l_import") == 0
    for gid in graded.lost("d2l_import"):
        message = graded.message("d2l_import", gid)
        assert "name 'corr2d' is not defined" in message, message
        assert "line 1: ModuleNotFoundError: No module named 'd2l'" in message, message


def test_a_failure_names_the_cell_as_the_page_labels_it_and_the_exact_line(graded: ClassResult) -> None:
    """Where a call failed: the answer cell's In [N] on the feedback page, and its line counting the blank lines."""
    page = (graded.out / "feedback" / "blank_first_lines" / "corr2d.html").read_text(encoding="utf-8")
    prompts = page.split('<div class="prompt input_prompt">')[1:]  # each cell, from its prompt on
    code = [(re.match(r"In&nbsp;\[(\d+)\]:", p), p) for p in prompts]  # the written answer's cell has no In [N]
    (label,) = [m.group(1) for m, p in code if m and "Student's answer" in p.split("</pre>")[0]]
    line = BLANK_FIRST_LINES.splitlines().index("    raise ValueError('stopped here')") + 1
    where = f"in your code (In [{label}], line {line}: raise ValueError('stopped here'))"
    messages = [graded.message("blank_first_lines", gid) for gid in graded.lost("blank_first_lines")]
    assert len(messages) == len(autograded_cells("corr2d")), messages  # every test calls corr2d
    for message in messages:
        assert where in message, message
    assert where in html.unescape(page)


def test_deleted_test_cells_are_restored(graded: ClassResult) -> None:
    """Deleting the test cells does not escape them: they are added back and run."""
    assert full(graded, "deleted_tests")
    assert "deleted test cells restored" in graded.status("deleted_tests")


def test_edited_test_cells_are_restored(graded: ClassResult) -> None:
    """Replacing the tests by `pass` earns nothing: the original tests run (`return X` passes one house rule)."""
    assert graded.score("edited_tests") <= 1
    assert len(graded.lost("edited_tests")) >= 8
    assert "edited locked cells restored" in graded.status("edited_tests")


def test_notebook_without_metadata_is_matched_by_name(graded: ClassResult) -> None:
    """Code copied into a fresh notebook is graded: the answer is found by the name it defines."""
    assert full(graded, "no_metadata")
    assert "no nbgrader metadata" in graded.status("no_metadata")


@pytest.mark.parametrize(
    ("student", "words"),
    [
        ("os_exit", "exited with status 7"),
        ("infinite_loop", "longer than 4"),
        ("stubborn_loop", "longer than 4"),
        ("memory_hog", "Error"),
    ],
)
def test_crashes_and_hangs_are_graded_with_a_reason(graded: ClassResult, student: str, words: str) -> None:
    """A dying kernel, an endless loop or a memory hog: 0 points, graded, and the reason in words."""
    assert graded.score(student) == 0
    assert graded.status(student).startswith(pending_status("corr2d"))
    text = graded.status(student) + " ".join(graded.message(student, c) for c in graded.cells[student])
    assert words in text, text


def test_flood_of_output_is_capped(graded: ClassResult) -> None:
    """Megabytes of printing are cut short; the feedback page stays small."""
    feedback = graded.out / "feedback" / "flood_output" / "corr2d.html"
    assert feedback.is_file()
    assert feedback.stat().st_size < 2_000_000
    assert "output truncated" in feedback.read_text()


def test_cheat_cannot_read_solutions(graded: ClassResult) -> None:
    """Student code finds no solution notebook anywhere in its sandbox."""
    if not jail_available()[0]:
        pytest.fail(f"no jail on this machine: {jail_available()[1]}")
    messages = " ".join(graded.message("read_solutions", c) for c in graded.cells["read_solutions"])
    assert "FOUND []" in messages, messages


def test_cheat_cannot_write_outside_its_workspace(graded: ClassResult) -> None:
    """Writes to system folders and the grader's package are refused; nothing appears on the host."""
    feedback = (graded.out / "feedback" / "write_outside" / "corr2d.html").read_text()
    assert "WROTE /" not in feedback  # what the cell printed (its source says "WROTE {path}")
    assert "refused /usr/local/cheat.txt" in feedback
    assert not Path("/usr/local/cheat.txt").exists()
    assert not Path("/etc/cheat.txt").exists()
    assert not (ROOT / "cheat.txt").exists()
    assert not (ROOT / "autograder" / "cheat.py").exists()


def test_background_processes_are_stopped(graded: ClassResult) -> None:
    """A submission's leftover processes are killed when its grading ends, and it is said."""
    assert full(graded, "background_process")
    assert "background process" in graded.status("background_process")
    import subprocess

    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    assert "sleep 300" not in ps


@pytest.mark.parametrize("student", ["patch_allclose", "lying_subclass"])
def test_cheats_that_fool_comparisons_earn_nothing_hidden(graded: ClassResult, student: str) -> None:
    """Patching torch.allclose or the checks, or a tensor subclass that always agrees: hidden tests still fail."""
    lost = graded.lost(student)
    assert "test_values" in lost, graded.cells[student]
    assert graded.score(student) < TOP / 2


def test_feedback_shows_no_hidden_tests(graded: ClassResult) -> None:
    """No hidden-test line and no solution line appears in any feedback page."""
    source = solution_notebook("corr2d")
    hidden: list[str] = []
    for cell in source.cells:
        inside = False
        for line in cell.source.splitlines():
            s = line.strip()
            if s in ("### BEGIN HIDDEN TESTS", "### BEGIN SOLUTION"):
                inside = True
            elif s in ("### END HIDDEN TESTS", "### END SOLUTION"):
                inside = False
            elif inside and len(s) > 30:
                hidden.append(s)
    released = "\n".join(c.source for c in release_notebook("corr2d").cells)
    hidden = [h for h in hidden if h not in released]
    assert hidden, "the corr2d source notebook should have hidden lines"
    import html

    for page in (graded.out / "feedback").rglob("*.html"):
        if page.parent.name in ("correct", "renamed", "deleted_tests", "background_process"):
            text = html.unescape(page.read_text())
            for line in hidden:
                if "def corr2d" in line or line in CORRECT:
                    continue  # the student's own answer is the reference answer here
                assert line not in text, f"{page.parent.name}: hidden line in feedback: {line}"
        text = html.unescape(page.read_text())
        assert "BEGIN HIDDEN TESTS" not in text


def test_summary_histogram_and_cells_csv(graded: ClassResult) -> None:
    """The run leaves cells.csv with a row per test cell per student and a score histogram."""
    assert (graded.out / "scores.png").stat().st_size > 1000
    tests = [grade_id(c) for c in release_notebook("corr2d").cells if c.metadata.get("nbgrader", {}).get("grade")]
    for student, cells in graded.cells.items():
        assert sorted(cells) == sorted(tests), student
    assert "graded" in graded.stderr and "not graded" in graded.stderr


def test_serial_grading_gives_identical_scores(graded: ClassResult, submissions_dir: Path, tmp_path: Path) -> None:
    """--jobs 1 and --jobs 2 give the same score to every student."""
    proc = run_cli("grade", "corr2d", str(submissions_dir), "--out", str(tmp_path), "--jobs", "1", *GRADE_ARGS)
    assert proc.returncode == 0, proc.stderr[-3000:]
    serial = read_results(tmp_path, proc)
    assert {s: serial.score(s) for s in serial.rows} == {s: graded.score(s) for s in graded.rows}


def test_zip_of_the_class(submissions_dir: Path, tmp_path: Path) -> None:
    """A .zip export (one top-level folder wrapping the student folders) grades like the folder."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for student in ("correct", "untouched", "empty_file", "renamed"):
            for path in (submissions_dir / student).rglob("*"):
                if path.is_file():
                    zf.write(path, f"export/{path.relative_to(submissions_dir)}")
    archive = tmp_path / "class.zip"
    archive.write_bytes(buffer.getvalue())
    proc = run_cli("grade", "corr2d", str(archive), "--out", str(tmp_path / "out"), *GRADE_ARGS)
    assert proc.returncode == 0, proc.stderr
    result = read_results(tmp_path / "out", proc)
    assert sorted(result.rows) == ["correct", "empty_file", "renamed", "untouched"]
    assert full(result, "correct") and full(result, "renamed")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("grade", "no_such_assignment", "."), "unknown assignment"),
        (("grade", "corr2d", "/no/such/folder"), "does not exist"),
    ],
)
def test_grader_errors_exit_2_with_one_line(args: tuple[str, ...], words: str) -> None:
    """When the grader itself cannot run, it exits 2 with one line saying what to fix."""
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert words in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_cli_defaults_to_graded_folder(tmp_path: Path) -> None:
    """Without --out, results go to graded/ASSIGNMENT under the working directory."""
    import subprocess
    import sys

    folder = write_class(tmp_path / "subs", "corr2d", {"only": submission("corr2d", {"corr2d": CORRECT})})
    proc = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", "corr2d", str(folder), "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "graded" / "corr2d" / "grades.csv").is_file()
