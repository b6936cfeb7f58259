"""The comparison helpers of the hidden tests: plain numbers, clear messages, tags."""

from __future__ import annotations

import pytest
import torch

from autograder.checks import (
    CheckFailed,
    expect,
    expect_close,
    expect_dtype,
    expect_not_close,
    expect_shape,
    tagged,
    tolerance_for,
)
from autograder.results import CellResult


def test_expect_close_says_what_and_where() -> None:
    with pytest.raises(CheckFailed, match=r"f\(X\): values differ.*expected \[1, 2\], got \[1, 3\]"):
        expect_close(torch.tensor([1.0, 3.0]), torch.tensor([1.0, 2.0]), what="f(X)")
    with pytest.raises(CheckFailed, match=r"expected shape \(2,\), got \(3,\)"):
        expect_close(torch.zeros(3), torch.zeros(2), what="f(X)")


def test_expect_needs_a_real_bool() -> None:
    with pytest.raises(CheckFailed, match="not True/False"):
        expect(torch.tensor(True), "a tensor is not a bool")  # type: ignore[arg-type]
    expect(True, "fine")


def test_subclasses_and_wrong_dtypes_are_refused() -> None:
    class Sub(torch.Tensor):
        pass

    with pytest.raises(CheckFailed, match="expected a torch.Tensor, got Sub"):
        expect_shape(torch.zeros(2).as_subclass(Sub), (2,), what="x")
    with pytest.raises(CheckFailed, match="expected dtype torch.float64, got torch.float32"):
        expect_dtype(torch.zeros(2), torch.float64, what="x")


def test_tags_reach_the_cell_result() -> None:
    with pytest.raises(CheckFailed) as info:
        expect_not_close(torch.ones(2), torch.ones(2), what="corr2d", message="kernel flipped", tag="flipped-kernel")
    assert CellResult("t", 0, 1, str(info.value)).tags == ["flipped-kernel"]
    assert tagged("m", "") == "m"


def test_tolerance_follows_the_dtype() -> None:
    assert tolerance_for(torch.zeros(1, dtype=torch.float64)) < tolerance_for(torch.zeros(1))
    assert tolerance_for(torch.zeros(1, dtype=torch.float16)) == (1e-2, 1e-2)


def test_a_result_of_another_shape_is_never_turned_into_a_list() -> None:
    # expect_not_close used to call .tolist() on whatever came back: (10**9, 0) built 10**9 lists
    huge = torch.zeros(1).expand(10**12)
    expect_not_close(huge, torch.ones(2), what="corr2d", message="kernel flipped")
    with pytest.raises(CheckFailed, match="expected a torch.Tensor"):
        expect_not_close([1.0, 2.0], torch.ones(2), what="corr2d", message="kernel flipped")
