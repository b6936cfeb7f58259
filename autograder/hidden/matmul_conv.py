"""Checks shared by the hidden tests of ``matmul_conv`` (import them only from hidden parts).

The graded functions are linear in each argument: ``corr2d_matmul(X, K)`` and
``corr2d_multi_matmul(X, K)`` are linear in ``X`` for a fixed ``K`` and in ``K``
for a fixed ``X``, and ``kernel_matrix(K, input_shape)`` is linear in ``K``.
The checks use that to judge every aspect on its own (one slip, one charge):

* values are compared whatever the shape of the output, as long as it holds the
  right number of values (the shape cells charge the shape);
* gradients must reach every input and be the derivatives of the student's own
  output (for a linear map, the derivative along a direction ``D`` is the map
  applied to ``D``); they are compared with PyTorch's gradients only when the
  output itself is right, so that a wrong value costs the value cell only;
* precision is charged only when the values are right to float32 precision
  but not to float64 precision.

Each helper takes the student's function as an argument and calls it with plain
data (tensors, numbers, tuples), so it works the same on the real function in a
student's Jupyter and on the proxy that stands for it when a notebook is graded.
Every failure raises :class:`~autograder.checks.CheckFailed`; its message starts
with the call that failed (the dtypes and shapes of its inputs) and says what
was expected and what came back.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch.nn import functional as F

from autograder.checks import (
    CheckFailed,
    expect,
    expect_close,
    expect_not_close,
    expect_tensor,
    tagged,
    tolerance_for,
)
from autograder.course import record_ops, vjp

__all__ = [
    "MATMUL_OPS",
    "describe",
    "arranged",
    "expect_values",
    "expect_shape_of",
    "expect_dtype_of",
    "expect_precision",
    "expect_gradients",
    "expect_one_matmul",
    "expect_no_convolution",
    "expect_kernel_matrix_structure",
    "reference_corr2d",
    "reference_multi",
    "reference_kernel_matrix",
    "wrong_corr2d_answers",
    "wrong_multi_answers",
    "multi_layouts",
]

# aten operators (overload packet names, as record_ops reports them) that multiply matrices or vectors
MATMUL_OPS = frozenset(
    {"mm", "bmm", "addmm", "addbmm", "baddbmm", "mv", "addmv", "dot", "vdot", "matmul", "inner", "outer", "_mm"}
)

# (shape, rearrange, tag, explanation): an output in another layout, e.g. channels last
Layouts = Sequence[tuple[tuple[int, ...], Callable[[torch.Tensor], torch.Tensor], str, str]]
WrongAnswers = Sequence[tuple[torch.Tensor, str, str]]


def _shape(x: torch.Tensor) -> tuple[int, ...]:
    return tuple(int(n) for n in x.shape)


def _dtype_name(x: torch.Tensor) -> str:
    return str(x.dtype).removeprefix("torch.")


def describe(call: str, **inputs: object) -> str:
    """``corr2d_matmul(X, K) with X float32 (5, 7), K float32 (2, 3)``: a call and its inputs."""
    parts = []
    for name, value in inputs.items():
        if isinstance(value, torch.Tensor):
            parts.append(f"{name} {_dtype_name(value)} {_shape(value)}")
        else:
            parts.append(f"{name} = {value!r}")
    return f"{call} with {', '.join(parts)}"


def arranged(actual: object, shape: Sequence[int], *, what: str, layouts: Layouts = ()) -> torch.Tensor:
    """``actual`` as a tensor of ``shape``, so that its values can be compared whatever its own shape.

    The same shape: as it is. A shape named in ``layouts``:
    rearranged, e.g. channels last to channels first. Otherwise the same number of
    values: reshaped in row-major order. The shape itself is charged by the shape cells.
    ``layouts`` holds ``(shape, rearrange, tag, explanation)`` tuples.

    Raises:
        CheckFailed: ``actual`` is not a plain tensor, or holds a different number of values.
    """
    expect_tensor(actual, what=what)
    got, want = _shape(actual), tuple(int(n) for n in shape)
    if got == want:
        return actual
    for layout, rearrange, _, _ in layouts:
        if got == tuple(layout):
            return rearrange(actual)
    if actual.numel() == math.prod(want):
        return actual.reshape(want)
    raise CheckFailed(
        f"{what}: expected {math.prod(want)} values (shape {want}), got shape {got}; "
        "its values cannot be compared with the expected ones"
    )


def _close(a: torch.Tensor, b: torch.Tensor, rtol: float, atol: float) -> bool:
    if _shape(a) != _shape(b):
        return False
    return bool(torch.allclose(a.detach().double(), b.detach().double(), rtol=rtol, atol=atol))


def expect_values(
    actual: object,
    expected: torch.Tensor,
    *,
    what: str,
    rtol: float = 1e-4,
    atol: float = 1e-5,
    layouts: Layouts = (),
    wrong: WrongAnswers = (),
    hint: str = "",
) -> None:
    """Fail unless ``actual`` holds ``expected``'s values (whatever its shape, see :func:`arranged`).

    ``wrong`` lists known wrong answers ``(values, message, tag)``: a match fails with
    that message and misconception tag (entries equal to ``expected`` are skipped).
    """
    got = arranged(actual, _shape(expected), what=what, layouts=layouts)
    for other, message, tag in wrong:
        if not _close(other, expected, rtol, atol):
            expect_not_close(got, other, what=what, message=message, rtol=rtol, atol=atol, tag=tag)
    expect_close(got, expected, what=what, rtol=rtol, atol=atol, hint=hint)


def expect_shape_of(actual: object, shape: Sequence[int], *, what: str, layouts: Layouts = (), hint: str = "") -> None:
    """Fail unless ``actual`` is a plain tensor of exactly ``shape``; a layout in ``layouts`` is named."""
    expect_tensor(actual, what=what)
    got, want = _shape(actual), tuple(int(n) for n in shape)
    if got == want:
        return
    for layout, _, tag, explanation in layouts:
        if got == tuple(layout):
            raise CheckFailed(tagged(f"{what}: expected shape {want}, got {got}: {explanation}", tag))
    raise CheckFailed(f"{what}: expected shape {want}, got {got}" + (f"; {hint}" if hint else ""))


def expect_dtype_of(actual: object, dtype: torch.dtype, *, what: str) -> None:
    """Fail unless ``actual`` is a plain tensor of ``dtype`` (float32 for float64 is tagged ``float32-buffer``)."""
    expect_tensor(actual, what=what)
    got = actual.dtype
    tag = "float32-buffer" if (got is torch.float32 and dtype is torch.float64) else ""
    hint = (
        ": a buffer made with torch.zeros/torch.empty/torch.tensor and no dtype is float32; "
        "give it the input's dtype (dtype=X.dtype, X.new_zeros(...))"
        if tag
        else ""
    )
    expect(got is dtype, f"{what}: expected dtype {dtype}, got {got}{hint}", tag=tag)


def expect_precision(actual: object, expected: torch.Tensor, *, what: str, layouts: Layouts = ()) -> None:
    """Fail if ``actual`` is right to float32 precision but not to float64 precision.

    ``expected`` is computed in float64 from inputs whose float32 rounding shows.
    Values that are wrong altogether, or a different number of values, are left
    to the value and shape cells.
    """
    expect_tensor(actual, what=what)
    if actual.numel() != expected.numel():
        return
    got = arranged(actual, _shape(expected), what=what, layouts=layouts).detach().double()
    scale = float(expected.abs().max())
    diff = float((got - expected.double()).abs().max())
    if 1e-9 * scale < diff <= 1e-4 * scale:
        raise CheckFailed(
            tagged(
                f"{what}: the values are right only to float32 precision (largest difference {diff:.3g} "
                f"at values up to {scale:.3g}): compute in the input's dtype",
                "float32-buffer",
            )
        )


def _loosest(*tensors: torch.Tensor) -> tuple[float, float]:
    tolerances = [tolerance_for(t) for t in tensors]
    return max(t[0] for t in tolerances), max(t[1] for t in tolerances)


def expect_gradients(
    call: Callable[..., object],
    inputs: dict[str, torch.Tensor],
    reference: Callable[..., torch.Tensor],
    *,
    what: str,
    seed: int,
    no_grad_hint: str = "",
    no_grad_tag: str = "not-differentiable",
) -> None:
    """Gradients of ``call(*inputs)`` reach every input and are the derivatives of its own output.

    ``call`` must be linear in each input separately; ``reference`` computes the
    right output with PyTorch (it is called on float64 copies of the inputs). An
    upstream gradient ``G`` of the output's own shape is drawn; when the output
    equals the reference, the gradients must equal PyTorch's; otherwise, along a
    random direction ``D`` of each input, ``(grad * D).sum()`` must equal
    ``(G * call(..., D, ...)).sum()``, the change of ``(G * output).sum()``.
    Tolerances fit the looser of the output's and the inputs' dtypes. ``no_grad_hint``
    and ``no_grad_tag`` replace the advice and the tag given when the output does
    not require grad.
    """
    generator = torch.Generator().manual_seed(seed)
    names = list(inputs)
    leaves = [inputs[name].detach().clone().requires_grad_(True) for name in names]
    Y = call(*leaves)
    expect_tensor(Y, what=what)
    hint = no_grad_hint or (
        f"build it from tensor operations on {' and '.join(names)} (not from Python floats, .item(), "
        ".tolist(), torch.tensor(...) or under torch.no_grad())"
    )
    expect(bool(Y.requires_grad), f"{what}: the output does not require grad; {hint}", tag=no_grad_tag)
    G = torch.randn(_shape(Y), generator=generator, dtype=torch.float64)
    grads = vjp(Y, leaves, G.to(Y.dtype), allow_unused=True)
    for name, grad in zip(names, grads):
        expect(
            grad is not None,
            f"{what}: no gradient reached {name}; is {name} detached somewhere "
            "(.detach(), .item(), .tolist(), torch.tensor(...), torch.no_grad())?",
            tag="detached-input",
        )
    rtol, atol = _loosest(Y, *inputs.values())
    ref_leaves = [inputs[name].detach().double().requires_grad_(True) for name in names]
    R = reference(*ref_leaves)
    if _close(Y, R, rtol, atol):
        ref_grads = vjp(R, ref_leaves, G)
        for name, grad, ref_grad in zip(names, grads, ref_grads):
            expect_close(grad, ref_grad, what=f"gradient with respect to {name} of {what}", rtol=rtol, atol=atol)
        return
    for index, (name, grad) in enumerate(zip(names, grads)):
        D = torch.randn(_shape(inputs[name]), generator=generator, dtype=torch.float64).to(inputs[name].dtype)
        args = [D.clone() if i == index else inputs[other].detach().clone() for i, other in enumerate(names)]
        along = arranged(call(*args), _shape(Y), what=f"{what}, called with a random {name}")
        backward = (grad.detach().double() * D.double()).sum()
        forward = (G * along.detach().double()).sum()
        scale = float((grad.detach().double() * D.double()).abs().sum() + (G * along.detach().double()).abs().sum())
        if abs(float(backward) - float(forward)) > rtol * scale + atol:
            raise CheckFailed(
                tagged(
                    f"gradient with respect to {name} of {what}: it is not the derivative of the output. "
                    f"Along a random direction D, (gradient * D).sum() = {float(backward):.6g}, but the output "
                    f"changes by (G * output for D).sum() = {float(forward):.6g}; is part of the computation "
                    "detached (.detach(), .item(), .tolist(), torch.tensor(...), torch.no_grad())?",
                    "detached-input",
                )
            )


def _ops(fn: Callable[..., object], *args: object, what: str) -> list[str]:
    copies = [arg.detach().clone() if isinstance(arg, torch.Tensor) else arg for arg in args]
    _, ops = record_ops(fn, *copies)
    expect(
        isinstance(ops, list) and all(isinstance(op, str) for op in ops),
        f"{what}: could not record the operators",
    )
    return list(ops)


def expect_no_convolution(fn: Callable[..., object], *args: object, what: str, hint: str) -> list[str]:
    """Fail if ``fn(*args)`` runs a built-in convolution; return the operators it ran."""
    ops = _ops(fn, *args, what=what)
    convolutions = sorted({op for op in ops if "conv" in op})
    expect(
        not convolutions,
        f"{what}: called a built-in convolution ({', '.join(convolutions)}); {hint}",
        tag="builtin-convolution",
    )
    return ops


def expect_one_matmul(fn: Callable[..., object], *args: object, what: str, hint: str) -> None:
    """Fail unless ``fn(*args)`` runs no convolution and exactly one matrix multiplication."""
    ops = expect_no_convolution(fn, *args, what=what, hint=hint)
    matmuls = [op for op in ops if op in MATMUL_OPS]
    names = f" ({', '.join(sorted(set(matmuls)))})" if matmuls else ""
    expect(
        len(matmuls) == 1,
        f"{what}: expected exactly one matrix multiplication, counted {len(matmuls)}{names}; {hint}",
        tag="no-matmul" if not matmuls else ("several-matmuls" if len(matmuls) > 1 else ""),
    )


def expect_kernel_matrix_structure(W: object, K: torch.Tensor, input_shape: tuple[int, int], *, what: str) -> None:
    """Fail unless every row of ``W`` is zero outside its window and holds the tied weights of ``K``.

    Row ``i * out_w + j`` must be nonzero exactly in the columns of the window
    ``X[i : i + kh, j : j + kw]`` and hold there the entries of ``K`` (which must
    have no zero), in the same order in every row. Which weight goes to which
    column is the product cell's business; a ``W`` of another shape with the right
    number of entries is read in row-major order (the shape cell charges it).
    """
    in_h, in_w = input_shape
    kh, kw = _shape(K)
    out_h, out_w = in_h - kh + 1, in_w - kw + 1
    rows = arranged(W, (out_h * out_w, in_h * in_w), what=what).detach().double().tolist()
    weights = sorted(K.double().reshape(-1).tolist())
    first: list[float] | None = None
    for r, row in enumerate(rows):
        i, j = divmod(r, out_w)
        window = [(i + a) * in_w + (j + b) for a in range(kh) for b in range(kw)]
        nonzero = [c for c, v in enumerate(row) if v != 0.0]
        expect(
            nonzero == window,
            f"{what}: row {r} of W (output position ({i}, {j})) should be nonzero exactly in columns {window} "
            f"(the window X[{i}:{i + kh}, {j}:{j + kw}]), but is nonzero in columns {nonzero}",
        )
        values = [row[c] for c in window]
        expect(
            sorted(values) == weights,
            f"{what}: row {r} of W holds {_fmt(values)} in its window; expected the kernel's weights "
            f"{_fmt(weights)}, in some order",
        )
        if first is None:
            first = values
        expect(
            values == first,
            f"{what}: row {r} of W holds {_fmt(values)} in its window but row 0 holds {_fmt(first)}: "
            "the weights are tied, every row holds them in the same order",
            tag="untied-weights",
        )


def _fmt(values: Sequence[float]) -> str:
    return "[" + ", ".join(f"{v:.4g}" for v in values) + "]"


# --- PyTorch's answers, and the answers of known misconceptions ---------------------------------


def reference_corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Valid cross-correlation of a 2-D ``X`` with a 2-D ``K`` by ``F.conv2d``."""
    return F.conv2d(X[None, None], K[None, None])[0, 0]


def reference_multi(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """``X`` ``(c_in, h, w)`` cross-correlated with ``K`` ``(c_out, c_in, kh, kw)`` by ``F.conv2d``."""
    return F.conv2d(X[None], K)[0]


def reference_kernel_matrix(K: torch.Tensor, input_shape: tuple[int, int]) -> torch.Tensor:
    """The kernel matrix read off ``F.conv2d`` of the basis images (differentiable in ``K``)."""
    in_h, in_w = input_shape
    n = in_h * in_w
    basis = torch.eye(n, dtype=K.dtype).reshape(n, 1, in_h, in_w)
    return F.conv2d(basis, K[None, None]).reshape(n, -1).T


def wrong_corr2d_answers(X: torch.Tensor, K: torch.Tensor) -> list[tuple[torch.Tensor, str, str]]:
    """What a flipped kernel and windows flattened in the wrong order give (float64)."""
    X, K = X.double(), K.double()
    kh, kw = _shape(K)
    return [
        (
            reference_corr2d(X, K.flip(0, 1)),
            "kernel flipped? your output equals the true convolution; cross-correlation uses K as it is",
            "flipped-kernel",
        ),
        *(
            (
                reference_corr2d(X, mixed),
                "the windows and the kernel are flattened in different orders: flatten both row by row, "
                "like reshape(-1)",
                "transposed-patches",
            )
            for mixed in (K.reshape(kw, kh).T, K.T.reshape(kh, kw))
        ),
    ]


def multi_layouts(c_out: int, out_h: int, out_w: int) -> Layouts:
    """Other layouts of a multi-channel output: channels last, or the product not reshaped."""
    return [
        (
            (out_h, out_w, c_out),
            lambda Y: Y.permute(2, 0, 1),
            "channels-last",
            f"the channels come first: (c_out, out_h, out_w) = {(c_out, out_h, out_w)}",
        ),
        (
            (out_h * out_w, c_out),
            lambda Y: Y.T.reshape(c_out, out_h, out_w),
            "product-not-reshaped",
            "that is the product with one row per output position; transpose it and reshape it to "
            f"(c_out, out_h, out_w) = {(c_out, out_h, out_w)}",
        ),
    ]


def wrong_multi_answers(X: torch.Tensor, K: torch.Tensor) -> list[tuple[torch.Tensor, str, str]]:
    """What the misconceptions of the multi-channel exercise give (float64)."""
    X, K = X.double(), K.double()
    c_out, c_in, kh, kw = _shape(K)
    out_h, out_w = X.shape[1] - kh + 1, X.shape[2] - kw + 1
    right = reference_multi(X, K)
    answers = [
        (
            reference_multi(X, K.flip(2, 3)),
            "kernel flipped? your output equals the true convolution; cross-correlation uses K as it is",
            "flipped-kernel",
        ),
        (
            reference_multi(X, K.reshape(c_out, kh, kw, c_in).permute(0, 3, 1, 2)),
            "the patch columns and the weights order the channels differently: column c * kh * kw + a * kw + b "
            "of the patch matrix must hold X[c, i + a, j + b], like K.reshape(c_out, -1)",
            "channels-order",
        ),
        (
            reference_multi(X, K.permute(0, 2, 3, 1).reshape(c_out, c_in, kh, kw)),
            "the patch columns and the weights order the channels differently: column c * kh * kw + a * kw + b "
            "of the patch matrix must hold X[c, i + a, j + b], like K.reshape(c_out, -1)",
            "channels-order",
        ),
        (
            reference_multi(X, K.reshape(c_in * kh * kw, c_out).T.reshape(c_out, c_in, kh, kw)),
            "the weights were reshaped straight to (c_in * kh * kw, c_out), which mixes up the output "
            "channels: reshape K to (c_out, c_in * kh * kw) first, then transpose",
            "weights-reshape-order",
        ),
        (
            F.conv2d(X.sum(0)[None, None], K.sum(1)[:, None])[0],
            "the input channels were summed before the multiplication: each channel's window gets its own "
            "weights, and the products are summed over the channels",
            "channels-summed-first",
        ),
        (
            right.reshape(c_out, out_h * out_w).T.reshape(c_out, out_h, out_w),
            "the product has one row per output position and one column per output channel: transpose it "
            "before reshaping it to (c_out, out_h, out_w)",
            "missing-transpose",
        ),
    ]
    if c_in == c_out:
        answers.append(
            (
                reference_multi(X, K.transpose(0, 1)),
                "the input and output channels of K are swapped: K has shape (c_out, c_in, kh, kw), "
                "K[o, c] is the kernel from input channel c to output channel o",
                "cin-cout-swapped",
            )
        )
    return answers
