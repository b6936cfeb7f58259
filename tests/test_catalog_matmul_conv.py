"""The catalog of answers to the ``matmul_conv`` exercise, graded through the real CLI.

Each file ``tests/catalog/matmul_conv/<name>.py`` holds an answer cell written the
way a student would write it. A line ``# cell: <grade_id>`` starts the source
of the answer cell with that grade_id (the whole cell, ``def`` line included).
A ``wrong_*`` file begins with ``# catches: test_a[, test_b]``: the graded
cells that must lose points. Every ``correct_*`` file must get full marks. The
whole catalog is graded in one batch.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import (
    ClassResult,
    grade_class,
    solution_answers,
    solution_notebook,
    submission,
)

ASSIGNMENT = "matmul_conv"
CATALOG = Path(__file__).resolve().parent / "catalog" / ASSIGNMENT
CORRECT = sorted(p.stem for p in CATALOG.glob("correct_*.py"))
WRONG = sorted(p.stem for p in CATALOG.glob("wrong_*.py"))

# Failure messages a student must see: (entry, graded cell) -> words in the message.
MESSAGES = {
    ("wrong_mm_flipped", "test_matmul_values"): "kernel flipped?",
    (
        "wrong_mm_loop_dot",
        "test_matmul_one_matmul",
    ): "expected exactly one matrix multiplication, counted 20",
    (
        "wrong_mm_elementwise",
        "test_matmul_one_matmul",
    ): "expected exactly one matrix multiplication, counted 0",
    ("wrong_mm_uses_conv", "test_matmul_one_matmul"): "built-in convolution",
    ("wrong_mm_patches_from_list", "test_matmul_gradients"): "no gradient reached X",
    (
        "wrong_mm_float32_patches",
        "test_matmul_dtype",
    ): "expected dtype torch.float64, got torch.float32",
    (
        "wrong_km_transposed",
        "test_kernel_matrix_shape",
    ): "expected shape (4, 9), got (9, 4)",
    ("wrong_km_stride_out_w", "test_kernel_matrix_structure"): "row 0 of W",
    ("wrong_km_conv_basis", "test_kernel_matrix_no_conv"): "built-in convolution",
    (
        "wrong_km_lying_subclass",
        "test_kernel_matrix_structure",
    ): "expected a torch.Tensor, got _Agreeable",
}


def graded_cells() -> list[str]:
    return [
        cell.metadata["nbgrader"]["grade_id"]
        for cell in solution_notebook(ASSIGNMENT).cells
        if cell.metadata.get("nbgrader", {}).get("grade")
    ]


def parse_entry(name: str) -> tuple[list[str], dict[str, str]]:
    """The cells a catalog entry must lose points in, and its answer cells by grade_id."""
    catches: list[str] = []
    cells: dict[str, list[str]] = {}
    current = None
    for line in (CATALOG / f"{name}.py").read_text().splitlines():
        marker = re.fullmatch(r"# cell: (\w+)\s*", line)
        if marker:
            current = marker.group(1)
            cells[current] = []
        elif current is not None:
            cells[current].append(line)
        elif line.startswith("# catches:"):
            catches = [
                cell.strip()
                for cell in line.removeprefix("# catches:").split(",")
                if cell.strip()
            ]
    return catches, {
        gid: "\n".join(lines).strip("\n") + "\n" for gid, lines in cells.items()
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> ClassResult:
    """Grade the solution and every catalog entry in one call of the grading CLI."""
    solution = solution_answers(ASSIGNMENT)
    notebooks = {"solution": submission(ASSIGNMENT, solution)}
    for name in CORRECT + WRONG:
        notebooks[name] = submission(ASSIGNMENT, {**solution, **parse_entry(name)[1]})
    return grade_class(tmp_path_factory.mktemp(ASSIGNMENT), ASSIGNMENT, notebooks)


def test_catalog_is_well_formed() -> None:
    answers = set(solution_answers(ASSIGNMENT))
    tests = set(graded_cells())
    for name in CORRECT + WRONG:
        catches, cells = parse_entry(name)
        assert cells, f"{name}: no '# cell: <grade_id>' line"
        assert set(cells) <= answers, (
            f"{name}: unknown answer cells {sorted(set(cells) - answers)}"
        )
        if name.startswith("wrong_"):
            assert catches, f"{name}: no '# catches:' line"
            assert set(catches) <= tests, (
                f"{name}: unknown graded cells {sorted(set(catches) - tests)}"
            )
    for gid in answers:
        versions = [name for name in CORRECT if gid in parse_entry(name)[1]]
        assert len(versions) >= 3, (
            f"{gid}: expected at least 3 correct versions, got {versions}"
        )
    for name, cell in MESSAGES:
        assert name in WRONG and cell in parse_entry(name)[0], (
            f"{name}, {cell}: not a catalog catch"
        )


def test_solution_gets_full_marks(graded: ClassResult) -> None:
    assert graded.status("solution") == "graded"
    assert graded.lost("solution") == []
    assert graded.score("solution") == graded.max_score("solution") == 15


@pytest.mark.parametrize("name", CORRECT)
def test_correct_answer_gets_full_marks(graded: ClassResult, name: str) -> None:
    assert graded.status(name) == "graded"
    lost = {cell: graded.message(name, cell) for cell in graded.lost(name)}
    assert lost == {}, f"{name} lost points"
    assert graded.score(name) == graded.max_score(name)


@pytest.mark.parametrize("name", WRONG)
def test_wrong_answer_loses_points_where_expected(
    graded: ClassResult, name: str
) -> None:
    assert graded.status(name) == "graded"
    assert graded.score(name) < graded.max_score(name), f"{name} got full marks"
    lost = graded.lost(name)
    for cell in parse_entry(name)[0]:
        assert cell in lost, (
            f"{name} kept the points of {cell}; it lost points in {lost}"
        )
        assert graded.message(name, cell), (
            f"{name} lost the points of {cell} without a message"
        )


@pytest.mark.parametrize(("name", "cell"), sorted(MESSAGES))
def test_failure_message_tells_the_student_what_is_wrong(
    graded: ClassResult, name: str, cell: str
) -> None:
    message = graded.message(name, cell)
    assert MESSAGES[name, cell] in message, f"{name}, {cell}: message {message!r}"
    assert "BEGIN HIDDEN TESTS" not in message and "autograder" not in message
