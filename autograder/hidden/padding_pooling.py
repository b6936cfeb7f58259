"""Helpers of the hidden tests of the ``padding_pooling`` exercise.

Every reference is PyTorch's own: the length of ``F.conv1d``'s output for
``conv_output_size``, ``F.max_pool2d`` and its autograd gradient for
``max_pool2d`` and ``max_pool2d_backward``, and, for the receptive fields, a
stack of ``F.conv1d`` layers with positive weights whose gradient the test
measures itself. Each reference is computed from the test's own copies before
the student's function is called, and each message describes the input in the
test's words (what kind of input it is: overlapping windows, a dilated kernel,
padding at the border), never in text the student's code chose.

One slip, one charge: each cell's inputs are of the one class its requirement is
about. The value cells of ``max_pool2d`` use windows that tile the input
(``test_pool_shape`` owns leftover rows and columns and the default stride,
``test_pool_overlapping`` owns windows that overlap); values are compared in
row-major order whatever the shape; the gradient cell compares gradients only
where the pooled values are right; refusing an impossible size is
``test_output_size_refuses``'s business only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch.nn import functional as F

from autograder.checks import CheckFailed, expect, expect_close, expect_tensor, type_label
from autograder.course import record_ops, vjp
from autograder.hidden import call, failure

__all__ = [
    "describe_layers",
    "expect_backward",
    "expect_no_builtin_pool",
    "expect_output_size",
    "expect_pool_gradient",
    "expect_pool_shape",
    "expect_pool_values",
    "expect_receptive_field",
    "expect_receptive_field_size",
    "expect_size_refused",
    "pool_call",
]

Layer = tuple[int, int, int, int]  # (kernel_size, stride, padding, dilation)


def _describe(x: torch.Tensor) -> str:
    return f"{str(x.dtype).removeprefix('torch.')} {tuple(int(n) for n in x.shape)}"


def _size_call(n: int, k: int, p: int, s: int, d: int) -> str:
    return f"conv_output_size({n}, {k}, padding={p}, stride={s}, dilation={d})"


def _size_words(n: int, k: int, p: int, s: int, d: int) -> str:
    """What about these sizes matters, in words."""
    words = []
    if d > 1:
        words.append(f"a kernel dilated by {d} spans d(k - 1) + 1 = {d * (k - 1) + 1} samples")
    if p > 0:
        words.append(f"padding adds {p} zeros at each end ({n + 2 * p} samples in all)")
    if s > 1 and (n + 2 * p - d * (k - 1) - 1) % s:
        words.append(f"stride {s} leaves samples over at the end: the last window that fits counts, not a partial one")
    return "; ".join(words)


def _as_int(value: Any) -> int | None:
    """``value`` as an int when it is a whole number (int, or a float or 0-d tensor holding one)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if type(value) is torch.Tensor and value.numel() == 1 and not value.is_complex():
        number = float(value.detach().reshape(()).to(torch.float64))
        return int(number) if number.is_integer() else None
    return None


def expect_output_size(conv_output_size: Callable[..., Any], n: int, k: int, p: int, s: int, d: int) -> None:
    """``conv_output_size(n, k, p, s, d)`` is the length of ``F.conv1d``'s output for those settings."""
    expected = F.conv1d(torch.zeros(1, 1, n), torch.zeros(1, 1, k), padding=p, stride=s, dilation=d).shape[-1]
    what = _size_call(n, k, p, s, d)
    got = call(what, conv_output_size, n, k, p, s, d)
    number = _as_int(got)
    expect(number is not None, f"{what}: expected a whole number (an int), got {type_label(got)}")
    words = _size_words(n, k, p, s, d)
    expect(
        number == expected,
        f"{what}: expected {expected} (the length of F.conv1d's output), got {number}"
        + (f"; {words}" if words else ""),
        tag="ceil-not-floor" if number == expected + 1 and s > 1 else "",
    )


def expect_size_refused(conv_output_size: Callable[..., Any], n: int, k: int, p: int, s: int, d: int) -> None:
    """``conv_output_size`` raises ValueError where ``F.conv1d`` refuses: the dilated kernel overhangs the padded input."""
    try:
        F.conv1d(torch.zeros(1, 1, n), torch.zeros(1, 1, k), padding=p, stride=s, dilation=d)
    except RuntimeError:
        pass
    else:  # the test's own inputs: a wrong table in the notebook, not a student's slip
        raise AssertionError(f"F.conv1d accepts {_size_call(n, k, p, s, d)}")
    what = _size_call(n, k, p, s, d)
    why = (
        f"the kernel spans d(k - 1) + 1 = {d * (k - 1) + 1} samples, more than the {n + 2 * p} samples of the "
        "padded input: not a single window fits"
    )
    try:
        got = conv_output_size(n, k, p, s, d)
    except ValueError:
        return
    except Exception as error:
        raise CheckFailed(f"{what} raised {failure(error)}; expected ValueError: {why}") from error
    number = _as_int(got)
    shown = str(number) if number is not None else type_label(got)
    expect(False, f"{what}: expected ValueError ({why}), but it returned {shown}", tag="no-size-check")


def pool_call(X: torch.Tensor, k: int, s: int | None, note: str = "") -> str:
    """``max_pool2d(X, 3, 2) with X float32 (7, 9)``, plus ``note``."""
    args = f"X, {k}" if s is None else f"X, {k}, {s}"
    return f"max_pool2d({args}) with X {_describe(X)}{note}"


def _reference_pool(X: torch.Tensor, k: int, s: int | None) -> torch.Tensor:
    X64 = X.detach().to(torch.float64)
    return F.max_pool2d(X64[None, None], k, k if s is None else s)[0, 0]


def _windows(X: torch.Tensor, k: int, s: int | None) -> str:
    """What kind of windows these are, in words."""
    step = k if s is None else s
    h, w = (int(n) for n in X.shape)
    words = []
    if s is None:
        words.append(f"stride not given: it defaults to the kernel size, {k}")
    if step < k:
        words.append(f"overlapping windows (stride {step} < kernel size {k})")
    if (h - k) % step or (w - k) % step:
        words.append("rows or columns left over at the end, which no window covers")
    return "; ".join(words)


def _args(X: torch.Tensor, k: int, s: int | None) -> tuple[Any, ...]:
    return (X, k) if s is None else (X, k, s)


def expect_pool_shape(max_pool2d: Callable[..., Any], X: torch.Tensor, k: int, s: int | None) -> None:
    """``max_pool2d(X, k[, s])`` has the shape of ``F.max_pool2d``'s output."""
    expected = tuple(int(n) for n in _reference_pool(X, k, s).shape)
    what = pool_call(X, k, s)
    words = _windows(X, k, s)
    Y = call(what + (f" ({words})" if words else ""), max_pool2d, *_args(X.clone(), k, s))
    expect_tensor(Y, what=what)
    got = tuple(int(n) for n in Y.shape)
    expect(
        got == expected,
        f"{what}: expected shape {expected} (as F.max_pool2d), got {got}" + (f"; {words}" if words else ""),
        tag="default-stride-one" if s is None and got == tuple(n - k + 1 for n in X.shape) else "",
    )


def _values_right(Y: Any, expected: torch.Tensor) -> bool:
    if type(Y) is not torch.Tensor or int(Y.numel()) != int(expected.numel()):
        return False
    got = Y.detach().to(torch.float64).reshape(expected.shape)
    return bool(torch.allclose(got, expected, rtol=1e-5, atol=1e-6))


def expect_pool_values(max_pool2d: Callable[..., Any], X: torch.Tensor, k: int, s: int) -> None:
    """``max_pool2d(X, k, s)`` has the values of ``F.max_pool2d`` in row-major order (whatever its shape)."""
    expected = _reference_pool(X, k, s)
    what = pool_call(X, k, s)
    words = _windows(X, k, s)
    Y = call(what + (f" ({words})" if words else ""), max_pool2d, X.clone(), k, s)
    expect_tensor(Y, what=what)
    expect(
        int(Y.numel()) == int(expected.numel()),
        f"{what}: expected {int(expected.numel())} values (shape {tuple(expected.shape)}), got shape "
        f"{tuple(int(n) for n in Y.shape)}",
    )
    got = Y.detach().to(torch.float64).reshape(expected.shape)
    means = F.avg_pool2d(X.detach().to(torch.float64)[None, None], k, s)[0, 0]
    expect(
        not torch.allclose(got, means, rtol=1e-5, atol=1e-6),
        f"{what}: got the mean of each window (average pooling); max pooling keeps each window's largest entry",
        tag="average-not-max",
    )
    expect_close(
        got,
        expected,
        what=f"{what}, compared with F.max_pool2d" + (f" ({words})" if words else ""),
        hint="each output is the largest entry of its window",
    )


def expect_no_builtin_pool(max_pool2d: Callable[..., Any], X: torch.Tensor, k: int) -> None:
    """``max_pool2d`` runs no built-in pooling operator (``F.max_pool2d``, ``nn.MaxPool2d``, adaptive pooling)."""
    what = pool_call(X, k, k)
    _, ops = call(what, record_ops, max_pool2d, X.clone(), k, k)
    pools = [name for name in ops if "pool" in name]
    expect(
        not pools,
        f"{what} ran the built-in pooling operator {pools[0] if pools else ''!r} (F.max_pool2d, nn.MaxPool2d or "
        "similar): take the maximum over each window yourself",
        tag="builtin-pooling",
    )


def expect_pool_gradient(max_pool2d: Callable[..., Any], X0: torch.Tensor, k: int, s: int, G: torch.Tensor) -> None:
    """The gradient of ``max_pool2d(X, k, s)`` reaches X and, where the values are right, equals F.max_pool2d's."""
    expected = _reference_pool(X0, k, s)
    Xr = X0.detach().to(torch.float64).requires_grad_(True)
    (reference,) = vjp(F.max_pool2d(Xr[None, None], k, s)[0, 0], Xr, G.to(torch.float64))
    X = X0.clone().requires_grad_(True)
    what = pool_call(X, k, s, ", X requiring grad")
    Y = call(what, max_pool2d, X, k, s)
    expect_tensor(Y, what=what)
    expect(
        bool(Y.requires_grad),
        f"{what}: the output does not require grad; build it from tensor operations on X (max, amax, indexing), "
        "not from Python numbers (.item(), float(), .tolist()), NumPy arrays or under torch.no_grad()",
        tag="no-autograd-graph",
    )
    G_student = G.reshape(Y.shape).to(Y.dtype) if int(Y.numel()) == int(G.numel()) else torch.ones_like(Y.detach())
    (gX,) = call(
        f"torch.autograd.grad(Y, X) for Y = {what}",
        lambda: vjp(Y, X, G_student, allow_unused=True),
    )
    expect(gX is not None, f"{what}: no gradient reached X (torch.autograd.grad(Y, X) is None): is X detached?")
    if not _values_right(Y, expected):
        return  # the pooled values are wrong: the value cells charge that
    expect_close(
        gX,
        reference,
        what=f"torch.autograd.grad(Y, X, G) for Y = {what} and a random G, compared with F.max_pool2d's",
        hint="the gradient of a window's maximum goes to its arg-max only (torch.max or amax over the window do that)",
    )


def expect_backward(
    max_pool2d_backward: Callable[..., Any], X: torch.Tensor, G: torch.Tensor, k: int, s: int | None
) -> None:
    """``max_pool2d_backward(X, G, k[, s])`` equals the gradient autograd gives for ``F.max_pool2d``."""
    step = k if s is None else s
    Xr = X.detach().to(torch.float64).requires_grad_(True)
    (expected,) = vjp(F.max_pool2d(Xr[None, None], k, step)[0, 0], Xr, G.to(torch.float64))
    spread = torch.zeros_like(expected)  # what spreading each gradient evenly over its window gives
    for i in range(G.shape[0]):
        for j in range(G.shape[1]):
            spread[i * step : i * step + k, j * step : j * step + k] += float(G[i, j]) / (k * k)
    args = f"X, G, {k}" if s is None else f"X, G, {k}, {s}"
    what = f"max_pool2d_backward({args}) with X {_describe(X)}, G {_describe(G)}"
    words = _windows(X, k, s)
    if step < k:
        words += "; a sample that is the arg-max of several windows gets the sum of their gradients"
    Y = call(
        what + (f" ({words})" if words else ""),
        max_pool2d_backward,
        *((X.clone(), G.clone(), k) + (() if s is None else (s,))),
    )
    expect_tensor(Y, what=what)
    expect(
        int(Y.numel()) == int(expected.numel()),
        f"{what}: expected a gradient shaped like X, {tuple(X.shape)}, got shape {tuple(int(n) for n in Y.shape)}",
    )
    got = Y.detach().to(torch.float64).reshape(expected.shape)
    expect(
        not torch.allclose(got, spread, rtol=1e-5, atol=1e-6),
        f"{what}: the gradient is spread evenly over each window (that is average pooling's); max pooling sends "
        "each window's gradient to its arg-max only",
        tag="gradient-spread",
    )
    expect_close(
        got,
        expected,
        what=f"{what}, compared with autograd through F.max_pool2d" + (f" ({words})" if words else ""),
        hint="G[i, j] goes to the arg-max of window (i, j), added to what other windows sent there",
    )


def describe_layers(layers: Sequence[Layer]) -> str:
    """``[(3, 2, 0, 1), (3, 1, 1, 2)]`` and, in words, what about them matters."""
    text = "[" + ", ".join(f"({k}, {s}, {p}, {d})" for k, s, p, d in layers) + "]"
    words = []
    if any(s > 1 for _, s, _, _ in layers[:-1]):
        words.append("a stride before the last layer spreads the taps of every later layer")
    if any(d > 1 for _, _, _, d in layers):
        words.append("dilated kernels")
    if any(p > 0 for _, _, p, _ in layers):
        words.append("padding")
    return text + (f" ({', '.join(words)})" if words else "")


def _measured_mask(layers: Sequence[Layer], n: int, position: int) -> torch.Tensor:
    """The input samples that output ``position`` of the stack depends on: autograd through F.conv1d, weights 1."""
    X = torch.ones(1, 1, n, dtype=torch.float64, requires_grad=True)
    Y = X
    for k, s, p, d in layers:
        Y = F.conv1d(Y, torch.ones(1, 1, k, dtype=torch.float64), stride=s, padding=p, dilation=d)
    (grad,) = torch.autograd.grad(Y[0, 0, position], X)
    return grad[0, 0] != 0


def _samples(mask: torch.Tensor) -> str:
    where = [int(i) for i in torch.nonzero(mask).reshape(-1)]
    if len(where) > 12:
        return f"{len(where)} samples, from {where[0]} to {where[-1]}"
    return f"the samples {where}"


def expect_receptive_field(receptive_field: Callable[..., Any], layers: Sequence[Layer], n: int, position: int) -> None:
    """``receptive_field(layers, n, position)`` is the mask autograd measures through F.conv1d layers."""
    expected = _measured_mask(layers, n, position)
    what = f"receptive_field({describe_layers(layers)}, {n}, {position})"
    got = call(what, receptive_field, [tuple(layer) for layer in layers], n, position)
    expect_tensor(got, what=what)
    expect(
        int(got.numel()) == n,
        f"{what}: expected a mask of shape ({n},), one entry per input sample, got shape {tuple(int(m) for m in got.shape)}",
    )
    mask = got.detach().reshape(n) != 0
    first, last = (int(i) for i in torch.nonzero(expected).reshape(-1)[[0, -1]])
    box = torch.zeros(n, dtype=torch.bool)
    box[first : last + 1] = True
    expect(
        not (torch.equal(mask, box) and not torch.equal(box, expected)),
        f"{what}: got every sample from {first} to {last}, but dilated taps leave gaps: expected {_samples(expected)}",
        tag="receptive-field-without-gaps",
    )
    expect(
        torch.equal(mask, expected),
        f"{what}: expected {_samples(expected)} (the non-zero gradient of output {position}), got {_samples(mask)}",
    )


def _theorem(layers: Sequence[Layer]) -> int:
    jump, r = 1, 1
    for k, s, _, d in layers:
        r += d * (k - 1) * jump
        jump *= s
    return r


def expect_receptive_field_size(receptive_field_size: Callable[..., Any], layers: Sequence[Layer]) -> None:
    """``receptive_field_size(layers)`` is the span that autograd measures for an output far from the border."""
    r = _theorem(layers)
    jump = math.prod(s for _, s, _, _ in layers)
    n = 3 * r + 4 * jump  # long enough that an output in the middle sees no border
    middle = _measured_mask([(k, s, 0, d) for k, s, _, d in layers], n, (n - r) // (2 * jump))
    where = torch.nonzero(middle).reshape(-1)
    measured = int(where[-1] - where[0]) + 1
    if measured != r:  # the test's own check of the theorem it uses
        raise AssertionError(f"measured {measured}, theorem {r} for {layers}")
    what = f"receptive_field_size({describe_layers(layers)})"
    got = call(what, receptive_field_size, [tuple(layer) for layer in layers])
    number = _as_int(got)
    expect(number is not None, f"{what}: expected a whole number (an int), got {type_label(got)}")
    no_jump = 1 + sum(d * (k - 1) for k, _, _, d in layers)
    expect(
        number == measured,
        f"{what}: expected {measured} samples (the span autograd measures for an output far from the border), "
        f"got {number}",
        tag="stride-ignored" if number == no_jump != measured else "",
    )
