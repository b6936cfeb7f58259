"""One Limits type from the command line to the jail: defaults once, plain data on the wire, bad values refused."""

from __future__ import annotations

import dataclasses

import pytest

from autograder.cli import build_parser
from autograder.limits import Limits


def test_the_wire_carries_every_field_and_nothing_else() -> None:
    limits = Limits(cell_timeout=5, notebook_timeout=50, memory=2**30, tmpfs=2**20)
    assert Limits.from_wire(limits.to_wire()) == limits
    with pytest.raises(ValueError, match="not a Limits"):
        Limits.from_wire({**limits.to_wire(), "extra": 1})
    with pytest.raises(ValueError, match="not a Limits"):
        Limits.from_wire({"memory": 1})


@pytest.mark.parametrize(
    "field", [f.name for f in dataclasses.fields(Limits) if f.name not in ("memory", "notebook_timeout")]
)
def test_non_positive_limits_are_refused(field: str) -> None:
    with pytest.raises(ValueError, match=f"Limits.{field}"):
        Limits(**{field: 0})


def test_the_notebook_timeout_has_one_name_and_its_default_follows_the_cell_timeout() -> None:
    assert Limits(cell_timeout=2).notebook_seconds == 60
    assert Limits(cell_timeout=30).notebook_seconds == 300
    assert Limits(notebook_timeout=7).notebook_seconds == 7
    args = build_parser().parse_args(["grade", "corr2d", "x", "--notebook-timeout", "12"])
    assert args.notebook_timeout == 12 and args.timeout == Limits().cell_timeout
    assert "--wall-timeout" not in build_parser().format_help()
