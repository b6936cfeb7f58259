"""The student's process is never a witness: attacks on the values and words that cross back, through the CLI.

Each attacker is graded beside the same answer without the attack (its
baseline) and is followed by a correct student. Promises: the attacker scores
no more than its baseline, every correct student keeps full marks, and no
hidden input reaches a feedback page or ``cells.csv``.
"""

from __future__ import annotations

import pytest

from autograder.sandbox import jail_available
from tests.helpers import ClassResult, grade_class, pending_status, solution_answers, submission

pytestmark = pytest.mark.slow

LEAK = "LEAKED"  # what every leaking attacker writes before the hidden values it spells out
SPELLED = "'LEA' + 'KED'"  # how the attackers' code spells it (their code is on the feedback page)

CONV2D = solution_answers("conv2d_training")["Conv2D"]
TRAIN = solution_answers("conv2d_training")["train_conv2d"]

# the slip of every conv2d_training attacker: the layer uses only the kernel's first row
# (the visible example's kernel has one row, so only the hidden test_forward can see it)
FIRST_ROW = CONV2D.replace(
    "return corr2d(X, self.weight) + self.bias",
    "return corr2d(X, self.weight * (torch.arange(self.weight.shape[0])[:, None] == 0)) + self.bias",
)
assert FIRST_ROW != CONV2D

# The course helper, replaced in the student's own process: it zeroes every row but the first of the
# value the test sends. When in-place changes were copied back, that was the test's K, which the
# hidden reference of test_forward was then computed from: the slip went unseen (9/10 against 7/10).
ZERO_THE_TESTS_K = """
import torch as _torch
import autograder.course as _course

_set = _course.HELPERS["set_parameter"]

def _zeroing(module, name, value):
    if name == "weight" and value.dim() == 2:
        with _torch.no_grad():
            value[1:] = 0
    return _set(module, name, value)

_course.HELPERS["set_parameter"] = _zeroing
"""

# train_conv2d, wrong where only hidden tests look: records losses as objects of a class of its own.
# The attacker names that class after the hidden X, Y and lr it was given.
LOSS_CLASS = """
_VISIBLE = torch.ones((6, 8))
_VISIBLE[:, 2:6] = 0


def _loss_class(X, Y, lr):
    if X.shape == _VISIBLE.shape and torch.equal(X, _VISIBLE):
        return float
    values = X.reshape(-1).tolist() + Y.reshape(-1).tolist() + [lr]
    name = NAME + "_".join(f"{v:.4f}".replace("-", "m").replace(".", "p") for v in values)
    return type(name, (float,), {"__qualname__": name})
"""
LEAKY_TRAIN = TRAIN.replace("losses.append(loss.item())", "losses.append(_loss_class(X, Y, lr)(loss.item()))")
assert LEAKY_TRAIN != TRAIN

LINEAR_TO_CONV = solution_answers("one_by_one")


def _one_by_one(in_channels: str) -> dict[str, str]:
    """one_by_one's answers, with linear_to_conv1x1 returning a module whose in_channels is ``in_channels``."""
    answers = dict(LINEAR_TO_CONV)
    answers["linear_to_conv1x1"] = (
        answers["linear_to_conv1x1"].replace("def linear_to_conv1x1(", "def _linear_to_conv1x1(")
        + "\n\ndef linear_to_conv1x1(linear):\n"
        + "    conv = _linear_to_conv1x1(linear)\n"
        + f"    conv.in_channels = {in_channels}\n"
        + "    return conv\n"
    )
    return answers


# right on the visible example (nn.Linear(3, 5)), so that the hidden part runs; on the hidden ones the
# attacker writes the Linear's weights into in_channels, which the layout check prints back
VISIBLE = "linear.in_features if (linear.in_features, linear.out_features) == (3, 5) else "
WEIGHTS_AS_TEXT = VISIBLE + f"{SPELLED} + '_'.join(f'{{v:.4f}}' for v in linear.weight.reshape(-1).tolist())"
WRONG_TEXT = VISIBLE + "'wrong'"


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ClassResult]:
    works, why = jail_available()
    if not works:
        pytest.skip(f"no jail on this machine: {why}")
    tmp = tmp_path_factory.mktemp("trust")
    correct = solution_answers("conv2d_training")
    training = {
        "a1_baseline_first_row": submission("conv2d_training", {**correct, "Conv2D": FIRST_ROW}),
        "a2_attack_zero_the_tests_k": submission(
            "conv2d_training", {**correct, "Conv2D": ZERO_THE_TESTS_K + FIRST_ROW}
        ),
        "a3_correct": submission("conv2d_training", correct),
        "b1_baseline_loss_class": submission(
            "conv2d_training", {**correct, "train_conv2d": "NAME = 'Loss'\n" + LOSS_CLASS + LEAKY_TRAIN}
        ),
        "b2_attack_loss_class_names_hidden_inputs": submission(
            "conv2d_training", {**correct, "train_conv2d": f"NAME = {SPELLED}\n" + LOSS_CLASS + LEAKY_TRAIN}
        ),
        "b3_correct": submission("conv2d_training", correct),
    }
    layouts = {
        "c1_baseline_text_in_channels": submission("one_by_one", _one_by_one(WRONG_TEXT)),
        "c2_attack_weights_in_channels": submission("one_by_one", _one_by_one(WEIGHTS_AS_TEXT)),
        "c3_correct": submission("one_by_one", dict(LINEAR_TO_CONV)),
    }
    args = ("--jobs", "2", "--timeout", "20", "--notebook-timeout", "120")
    return {
        "conv2d_training": grade_class(tmp / "conv2d_training", "conv2d_training", training, *args),
        "one_by_one": grade_class(tmp / "one_by_one", "one_by_one", layouts, *args),
    }


PAIRS = [
    ("conv2d_training", "a1_baseline_first_row", "a2_attack_zero_the_tests_k"),
    ("conv2d_training", "b1_baseline_loss_class", "b2_attack_loss_class_names_hidden_inputs"),
    ("one_by_one", "c1_baseline_text_in_channels", "c2_attack_weights_in_channels"),
]


@pytest.mark.parametrize(("assignment", "baseline", "attacker"), PAIRS)
def test_the_attacker_scores_no_more_than_the_same_answer_without_the_attack(
    graded: dict[str, ClassResult], assignment: str, baseline: str, attacker: str
) -> None:
    result = graded[assignment]
    assert result.status(attacker).startswith(pending_status(assignment)), result.status(attacker)
    assert result.score(baseline) < result.autograded_max(baseline), f"{baseline} lost nothing: no slip to hide"
    assert result.score(attacker) <= result.score(baseline), (
        f"{attacker}: {result.score(attacker)} against {result.score(baseline)} without the attack"
    )


def test_the_copied_back_kernel_no_longer_hides_the_slip(graded: dict[str, ClassResult]) -> None:
    result = graded["conv2d_training"]
    assert "test_forward" in result.lost("a2_attack_zero_the_tests_k")
    assert result.lost("a2_attack_zero_the_tests_k") == result.lost("a1_baseline_first_row")


@pytest.mark.parametrize("student", ["a3_correct", "b3_correct"])
def test_a_correct_student_after_an_attacker_keeps_full_marks(graded: dict[str, ClassResult], student: str) -> None:
    result = graded["conv2d_training"]
    assert result.score(student) == result.autograded_max(student), {
        c: result.message(student, c) for c in result.lost(student)
    }
    assert result.status(student) == pending_status("conv2d_training")


def test_a_correct_one_by_one_after_an_attacker_keeps_full_marks(graded: dict[str, ClassResult]) -> None:
    result = graded["one_by_one"]
    assert result.score("c3_correct") == result.autograded_max("c3_correct")
    assert result.lost("c3_correct") == [] and result.status("c3_correct") == pending_status("one_by_one")


@pytest.mark.parametrize("assignment", ["conv2d_training", "one_by_one"])
def test_no_hidden_input_reaches_the_feedback(graded: dict[str, ClassResult], assignment: str) -> None:
    result = graded[assignment]
    pages = list((result.out / "feedback").rglob("*.html"))
    assert pages
    for text in [page.read_text() for page in pages] + [(result.out / "cells.csv").read_text()]:
        assert LEAK not in text


def test_the_attackers_failures_are_explained_in_the_tests_own_words(graded: dict[str, ClassResult]) -> None:
    losses = graded["conv2d_training"].message("b2_attack_loss_class_names_hidden_inputs", "test_losses")
    assert "expected every loss to be a Python float" in losses, losses
    layout = graded["one_by_one"].message("c2_attack_weights_in_channels", "test_conv1x1_layout")
    assert "of your code" in layout, layout
