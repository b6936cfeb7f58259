"""The catalogs of answers to every exercise, graded through the real CLI.

Each file ``tests/catalog/<assignment>/<name>.py`` holds answer cells written the
way a student would write them. A line ``# cell: <grade_id>`` starts the source
of the answer cell with that grade_id (the whole cell, ``def``/``class`` line
included); answer cells that a file does not mention keep the solution's code. A
``wrong_*`` file begins with ``# catches: test_a[, test_b]``: the graded cells
that must lose points. Every ``correct_*`` file must get full marks on the
autograded cells (its written answers await ``autograder review``). The
catalog of each assignment is graded in one batch (``tests.helpers.grade_catalog``),
once per session, the first time a test of that assignment needs it.
"""

from __future__ import annotations

import pytest

from tests.helpers import (
    ASSIGNMENTS,
    CATALOG,
    ClassResult,
    autograded_cells,
    autograded_max,
    catalog_entries,
    entry_header,
    grade_catalog,
    parse_entry,
    pending_status,
    slip_entries,
    solution_answers,
    written_questions,
)

pytestmark = pytest.mark.slow

# Each assignment's maximum, autograded cells and written questions together. Graded, a notebook scores at
# most the autograded part (tests.helpers.autograded_max); its written answers await `autograder review`.
MAX_SCORES = {
    "corr2d": 15,
    "matmul_conv": 27,
    "conv2d_training": 13,
    "kernels": 21,
    "one_by_one": 23,
    "padding_pooling": 19,
}

# Failure messages a student must see: assignment -> (entry, graded cell) -> words in the message.
MESSAGES: dict[str, dict[tuple[str, str], str]] = {
    "corr2d": {
        ("wrong_true_convolution", "test_textbook"): "X float32 (3, 3), K float32 (2, 2): kernel flipped?",
        ("wrong_one_short", "test_shape"): "X float32 (4, 6), K float32 (3, 2): expected shape (2, 5), got (1, 4)",
        ("wrong_uses_conv2d", "test_no_builtin"): "ran the built-in convolution 'convolution'",
        ("wrong_conv_module", "test_no_builtin"): "ran the built-in convolution 'convolution'",
        # graded, the visible part's X is the test's own and never changes: the hidden part, which asks
        # for X as corr2d left it, charges the slip
        ("wrong_mutates_input", "test_no_mutation"): "X float32 (5, 7), K float32 (2, 3) changed X in place",
        ("wrong_default_dtype", "test_dtype"): "X float64 (3, 4), K float64 (2, 2): expected dtype torch.float64, got",
        ("wrong_no_grad", "test_gradients"): "both requiring grad: the output does not require grad",
        ("wrong_detached_kernel", "test_gradients"): "both requiring grad: no gradient reached K",
        ("wrong_patches_checks", "test_textbook"): "K float32 (2, 2): expected [[19.0, 25.0], [37.0, 43.0]]",
        ("wrong_ignores_inputs", "test_no_builtin"): "stays the same when X is doubled",
        ("wrong_custom_backward", "test_gradients"): "Y.sum().backward(): expected X.grad",
    },
    "matmul_conv": {
        ("wrong_mm_flipped", "test_matmul_values"): "kernel flipped?",
        ("wrong_mm_column_major_patches", "test_matmul_values"): "flattened in different orders",
        ("wrong_mm_loop_dot", "test_matmul_one_matmul"): "expected exactly one matrix multiplication, counted 16 (dot)",
        ("wrong_mm_elementwise", "test_matmul_one_matmul"): "expected exactly one matrix multiplication, counted 0",
        ("wrong_mm_uses_conv", "test_matmul_one_matmul"): "built-in convolution",
        ("wrong_mm_patches_from_list", "test_matmul_gradients"): "no gradient reached X",
        ("wrong_mm_float32_patches", "test_matmul_dtype"): "expected dtype torch.float64, got torch.float32",
        ("wrong_km_transposed", "test_kernel_matrix_shape"): "expected shape (4, 9), got (9, 4)",
        ("wrong_km_flipped", "test_kernel_matrix_product"): "kernel flipped?",
        ("wrong_km_stride_out_w", "test_kernel_matrix_structure"): "row 0 of W",
        ("wrong_km_item", "test_kernel_matrix_gradients"): "W does not require grad",
        ("wrong_km_conv_basis", "test_kernel_matrix_no_conv"): "built-in convolution",
        ("wrong_multi_channels_order", "test_multi_values"): "order the channels differently",
        ("wrong_multi_sum_channels_first", "test_multi_values"): "summed before the multiplication",
        (
            "wrong_multi_matmul_per_channel",
            "test_multi_one_matmul",
        ): "expected exactly one matrix multiplication, counted 2",
        ("wrong_multi_uses_conv", "test_multi_one_matmul"): "built-in convolution",
        ("wrong_multi_patches_from_list", "test_multi_gradients"): "no gradient reached X",
        ("wrong_multi_default_dtype", "test_multi_dtype"): "expected dtype torch.float64, got torch.float32",
    },
    "kernels": {
        ("wrong_sign_flipped", "test_first_differences"): "the kernel of a convolution",
        ("wrong_negative_d_accepted", "test_negative_order"): "expected ValueError",
        ("wrong_column", "test_shape"): "expected shape (1, 2), got (2, 1)",
        ("wrong_laplacian_eight_neighbours", "test_laplacian_values"): "got 12 everywhere",
        ("wrong_table_up_to_four", "test_higher_differences"): "samples of x**5",
    },
    "one_by_one": {
        ("wrong_any_kernel_accepted", "test_linear_refuses_kernel"): "expected ValueError",
        ("wrong_transposed_weight", "test_conv1x1_values"): "the transposed weight",
        ("wrong_shared_weight", "test_conv1x1_fresh"): "copy the values into the new module's own parameters",
        ("wrong_conv1x1_float32", "test_conv1x1_dtype"): "expected dtype torch.float64, got torch.float32",
        ("wrong_squeeze_single_channel", "test_conv1x1_layout"): "linear_to_conv1x1(nn.Linear(1, 6",
    },
}

ENTRIES = {assignment: catalog_entries(assignment) for assignment in ASSIGNMENTS}
CORRECT = [(assignment, name) for assignment in ASSIGNMENTS for name in ENTRIES[assignment][0]]
WRONG = [(assignment, name) for assignment in ASSIGNMENTS for name in ENTRIES[assignment][1]]
SLIPS = [(assignment, name) for assignment in ASSIGNMENTS for name in slip_entries(assignment)]
HEADER_CASES = [
    (assignment, name)
    for assignment in ASSIGNMENTS
    for name in ENTRIES[assignment][1] + slip_entries(assignment)
    if entry_header(assignment, name).messages or entry_header(assignment, name).tags
]
MESSAGE_CASES = [(assignment, name, cell) for assignment, table in MESSAGES.items() for name, cell in sorted(table)]


@pytest.fixture(scope="session")
def catalog_results() -> dict[str, ClassResult | Exception]:
    """Cache: assignment -> the grading of its catalog (or the error that grading raised)."""
    return {}


@pytest.fixture
def graded(
    assignment: str,
    catalog_results: dict[str, ClassResult | Exception],
    tmp_path_factory: pytest.TempPathFactory,
) -> ClassResult:
    """The grading of the solution and the whole catalog of ``assignment``, done once per session."""
    if assignment not in catalog_results:
        try:
            catalog_results[assignment] = grade_catalog(tmp_path_factory.mktemp(assignment), assignment)
        except Exception as error:
            catalog_results[assignment] = error
            raise
    result = catalog_results[assignment]
    if isinstance(result, Exception):
        pytest.fail(f"grading the {assignment} catalog failed: {result}", pytrace=False)
    return result


def test_assignment_tables_name_real_assignments() -> None:
    assert set(MAX_SCORES) <= set(ASSIGNMENTS), sorted(set(MAX_SCORES) - set(ASSIGNMENTS))
    for assignment, top in MAX_SCORES.items():  # the maximum is the autograded points and the written ones
        assert autograded_max(assignment) + sum(written_questions(assignment).values()) == top, assignment
    assert set(MESSAGES) <= set(ASSIGNMENTS), sorted(set(MESSAGES) - set(ASSIGNMENTS))
    folders = {p.name for p in CATALOG.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))}
    assert folders <= set(ASSIGNMENTS), f"catalogs of unknown assignments: {sorted(folders - set(ASSIGNMENTS))}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_catalog_is_well_formed(assignment: str) -> None:
    correct, wrong = ENTRIES[assignment]
    answers = set(solution_answers(assignment))
    tests = set(autograded_cells(assignment))
    for name in correct + wrong:
        catches, cells = parse_entry(assignment, name)
        assert cells, f"{name}: no '# cell: <grade_id>' line"
        assert set(cells) <= answers, f"{name}: unknown answer cells {sorted(set(cells) - answers)}"
        if name.startswith("wrong_"):
            assert catches, f"{name}: no '# catches:' line"
            assert set(catches) <= tests, f"{name}: unknown graded cells {sorted(set(catches) - tests)}"
    for gid in answers:
        versions = [name for name in correct if gid in parse_entry(assignment, name)[1]]
        assert len(versions) >= 3, f"{gid}: expected at least 3 correct versions, got {versions}"
    for name, cell in MESSAGES.get(assignment, {}):
        assert name in wrong and cell in parse_entry(assignment, name)[0], f"{name}, {cell}: not a catalog catch"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_gets_full_marks(graded: ClassResult, assignment: str) -> None:
    """Full marks on every autograded cell; the written answers await review, their points not yet given."""
    assert graded.status("solution") == pending_status(assignment)
    assert graded.lost("solution") == []
    assert graded.pending("solution") == list(written_questions(assignment))
    assert graded.score("solution") == autograded_max(assignment) > 0
    if assignment in MAX_SCORES:
        assert graded.max_score("solution") == MAX_SCORES[assignment]


@pytest.mark.parametrize(("assignment", "name"), CORRECT)
def test_correct_answer_gets_full_marks(graded: ClassResult, assignment: str, name: str) -> None:
    assert graded.status(name) == pending_status(assignment)
    lost = {cell: graded.message(name, cell) for cell in graded.lost(name)}
    assert lost == {}, f"{name} lost points"
    assert graded.score(name) == autograded_max(assignment)
    assert graded.max_score(name) == graded.max_score("solution")


@pytest.mark.parametrize(("assignment", "name"), WRONG)
def test_wrong_answer_loses_points_where_expected(graded: ClassResult, assignment: str, name: str) -> None:
    assert graded.status(name) == pending_status(assignment)
    assert graded.score(name) < autograded_max(assignment), f"{name} got full marks"
    lost = graded.lost(name)
    for cell in parse_entry(assignment, name)[0]:
        assert cell in lost, f"{name} kept the points of {cell}; it lost points in {lost}"
        assert graded.message(name, cell), f"{name} lost the points of {cell} without a message"


@pytest.mark.parametrize(("assignment", "name", "cell"), MESSAGE_CASES)
def test_failure_message_tells_the_student_what_is_wrong(
    graded: ClassResult, assignment: str, name: str, cell: str
) -> None:
    message = graded.message(name, cell)
    assert MESSAGES[assignment][name, cell] in message, f"{name}, {cell}: message {message!r}"
    assert "BEGIN HIDDEN TESTS" not in message and "autograder" not in message


@pytest.mark.parametrize(("assignment", "name"), SLIPS)
def test_one_slip_costs_one_charge(graded: ClassResult, assignment: str, name: str) -> None:
    """An answer with exactly one slip loses points only in the cells its header names."""
    header = entry_header(assignment, name)
    assert header.loses, f"{name}: no '# loses:' line"
    assert set(header.loses) <= set(autograded_cells(assignment)), f"{name}: unknown cells in '# loses:'"
    assert graded.status(name) == pending_status(assignment)
    lost = graded.lost(name)
    assert lost, f"{name}: the slip cost nothing"
    extra = {cell: graded.message(name, cell) for cell in lost if cell not in header.loses}
    assert extra == {}, f"{name}: one slip charged more than once"


@pytest.mark.parametrize(("assignment", "name"), HEADER_CASES)
def test_entry_messages_and_tags(graded: ClassResult, assignment: str, name: str) -> None:
    """The words and misconception tags an entry's header promises are in its messages."""
    header = entry_header(assignment, name)
    for cell, words in header.messages.items():
        message = graded.message(name, cell)
        for word in words:
            assert word in message, f"{name}, {cell}: {word!r} not in {message!r}"
    for cell, tags in header.tags.items():
        got = graded.cells[name][cell].get("tags", "").split()
        for tag in tags:
            assert tag in got, f"{name}, {cell}: tag {tag!r} not in {got!r}"


def graded_names(assignment: str) -> set[str]:
    """The functions and classes the answer cells define."""
    import ast

    names: set[str] = set()
    for source in solution_answers(assignment).values():
        for node in ast.parse(source).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
    return names


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_charge_names_the_call_that_failed(graded: ClassResult, assignment: str) -> None:
    """Each cell a wrong or one-slip answer loses says which of the student's calls failed."""
    names = graded_names(assignment)
    unnamed = {
        (student, cell): graded.message(student, cell)[:200]
        for student in ENTRIES[assignment][1] + slip_entries(assignment)
        for cell in graded.lost(student)
        if not any(name in graded.message(student, cell) for name in names)
    }
    assert unnamed == {}
