"""Helpers shared by the hidden tests of one assignment: ``autograder.hidden.<assignment>``.

Imported only from the hidden parts of test cells. The student's functions and
classes are passed in as arguments (they are proxies when a notebook is
graded), and whatever the helpers look at comes back from them as plain data
or through the course helpers of :mod:`autograder.course`, so a helper means
the same in a student's Jupyter and in the grader.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autograder.checks import CheckFailed


def failure(error: BaseException) -> str:
    """What to say about an exception of the student's code raised in a hidden test.

    When graded, the grader's own text for it: the call, the student's frames
    and the exception's type, without the exception's message (which could
    echo hidden inputs). In one process: the type and the message.
    """
    redacted = getattr(error, "redacted", None)
    if callable(redacted):
        return str(redacted())
    return f"{type(error).__name__}: {error}"


def call(what: str, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``; an exception becomes a failure whose message starts with ``what``."""
    try:
        return fn(*args)
    except Exception as error:
        raise CheckFailed(f"{what} raised {failure(error)}") from error
