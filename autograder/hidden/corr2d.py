"""Helpers of the hidden tests of the ``corr2d`` exercise.

Each check looks at one aspect of ``corr2d(X, K)`` and nothing else, so that one
slip costs one charge: the value checks compare values in row-major order
whatever the shape (the shape is the shape cell's business) with a tolerance
fit for the least precise of the dtypes involved (the dtype is the dtype
cell's business), and the gradient check compares gradient values only where
the output itself is right (the values are the value cells' business).

The reference is always PyTorch's own cross-correlation,
``torch.nn.functional.conv2d``, computed in float64.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from autograder.checks import expect, expect_close, expect_tensor, max_abs_diff, plain, tolerance_for
from autograder.course import autograd_ops, record_ops, vjp

__all__ = [
    "call_text",
    "expect_depends_on_inputs",
    "expect_gradients",
    "expect_unchanged",
    "expect_values",
    "graph_ops",
    "reference",
    "tolerance",
    "values_right",
]

_FLOAT32 = torch.zeros(1, dtype=torch.float32)


def _describe(x: torch.Tensor) -> str:
    return f"{str(x.dtype).removeprefix('torch.')} {tuple(int(n) for n in x.shape)}"


def call_text(X: torch.Tensor, K: torch.Tensor, note: str = "") -> str:
    """``corr2d(X, K) with X float32 (5, 7), K float32 (2, 3)``, plus ``note``."""
    return f"corr2d(X, K) with X {_describe(X)}, K {_describe(K)}{note}"


def reference(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """PyTorch's valid cross-correlation of ``X`` with ``K``, computed in float64."""
    X64, K64 = X.detach().to(torch.float64), K.detach().to(torch.float64)
    return F.conv2d(X64[None, None], K64[None, None])[0, 0]


def tolerance(*tensors: torch.Tensor) -> tuple[float, float]:
    """``(rtol, atol)`` of the least precise of ``tensors``, and never tighter than float32's.

    Precision beyond float32 is what the dtype cell checks; elsewhere a float32
    computation is right.
    """
    rtols, atols = zip(*(tolerance_for(t) for t in (*tensors, _FLOAT32)))
    return max(rtols), max(atols)


def values_right(Y: object, expected: torch.Tensor, *, rtol: float, atol: float) -> bool:
    """True when ``Y`` is a plain tensor with ``expected``'s values in row-major order (any shape)."""
    if type(Y) is not torch.Tensor or Y.is_complex():
        return False
    _, got = plain(Y, what="corr2d(X, K)")
    _, want = plain(expected, what="reference")
    if len(got) != len(want):
        return False
    return all(abs(u - v) <= atol + rtol * abs(v) for u, v in zip(got, want))


def expect_values(Y: object, X: torch.Tensor, K: torch.Tensor, *, what: str) -> None:
    """``Y = corr2d(X, K)`` holds the values of PyTorch's cross-correlation, whatever its shape and dtype.

    The values are compared in row-major order when ``Y`` has as many elements
    as the expected output; a flipped kernel, the mean of each window instead of
    its sum and swapped rows and columns are named in the message.
    """
    expect_tensor(Y, what=what)
    expected = reference(X, K)
    rtol, atol = tolerance(Y, X, K)
    count, shape = int(expected.numel()), tuple(expected.shape)
    got_shape = tuple(int(n) for n in Y.shape)
    expect(
        int(Y.numel()) == count,
        f"{what}: expected {count} value{'s' if count != 1 else ''} (shape {shape}), "
        f"got {int(Y.numel())} (shape {got_shape}); "
        "an (h, w) input and a (kh, kw) kernel give h - kh + 1 rows and w - kw + 1 columns",
    )
    if values_right(Y, expected, rtol=rtol, atol=atol):
        return
    kh, kw = (int(n) for n in K.shape)
    if values_right(Y, reference(X, K.flip(0, 1)), rtol=rtol, atol=atol):
        expect(
            False,
            f"{what}: your output is the true convolution (the kernel flipped); "
            "cross-correlation uses K as it is, Y[i, j] = sum of X[i + a, j + b] * K[a, b]",
            tag="flipped-kernel",
        )
    if kh * kw > 1 and values_right(Y, expected / (kh * kw), rtol=rtol, atol=atol):
        expect(
            False,
            f"{what}: your output is the mean of each window's products; cross-correlation takes their sum",
            tag="mean-not-sum",
        )
    if got_shape == shape[::-1] and shape[0] != shape[1] and values_right(Y.t(), expected, rtol=rtol, atol=atol):
        expect(
            False,
            f"{what}: expected shape {shape}, got the transpose {got_shape}: rows and columns are swapped, "
            "Y[i, j] belongs to the window that starts at row i and column j",
            tag="transposed-output",
        )
    note = "" if got_shape == shape else f", values in row-major order (the shape {got_shape} is charged elsewhere)"
    expect_close(
        Y.reshape(shape),
        expected,
        what=f"{what}{note}",
        rtol=rtol,
        atol=atol,
    )


def expect_depends_on_inputs(corr2d: object, X: torch.Tensor, K: torch.Tensor, *, what: str) -> None:
    """``corr2d(2 X, K)`` and ``corr2d(X, 2 K)`` differ from ``corr2d(X, K)``.

    The house rules (no built-in convolution, inputs left unchanged) are kept
    trivially by a function that ignores its inputs; their points need a
    ``corr2d`` whose result depends on ``X`` and ``K``. Any values will do, right
    or wrong: those are charged by the value tests.
    """
    Y = corr2d(X.clone(), K.clone())
    expect_tensor(Y, what=what)
    for name, args in (("2 * X", (2 * X, K.clone())), ("2 * K", (X.clone(), 2 * K))):
        Y2 = corr2d(*args)
        expect_tensor(Y2, what=f"{what}, with {name}")
        expect(
            not (Y2.shape == Y.shape and bool(torch.equal(Y2.detach(), Y.detach()))),
            f"{what}: the result stays {_short(Y)} when {name.split()[-1]} is doubled; "
            "the house rules earn points only for a corr2d that computes its result from X and K",
        )


def graph_ops(corr2d: object, X: torch.Tensor, K: torch.Tensor) -> list[str]:
    """The autograd nodes behind ``corr2d(X, K)`` for copies of X and K that require grad.

    One slip, one charge: a ``corr2d`` that fails on inputs requiring grad (NumPy's
    ``X.numpy()`` without ``detach()``) is charged by the gradient cell, whose
    requirement that is; here it has no graph to look at: ``[]``. The inputs are
    non-leaf, so an answer that writes into X in place still runs.
    """
    Xg, Kg = X.clone().requires_grad_(True) + 0, K.clone().requires_grad_(True) + 0
    try:
        _, nodes = autograd_ops(corr2d, Xg, Kg)
    except Exception:  # not differentiable: test_gradients charges it
        return []
    return nodes


def _short(Y: torch.Tensor) -> str:
    values = plain(Y, what="corr2d(X, K)")[1]
    text = ", ".join(f"{v:.4g}" for v in values[:6])
    return f"[{text}{', ...' if len(values) > 6 else ''}] (shape {tuple(int(n) for n in Y.shape)})"


def not_differentiable_tag(corr2d: object, X: torch.Tensor, K: torch.Tensor) -> str:
    """``python-floats`` when ``corr2d`` turns tensors into Python numbers, else ``no-autograd-graph``."""
    _, ops = record_ops(corr2d, X.detach().clone(), K.detach().clone())
    return "python-floats" if "_local_scalar_dense" in ops else "no-autograd-graph"


def expect_gradients(corr2d: object, X0: torch.Tensor, K0: torch.Tensor, G: torch.Tensor) -> None:
    """The gradients of ``corr2d(X, K)`` reach ``X`` and ``K`` and, where the output is right, equal PyTorch's.

    ``G`` (the shape of the expected output) is the gradient of some loss with
    respect to the output: ``torch.autograd.grad(Y, (X, K), G)`` is compared
    with the same product for ``F.conv2d``. When the output has the right number
    of elements but another shape, ``G`` is reshaped to it; when its values are
    wrong, only the existence of the gradients is checked (the value tests
    charge the values).
    """
    X = X0.clone().requires_grad_(True)
    K = K0.clone().requires_grad_(True)
    what = call_text(X, K, ", both requiring grad")
    Y = corr2d(X, K)
    expect_tensor(Y, what=what)
    expect(
        bool(Y.requires_grad),
        f"{what}: the output does not require grad; build it from tensor operations on X and K, not from "
        "Python numbers (.item(), float(), .tolist()), NumPy arrays or under torch.no_grad()",
        tag="" if Y.requires_grad else not_differentiable_tag(corr2d, X0, K0),
    )
    if int(Y.numel()) == int(G.numel()):
        G_student = G.reshape(Y.shape).to(Y.dtype)
    else:
        G_student = torch.ones(Y.shape, dtype=Y.dtype)
    gX, gK = vjp(Y, (X, K), G_student, allow_unused=True)
    expect(
        gX is not None,
        f"{what}: no gradient reached X (torch.autograd.grad(Y, X) is None): is X detached somewhere?",
        tag="detached-input",
    )
    expect(
        gK is not None,
        f"{what}: no gradient reached K (torch.autograd.grad(Y, K) is None): is K detached or turned into "
        "Python numbers (K.tolist(), K[a, b].item())?",
        tag="detached-kernel",
    )
    expected = reference(X0, K0)
    rtol, atol = tolerance(Y, X0, K0)
    if not values_right(Y, expected, rtol=rtol, atol=atol):
        return  # the output's values are wrong: charged by the value tests, not here
    Xr = X0.detach().to(torch.float64).requires_grad_(True)
    Kr = K0.detach().to(torch.float64).requires_grad_(True)
    rX, rK = vjp(F.conv2d(Xr[None, None], Kr[None, None])[0, 0], (Xr, Kr), G.to(torch.float64))
    rtol, atol = tolerance(Y, gX, gK, X0, K0)
    expect_close(gX, rX, what=f"torch.autograd.grad(Y, X, G) for Y = {what} and a random G", rtol=rtol, atol=atol)
    expect_close(gK, rK, what=f"torch.autograd.grad(Y, K, G) for Y = {what} and a random G", rtol=rtol, atol=atol)


def expect_unchanged(after: torch.Tensor, before: torch.Tensor, *, name: str, what: str) -> None:
    """The input ``name`` of the call ``what`` still holds ``before`` (shape and values, exactly)."""
    old_shape, old_values = plain(before, what=f"{name} before {what}")
    new_shape, new_values = plain(after, what=f"{name} after {what}")
    expect(
        new_shape == old_shape,
        f"{what} changed the shape of {name} in place, from {old_shape} to {new_shape}: leave {name} alone",
        tag="in-place-mutation",
    )
    changed = sum(1 for u, v in zip(new_values, old_values) if not (u == v or (u != u and v != v)))
    expect(
        changed == 0,
        f"{what} changed {name} in place ({changed} of {len(old_values)} values, largest change "
        f"{max_abs_diff(new_values, old_values):.3g}): compute into a new tensor (for example with "
        f"X.new_zeros) and leave {name} alone",
        tag="in-place-mutation",
    )
