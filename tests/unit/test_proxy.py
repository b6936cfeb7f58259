"""Proxies in a test process against a real student process (forked, unsandboxed here)."""

from __future__ import annotations

import os
import socket

import pytest
import torch
from torch.nn import functional as F

from autograder import checks, course
from autograder.trusted import proxy, testproc
from autograder.wire import Encoder

STUDENT = """
import torch
from torch import nn

def corr2d(X, K):
    h, w = K.shape
    Y = X.new_zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y

def detached(X, K):
    return corr2d(X, K.detach())

def mutate(X):
    X += 1
    return X.sum()

def scale_in_place(X):
    X *= 2
    return X

def fails(X):
    raise ValueError(f"no: {X.shape}")

def pair():
    return [torch.ones(2), 3.5]

class Net(nn.Module):
    def __init__(self, k):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(k))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, X):
        return corr2d(X, self.weight) + self.bias

def same(net):
    return net

def linear_out(linear):
    return linear.weight.shape[0], linear.weight.dtype

def loud(X):
    print("PRINTED-IN-CALL")
    return X

def stops(x):
    raise StopIteration

def grows(X, K):
    K += 1
    return X * K

import gc as _gc, json as _json, struct as _struct, sys as _sys

def forge(header, blobs=b""):
    # write a frame of our own on the socket, as the reply to the request being served
    server = next(o for o in _gc.get_objects() if type(o).__name__ == "StudentServer")
    frame = _sys._getframe()
    while frame.f_code.co_name != "serve":
        frame = frame.f_back
    data = header.replace(b'"RID"', str(frame.f_locals["rid"]).encode())
    server.sock.sendall(_struct.pack(">I", len(data)) + data + blobs)

def reuses_a_blob(X):
    refs = _json.dumps([{"$tensor": 0, "dtype": "uint8", "shape": [1000]}] * 1000).encode()
    forge(b'{"id": "RID", "blobs": [1000], "value": ' + refs + b"}", bytes(1000))
    return X

class Odd:
    pass

def odd(X):
    Odd.__qualname__ = "LEAK_" + "_".join(str(int(v)) for v in X.flatten().tolist())
    return Odd()

def leaks(X):
    import autograder.jail.student as s
    s.student_frames = lambda tb: (("cell 1", 99, "LEAK " + str(X.tolist())), ("cell 1", 2, "LEAK"))
    raise ValueError("LEAK in the message")
"""


@pytest.fixture
def session():
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
    s = proxy.Session(ours, pid, call_timeout=10)
    proxy.install(s)
    s.cells[1] = STUDENT.splitlines()  # what the test process sent: error locations are shown from it
    reply, _ = s.request("exec", {"cell": 1, "source": STUDENT})
    names = {name: proxy.RemoteName(s, name) for name in reply["names"]}
    yield s, names
    s.kill("done")
    os.waitpid(pid, 0)
    course.dispatch_to(None, lambda v: False)  # type: ignore[arg-type]


def test_calls_return_plain_tensors_and_cells_report_names(session) -> None:
    s, names = session
    assert {"corr2d", "Net", "mutate"} <= set(names)
    X, K = torch.randn(4, 5), torch.randn(2, 3)
    Y = names["corr2d"](X, K)
    assert type(Y) is torch.Tensor
    torch.testing.assert_close(Y, F.conv2d(X[None, None], K[None, None])[0, 0])
    first, second = names["pair"]()
    assert torch.equal(first, torch.ones(2)) and second == 3.5


def test_autograd_crosses_the_boundary(session) -> None:
    s, names = session
    X = torch.randn(4, 5, dtype=torch.float64, requires_grad=True)
    K = torch.randn(2, 2, dtype=torch.float64, requires_grad=True)
    Y = names["corr2d"](X, K)
    assert Y.requires_grad
    G = torch.randn_like(Y)
    gX, gK = torch.autograd.grad(Y, (X, K), G)
    Xr, Kr = X.detach().requires_grad_(True), K.detach().requires_grad_(True)
    rX, rK = torch.autograd.grad(F.conv2d(Xr[None, None], Kr[None, None])[0, 0], (Xr, Kr), G)
    torch.testing.assert_close(gX, rX)
    torch.testing.assert_close(gK, rK)
    K.grad = None
    names["detached"](X, K).sum().backward()
    assert K.grad is None and X.grad is not None


def test_in_place_changes_of_inputs_stay_in_the_student_process(session) -> None:
    s, names = session
    X = torch.zeros(3)
    assert names["mutate"](X).item() == 3.0
    assert torch.equal(X, torch.zeros(3))


def test_non_leaf_inputs_may_be_changed_in_place_and_keep_their_gradients(session) -> None:
    s, names = session
    base = torch.ones(3, requires_grad=True)
    X = base * 1  # not a leaf: in-place changes are allowed, in the student process too
    Y = names["scale_in_place"](X)
    assert torch.equal(Y.detach(), torch.full((3,), 2.0))
    (grad,) = torch.autograd.grad(Y.sum(), base)
    assert torch.equal(grad, torch.full((3,), 2.0))


def test_student_exceptions_keep_their_type_and_say_where(session) -> None:
    s, names = session
    with pytest.raises(ValueError) as info:
        names["fails"](torch.ones(2, 3))
    message = str(info.value)
    assert "fails(float32 (2, 3))" in message and "no: torch.Size([2, 3])" in message
    # the cell as the feedback page labels it, and the line as the cell numbers it (it starts with a blank line)
    line = STUDENT.splitlines().index('    raise ValueError(f"no: {X.shape}")') + 1
    assert f'(In [1], line {line}: raise ValueError(f"no: {{X.shape}}"))' in message, message
    assert isinstance(info.value, proxy.StudentError)
    assert "torch.Size([2, 3])" not in info.value.redacted()


def test_modules_are_handles(session) -> None:
    s, names = session
    net = names["Net"]((1, 2))
    assert isinstance(net, names["Net"]) and not isinstance(torch.ones(1), names["Net"])
    assert names["same"](net) is net
    assert [n for n, _ in net.named_parameters()] == ["weight", "bias"]
    assert course.is_instance(net, "torch.nn.Module")
    assert course.type_name(net).endswith("Net")
    course.set_parameter(net, "weight", torch.tensor([[1.0, -1.0]]))
    assert net.weight.tolist() == [[1.0, -1.0]]
    X = torch.ones(3, 4)
    X[:, 2:] = 0
    assert net(X).tolist()[0] == [0.0, 1.0, 0.0]
    with pytest.raises(AttributeError):
        net.weight = torch.zeros(2)


def test_helpers_run_in_the_student_process(session) -> None:
    s, names = session
    Y, ops = course.record_ops(names["corr2d"], torch.ones(3, 3), torch.ones(2, 2))
    assert "convolution" not in ops and "mul" in ops
    seeded = [course.call_seeded(0, names["pair"])[0] for _ in range(2)]
    assert torch.equal(seeded[0], seeded[1])
    net, built = course.record_constructions(names["Net"], names["Net"], (2, 2))
    assert len(built) == 1 and built[0][0] is net and set(built[0][1]) == {"weight", "bias"}


def test_plain_torch_modules_are_sent_by_value(session) -> None:
    s, names = session
    linear = torch.nn.Linear(3, 5, dtype=torch.float64)
    assert names["linear_out"](linear) == (5, torch.float64)


def test_prints_during_calls_are_not_returned(session) -> None:
    s, names = session
    payload, enc = s.encode([[torch.ones(1)], {}])
    reply, _ = s.request("call", {"target": {"$name": "loud"}, "args": payload[0], "kwargs": payload[1]}, enc.blobs)
    assert "PRINTED-IN-CALL" not in repr(reply)


def test_a_dead_student_process_is_reported_not_hung(session) -> None:
    s, names = session
    s.kill("stopped for the test")
    with pytest.raises(proxy.StudentGone, match="stopped for the test"):
        names["corr2d"](torch.ones(2, 2), torch.ones(1, 1))


def test_encoder_refuses_what_is_not_data() -> None:
    with pytest.raises(Exception, match="cannot be sent"):
        Encoder().encode(lambda: None)


def test_stop_iteration_from_the_student_is_a_runtime_error(session) -> None:
    s, names = session
    # a StopIteration raised into a test's map() would end it early, as if every check had run
    with pytest.raises(RuntimeError):
        list(map(names["stops"], [1, 2]))


def test_results_of_a_call_that_changes_its_inputs_still_carry_gradients(session) -> None:
    s, names = session
    X, K = torch.ones(2, 2, requires_grad=True), torch.ones(2, 2)
    Y = names["grows"](X, K)
    assert torch.equal(K, torch.ones(2, 2)) and Y.requires_grad  # the student's K changed, not the test's
    Y.sum().backward()
    assert torch.equal(X.grad, torch.full((2, 2), 2.0))  # d(X * (K + 1)) / dX, taken in the student process


def test_nothing_a_call_changes_in_place_is_written_into_the_tests_tensors(session) -> None:
    s, names = session
    X = torch.ones(2, 2)
    names["scale_in_place"](X)
    names["mutate"](X)
    course.set_parameter(names["Net"]((2, 2)), "weight", X)
    assert torch.equal(X, torch.ones(2, 2))
    result, (after,) = course.call_with_inputs(names["scale_in_place"], X)
    assert torch.equal(after, torch.full((2, 2), 2.0)) and torch.equal(X, torch.ones(2, 2))  # the after-state apart


def test_a_reply_that_reuses_a_blob_stops_the_student_process(session) -> None:
    s, names = session
    with pytest.raises(proxy.StudentGone, match="malformed reply"):
        names["reuses_a_blob"](torch.ones(2))
    assert s.gone


def test_hidden_tests_show_no_text_of_the_student_process(session) -> None:
    s, names = session
    X = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    s.hidden = True
    try:
        got = names["odd"](X)
        assert checks.type_label(got) == "object"
        assert "LEAK" not in proxy.describe_call("f", (got,), {})
        with pytest.raises(ValueError) as info:
            names["leaks"](X)
    finally:
        s.hidden = False
    assert checks.type_label(got) == "object"  # its name held hidden inputs: not shown later either
    shown = info.value.redacted()
    assert "LEAK" not in shown and "1.0" not in shown
    assert "In [1], line 2: import torch" in shown  # the location, in the test process's copy


def test_names_of_the_trusted_cells_never_become_proxies(session) -> None:
    s, _ = session
    runner = testproc.TestRunner(s, cell_timeout=10, max_output=1000, reserved=frozenset({"torch", "F"}))
    runner._student(2, "def torch():\n    pass\nclass F:\n    pass\ndef mine():\n    pass\n")
    assert "torch" not in runner.namespace and "F" not in runner.namespace
    assert proxy.is_proxy(runner.namespace["mine"])


@pytest.mark.parametrize(
    "header",
    [
        b'{"id": "RID", "names": {"corr2d": 1}}',
        b'{"id": "RID", "outputs": [{"output_type": []}, {"output_type": "stream", "text": [[["x"]]]}]}',
        b'{"id": "RID", "outputs": [{"output_type": "error", "ename": {}, "evalue": 1, "traceback": [{}]}]}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"id": ' + b"9" * 5000 + b"}",
    ],
)
def test_forged_cell_replies_never_stop_the_test_process(session, header: bytes) -> None:
    s, _ = session
    runner = testproc.TestRunner(s, cell_timeout=10, max_output=1000)
    outputs = runner._student(2, f"forge({header!r})")
    assert isinstance(outputs, list)
    for output in outputs:
        assert all(isinstance(v, (str, list, dict, int, type(None))) for v in output.values())
