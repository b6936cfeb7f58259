"""No text the student's process chooses reaches a hidden test's message (autograder.trusted.claims).

A real student process (forked, unsandboxed) answers a test process whose
hidden test cell reads a marker string through every channel that can carry
one, and puts whatever it got into its failure message; the marker is in no
output of that cell. The same reads in a visible part still show it.
"""

from __future__ import annotations

import os
import socket

import pytest
import torch

from autograder import course
from autograder.trusted import claims, proxy, testproc
from autograder.wire import RemoteError

MARKER = "MARKER7Q"

STUDENT = f"""
import torch
from torch import nn
import autograder.course as _course

M = {MARKER!r}

Named = type(M, (), {{}})  # a class whose name is the marker
Named.__qualname__ = M
Named.__repr__ = lambda self: M
Named.__str__ = lambda self: M

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_parameter(M, nn.Parameter(torch.zeros(2)))
        self.weight = nn.Parameter(torch.zeros(2))
        self.label = M
        self.padding = M

    def forward(self, X):
        return X

LossType = type(M, (float,), {{}})

def text(X):
    return M

def texts(X):
    return [M, (M, {{M: M}}), {{"weight": M}}]

def named(X):
    return Named()

def losses(X):
    return [LossType(1.0), LossType(2.0)]

def fails(X):
    raise ValueError(M)

Error = type(M, (ValueError,), {{}})

def fails_own_type(X):
    raise Error(M)

def net(X):
    return Net()

def items(X):
    return iter([M, M])

# the course helpers of this process are the student's to replace
_course.HELPERS["record_ops"] = lambda fn, *a, **k: (fn(*a, **k), [M, "mm"])
_course.HELPERS["type_name"] = lambda value: M
_course.HELPERS["shared_parameters"] = lambda convert, module, *a: [M]
_course.HELPERS["record_constructions"] = lambda cls, fn, *a, **k: (fn(*a, **k), [(Named(), {{M: torch.ones(1)}})])
"""

# each line reads the marker through one channel and fails with what it read
CHANNELS = {
    "returned string": "got = text(X)",
    "strings in lists, tuples and dict keys": "got = texts(X)",
    "type name of a handle": "got = type_label(named(X))",
    "type_name helper": "got = type_name(named(X))",
    "type names of returned values": "got = sorted({type_name(v) for v in losses(X)})",
    "repr of a handle": "got = repr(named(X))",
    "str of a handle": "got = str(named(X))",
    "exception message": "got = failure_of(fails, X)",
    "exception of the student's own type": "got = failure_of(fails_own_type, X)",
    "attribute value": "got = (net(X).label, net(X).padding)",
    "parameter names": "got = sorted(parameters(net(X)))",
    "operator names": "got = record_ops(text, X)[1]",
    "shared parameter names": "got = shared_parameters(text, torch.nn.Linear(2, 2))",
    "constructions": "got = record_constructions(Named, text, X)[1]",
    "iteration": "got = list(items(X))",
    "handle described in a call": "got = describe_call('f', (named(X),), {})",
}

PRELUDE = """
from autograder.checks import type_label
from autograder.course import parameters, record_constructions, record_ops, shared_parameters, type_name
from autograder.trusted.proxy import describe_call
from autograder.hidden import failure

def failure_of(fn, *args):
    try:
        fn(*args)
    except Exception as error:
        return failure(error) + " | " + str(error) + " | " + repr(error)
    return "no error"

X = torch.ones(2)
"""


@pytest.fixture
def runner():
    ours, theirs = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            ours.close()
            from autograder.jail.student import run

            run(theirs, cell_timeout=10, max_output=10_000)
        except BaseException:  # noqa: BLE001
            code = 70
        finally:
            os._exit(code)
    theirs.close()
    session = proxy.Session(ours, pid, call_timeout=10)
    proxy.install(session)
    test = testproc.TestRunner(session, cell_timeout=20, max_output=100_000)
    test._trusted(0, "import torch\n" + PRELUDE, test=False)
    test._student(1, STUDENT)
    yield test
    session.kill("done")
    os.waitpid(pid, 0)
    course.dispatch_to(None, lambda v: False)  # type: ignore[arg-type]


def _message(test: testproc.TestRunner, index: int, line: str, *, hidden: bool) -> str:
    body = f"{line}\nassert False, f'read: {{got!r}} / {{got}}'\n"
    source = f"### BEGIN HIDDEN TESTS\n{body}### END HIDDEN TESTS\n" if hidden else body
    outputs = test._trusted(index, source, test=True)
    return "\n".join(str(output) for output in outputs)


@pytest.mark.parametrize("channel", sorted(CHANNELS))
def test_no_channel_carries_the_students_text_into_a_hidden_message(runner, channel: str) -> None:
    message = _message(runner, 2, CHANNELS[channel], hidden=True)
    assert "read:" in message or "failed" in message, message  # the cell failed with the test's own words
    assert MARKER not in message, message
    assert not runner.session.gone, runner.session.gone


@pytest.mark.parametrize("channel", ["returned string", "exception message", "attribute value"])
def test_a_visible_part_shows_what_the_students_code_said(runner, channel: str) -> None:
    """Visible tests run on inputs the student knows: their messages keep the student's words."""
    assert MARKER in _message(runner, 2, CHANNELS[channel], hidden=False)


def test_known_words_come_back_as_the_test_sides_own_text() -> None:
    assert claims.withhold({"weight": "valid", "mm": ["aten_unknown_op"]}) == {
        "weight": "valid",
        "mm": ["<text 1 of your code>"],
    }
    assert claims.known_text("torch.nn.modules.linear.Linear") == "torch.nn.modules.linear.Linear"
    assert claims.known_text("torch.nn.modules.linear.Nonesuch") is None
    assert claims.known_text("os.system") is None  # only builtins and torch, and nothing is imported
    assert claims.known_text("convolution") == "convolution"
    assert claims.withhold(RemoteError("X", MARKER, ())).message == ""


@pytest.mark.parametrize(
    ("name", "reply"),
    [
        ("record_ops", (None, "mm conv2d")),
        ("is_instance", "yes"),
        ("parameters", {"weight": [1.0]}),
        ("set_parameter", "done"),
        ("record_constructions", (None, [("a", "b", "c")])),
        ("nonesuch", None),
    ],
)
def test_a_helper_reply_of_another_type_is_refused(name: str, reply: object) -> None:
    with pytest.raises(claims.ClaimRefused):
        claims.checked_helper_result(name, reply)


def test_a_helper_reply_of_its_own_type_is_kept() -> None:
    assert claims.checked_helper_result("is_instance", True) is True
    weight = torch.ones(2)
    assert claims.checked_helper_result("parameters", {"weight": weight}) == {"weight": weight}
    assert claims.checked_helper_result("record_ops", (1, ["mm"])) == (1, ["mm"])
