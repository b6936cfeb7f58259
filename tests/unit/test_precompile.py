"""Test cells compiled ahead in the zygote (testproc.precompile) run as if compiled in the test process."""

from __future__ import annotations

import traceback

import pytest

from autograder.trusted import testproc

CELL = '''"""Part A (1 point)."""
def helper(x):
    class Box:
        def twice(self):
            return 2 * x
    return Box().twice()
assert helper(2) == 4
### BEGIN HIDDEN TESTS
def failing():
    raise ValueError("hidden")
helper(3)
### END HIDDEN TESTS
'''


def _run(parts: list[str], filename: str) -> tuple[list[object], dict]:
    """Each part run in one namespace, as a test cell's parts are: the value of each."""
    namespace: dict = {}
    values = []
    for code in parts:
        body, last = testproc.compiled(code, filename)
        exec(body, namespace)
        values.append(eval(last, namespace) if last is not None else None)
    return values, namespace


def test_precompiled_parts_run_alike_and_carry_the_cells_name() -> None:
    parts = [code for code, _ in testproc.split_hidden(CELL)]
    fresh, _ = _run(parts, "<test 5>")
    testproc.precompile([CELL, 42, None])  # what is not a string is ignored
    assert all(code in testproc._COMPILED for code in parts)
    assert _run(parts, "<test 5>")[0] == fresh == [None, 6]
    _, namespace = _run(parts, "<test 9>")
    with pytest.raises(ValueError) as caught:
        namespace["failing"]()
    frames = traceback.extract_tb(caught.value.__traceback__)
    assert (
        frames[-1].filename == "<test 9>"
        and frames[-1].lineno == CELL.splitlines().index('    raise ValueError("hidden")') + 1
    )
    nested = namespace["helper"].__code__
    assert nested.co_filename == "<test 9>"
    assert all(c.co_filename == "<test 9>" for c in nested.co_consts if hasattr(c, "co_filename"))


def test_what_does_not_compile_is_left_to_the_run() -> None:
    broken = "x = (\n"
    testproc.precompile([broken])
    assert broken not in testproc._COMPILED
    with pytest.raises(SyntaxError) as caught:
        testproc.compiled(broken, "<test 2>")
    assert caught.value.filename == "<test 2>"
