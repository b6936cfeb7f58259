"""Hidden-test helpers of the ``kernels`` assignment (import them only from hidden parts of test cells).

Every check takes the student's function as an argument and calls it through
:func:`call`, so that an exception raised by the student's code becomes a
failure that names the call. Kernels are judged by their entries in row-major
order: a kernel of the wrong shape is charged in the shape cell only, and the
value cells still say whether its entries are right.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from autograder.checks import CheckFailed, expect, expect_close, expect_not_close, plain, tagged
from autograder.hidden import call, failure  # noqa: F401  (used by the notebooks too)

__all__ = [
    "call",
    "describe",
    "failure",
    "expect_centred_refused",
    "expect_centred_shape",
    "expect_centred_values",
    "expect_entries",
    "expect_exact_on_polynomials",
    "expect_kernel_dtype",
    "expect_kernel_shape",
    "expect_laplacian_dtype",
    "expect_laplacian_shape",
    "expect_laplacian_values",
    "expect_mixed_shape",
    "expect_mixed_values",
    "expect_refused",
    "expect_zero_order",
    "flipped_convention",
    "returns",
]

# x = -7..8: sixteen samples, long enough for every kernel of up to 16 entries
SAMPLES = torch.arange(-7, 9, dtype=torch.float64)


def describe(x: Any) -> str:
    """``float32 (1, 4)`` for a plain tensor, the type's name for anything else."""
    if type(x) is torch.Tensor:
        return f"{str(x.dtype).removeprefix('torch.')} {tuple(x.shape)}"
    label = getattr(type(x), "remote_type_label", None)  # an object of the student process: its real type
    return str(label(x)) if callable(label) else type(x).__name__


def returns(fn: Callable[..., Any], *args: Any) -> bool:
    """Whether ``fn(*args)`` returns at all (an error is charged in another cell)."""
    try:
        fn(*args)
    except Exception:
        return False
    return True


def _fmt(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:g}" for v in values) + "]"


def _kernel(derivative_kernel: Callable[[int], Any], d: int) -> tuple[Any, tuple[int, ...], list[float], str]:
    """The student's kernel for ``d``, its shape, its entries (row-major) and how to name it."""
    K = call(f"derivative_kernel({d})", derivative_kernel, d)
    shape, values = plain(K, what=f"derivative_kernel({d})")
    return K, shape, values, f"derivative_kernel({d}) (returned {describe(K)})"


def expect_kernel_shape(derivative_kernel: Callable[[int], Any], d: int) -> None:
    """``derivative_kernel(d)`` has shape ``(1, d + 1)``."""
    _, shape, _, _ = _kernel(derivative_kernel, d)
    want = (1, d + 1)
    if shape == want:
        return
    hint, tag = "", ""
    if shape == (d + 1,):
        hint, tag = "; add the row dimension, e.g. with K[None] or K.reshape(1, -1)", "one-dimensional-kernel"
    elif shape == (d + 1, 1) and d > 0:
        hint, tag = "; a column kernel differentiates down the columns: make it a row", "column-kernel"
    elif shape == (1, 2 * d + 1) and d > 0:
        hint = "; 2d + 1 entries is a centred difference, the forward difference f(x+1) - f(x) needs d + 1"
        tag = "centred-difference"
    raise CheckFailed(tagged(f"derivative_kernel({d}): expected shape {want}, got {shape}{hint}", tag))


def expect_kernel_dtype(derivative_kernel: Callable[[int], Any], d: int) -> None:
    """``derivative_kernel(d)`` is float32 (the default floating dtype)."""
    K = call(f"derivative_kernel({d})", derivative_kernel, d)
    plain(K, what=f"derivative_kernel({d})")  # a plain real tensor
    dtype = K.dtype
    hint, tag = "", ""
    if not dtype.is_floating_point:
        hint = "; torch.tensor of Python ints gives an integer tensor: pass floats or dtype=torch.float32"
        tag = "integer-kernel"
    expect(
        dtype == torch.float32,
        f"derivative_kernel({d}): expected dtype torch.float32, got {dtype}{hint}",
        tag=tag,
    )


def expect_zero_order(derivative_kernel: Callable[[int], Any]) -> None:
    """``derivative_kernel(0)`` has one entry, 1: the zeroth difference of f is f."""
    K, shape, values, what = _kernel(derivative_kernel, 0)
    expect(
        len(values) == 1 and math.isclose(values[0], 1.0, abs_tol=1e-6),
        f"{what}: expected [[1.0]] (the zeroth difference of f is f itself), got the entries {_fmt(values)}",
    )


def expect_refused(derivative_kernel: Callable[[int], Any], d: int) -> None:
    """``derivative_kernel(d)`` raises ValueError (``d`` is negative)."""
    try:
        K = derivative_kernel(d)
    except ValueError:
        return
    except Exception as error:
        raise CheckFailed(
            f"derivative_kernel({d}) raised {failure(error)}; expected ValueError: "
            "there is no difference of negative order (raise ValueError(...) yourself when d < 0)"
        ) from error
    raise CheckFailed(
        tagged(
            f"derivative_kernel({d}): expected ValueError (there is no difference of negative order), "
            f"but it returned {describe(K)}",
            "negative-order-accepted",
        )
    )


def flipped_convention(derivative_kernel: Callable[[int], Any]) -> bool:
    """True when ``derivative_kernel(1)`` has the entries ``[1, -1]``: the signs of the convolution
    convention, which ``test_first_differences`` charges."""
    try:
        _, values = plain(derivative_kernel(1), what="derivative_kernel(1)")
    except Exception:
        return False
    return values == [1.0, -1.0]


def expect_entries(derivative_kernel: Callable[[int], Any], d: int, expected: list[float]) -> None:
    """The entries of ``derivative_kernel(d)`` in row-major order are ``expected`` (shape not judged)."""
    _, shape, values, what = _kernel(derivative_kernel, d)
    if len(values) != len(expected):
        centred = len(values) == 2 * d + 1
        raise CheckFailed(
            tagged(
                f"{what}: expected {len(expected)} entries {_fmt(expected)}, got {len(values)}: {_fmt(values)}"
                + ("; that is a centred difference, the forward difference needs d + 1 entries" if centred else ""),
                "centred-difference" if centred else "",
            )
        )
    got = torch.tensor(values, dtype=torch.float64)
    want = torch.tensor(expected, dtype=torch.float64)
    if d % 2 == 1:
        expect_not_close(
            got,
            -want,
            what=what,
            message=f"expected the entries {_fmt(expected)}, got {_fmt(values)}: the signs follow the convolution "
            "convention; cross-correlating samples [f(x), f(x+1)] with the kernel must give f(x+1) - f(x)",
            rtol=0,
            atol=1e-6,
            tag="flipped-kernel",
        )
    expect_close(got, want, what=f"{what}, entries in row-major order", rtol=0, atol=1e-6)


def _correlate(samples: torch.Tensor, values: list[float]) -> torch.Tensor:
    """Valid cross-correlation of each row of ``samples`` (float64) with the kernel entries ``values``."""
    weight = torch.tensor(values, dtype=torch.float64).reshape(1, 1, -1)
    return F.conv1d(samples.reshape(-1, 1, samples.shape[-1]), weight)[:, 0].reshape(*samples.shape[:-1], -1)


def _close(a: torch.Tensor, b: torch.Tensor, atol: float) -> bool:
    return bool((a - b).abs().max() <= atol)


def expect_exact_on_polynomials(derivative_kernel: Callable[[int], Any], d: int, *, sign_charged: bool) -> None:
    """Cross-correlating samples of x**d with ``derivative_kernel(d)`` gives d!, lower degrees give 0.

    The kernel's entries are used in row-major order whatever its shape. With
    ``sign_charged`` (the kernels follow the convolution convention, charged in
    ``test_first_differences``), -d! is accepted for odd d. A kernel of d + 1
    entries must also turn random rows into ``torch.diff(row, n=d)``.
    """
    K, shape, values, what = _kernel(derivative_kernel, d)
    n = len(SAMPLES)
    expect(
        1 <= len(values) <= n,
        f"{what}: expected d + 1 = {d + 1} entries, got {len(values)}",
    )
    scale = max(1.0, sum(abs(v) for v in values))
    sign = -1.0 if (sign_charged and d % 2 == 1) else 1.0
    for k in range(d, -1, -1):
        f = SAMPLES**k
        out = _correlate(f, values)
        target = float(math.factorial(d)) if k == d else 0.0
        expected = torch.full_like(out, target)
        atol = 1e-5 * scale * float(f.abs().max())
        where = f"cross-correlating samples of x**{k} at x = -7..8 (float64) with {what}"
        if k == d:
            if sign < 0 and _close(out, -expected, atol):
                continue  # the convolution convention: charged in test_first_differences only
            if d % 2 == 1:
                expect_not_close(
                    out,
                    -expected,
                    what=where,
                    message=f"got -{d}! = {-target:g} at every position instead of {d}! = {target:g}: the signs "
                    "follow the convolution convention (cross-correlation does not flip the kernel)",
                    rtol=0,
                    atol=atol,
                    tag="flipped-kernel",
                )
            hint = f"the forward difference of order {d} of x**{d} is {d}! = {target:g} at every position"
        else:
            hint = f"a difference of order {d} turns every polynomial of degree below {d} into 0"
        expect_close(out, expected, what=where, rtol=0, atol=atol, hint=hint)
    if len(values) == d + 1:
        rows = torch.randn(3, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(d))
        expected = sign * torch.diff(rows, n=d, dim=1)
        expect_close(
            _correlate(rows, values),
            expected,
            what=f"cross-correlating each row of a random float64 (3, 12) signal with {what}",
            rtol=0,
            atol=1e-5 * scale * float(rows.abs().max()),
            hint=f"each row should become its forward difference of order {d}, torch.diff(row, n={d})",
        )


# --- Part B: the Laplacian ---------------------------------------------------------------------


def expect_laplacian_shape(laplacian_kernel: Callable[[], Any]) -> None:
    """``laplacian_kernel()`` has shape (3, 3)."""
    K = call("laplacian_kernel()", laplacian_kernel)
    shape, values = plain(K, what="laplacian_kernel()")
    hint = ""
    if len(values) == 9 and shape != (3, 3):
        hint = "; the values can stay, return K.reshape(3, 3) (F.conv2d's (1, 1, 3, 3) weight is made by the caller)"
    expect(shape == (3, 3), f"laplacian_kernel(): expected shape (3, 3), got {shape}{hint}")


def expect_laplacian_dtype(laplacian_kernel: Callable[[], Any]) -> None:
    """``laplacian_kernel()`` is float32."""
    K = call("laplacian_kernel()", laplacian_kernel)
    plain(K, what="laplacian_kernel()")
    dtype = K.dtype
    integer = not dtype.is_floating_point
    expect(
        dtype == torch.float32,
        f"laplacian_kernel(): expected dtype torch.float32, got {dtype}"
        + ("; torch.tensor of Python ints gives an integer tensor: write 1.0, -4.0, ..." if integer else ""),
        tag="integer-kernel" if integer else "",
    )


def expect_laplacian_values(laplacian_kernel: Callable[[], Any]) -> None:
    """The 9 entries of ``laplacian_kernel()`` (row-major, shape not judged) form the five-point Laplacian."""
    K = call("laplacian_kernel()", laplacian_kernel)
    shape, values = plain(K, what="laplacian_kernel()")
    what = f"laplacian_kernel() (returned {describe(K)})"
    expect(len(values) == 9, f"{what}: expected 9 entries (a 3 x 3 kernel), got {len(values)}")
    entries = torch.tensor(values, dtype=torch.float64)
    weight = entries.reshape(1, 1, 3, 3)
    y, x = torch.meshgrid(torch.arange(6, dtype=torch.float64), torch.arange(7, dtype=torch.float64), indexing="ij")
    for name, f, value in [
        ("x**2 + y**2", x**2 + y**2, 4.0),
        ("x**2 - y**2", x**2 - y**2, 0.0),
        ("x*y", x * y, 0.0),
        ("3*x - 2*y + 1", 3 * x - 2 * y + 1, 0.0),
    ]:
        out = F.conv2d(f[None, None], weight)[0, 0]
        expected = torch.full((4, 5), value, dtype=torch.float64)
        where = f"cross-correlating samples of {name} on a 6 x 7 grid (float64) with {what}"
        if value:
            expect_not_close(
                out,
                -expected,
                what=where,
                message="got -4 instead of 4: the signs are flipped (the centre entry is -4, its four neighbours +1)",
                rtol=0,
                atol=1e-6,
                tag="negated-laplacian",
            )
        expect_close(out, expected, what=where, rtol=0, atol=1e-6)
    image = torch.randn(7, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    expected = torch.diff(image[1:-1, :], n=2, dim=1) + torch.diff(image[:, 1:-1], n=2, dim=0)
    expect_close(
        F.conv2d(image[None, None], weight)[0, 0],
        expected,
        what=f"cross-correlating a random float64 (7, 8) image with {what}",
        rtol=1e-6,
        atol=1e-6,
        hint="use only the centre and its four neighbours: f(i, j-1) + f(i, j+1) + f(i-1, j) + f(i+1, j) - 4 f(i, j)",
    )


def _vandermonde_kernel(d: int, offsets: torch.Tensor) -> torch.Tensor:
    """The kernel at ``offsets`` that gives d! on t**d and 0 on the other powers below len(offsets)."""
    n = len(offsets)
    V = torch.stack([offsets**q for q in range(n)])
    rhs = torch.zeros(n, dtype=torch.float64)
    rhs[d] = math.factorial(d)
    return torch.linalg.solve(V, rhs)


def expect_centred_shape(centred_kernel: Callable[[int, int], Any], d: int, m: int) -> None:
    """``centred_kernel(d, m)`` is a float64 tensor of shape ``(1, 2m + 1)``."""
    what = f"centred_kernel({d}, {m})"
    K = call(what, centred_kernel, d, m)
    expect(type(K) is torch.Tensor, f"{what}: expected a torch.Tensor, got {describe(K)}")
    shape = tuple(int(n) for n in K.shape)
    expect(shape == (1, 2 * m + 1), f"{what}: expected shape (1, {2 * m + 1}), one tap per offset -m..m, got {shape}")
    expect(
        K.dtype == torch.float64,
        f"{what}: expected dtype torch.float64 (solve the Vandermonde system in float64), got {K.dtype}",
        tag="" if K.dtype.is_floating_point else "integer-kernel",
    )


def expect_centred_values(centred_kernel: Callable[[int, int], Any], d: int, m: int) -> None:
    """The entries of ``centred_kernel(d, m)`` (row-major, whatever the shape and dtype) solve the Vandermonde
    system at offsets -m..m: d! on t**d and 0 on every other power up to t**(2m), at the window's centre."""
    offsets = torch.arange(-m, m + 1, dtype=torch.float64)
    expected = _vandermonde_kernel(d, offsets)
    one_sided = _vandermonde_kernel(d, torch.arange(0, 2 * m + 1, dtype=torch.float64))
    what = f"centred_kernel({d}, {m})"
    K = call(what, centred_kernel, d, m)
    _, values = plain(K, what=what)
    expect(len(values) == 2 * m + 1, f"{what}: expected {2 * m + 1} entries (offsets -m..m), got {len(values)}")
    got = torch.tensor(values, dtype=torch.float64)
    scale = max(1.0, float(math.factorial(d)))
    expect(
        not (torch.allclose(got, one_sided, rtol=1e-6, atol=1e-6 * scale) and not torch.allclose(one_sided, expected)),
        f"{what}: the entries solve the system at the offsets 0..{2 * m}, one side of the output's sample; "
        f"a centred kernel has its taps at -{m}..{m}",
        tag="one-sided-offsets",
    )
    expect(
        not (d > 1 and torch.allclose(got * math.factorial(d), expected, rtol=1e-6, atol=1e-6 * scale)),
        f"{what}: the entries give 1 on t**{d}, not the {d}-th derivative {d}! = {math.factorial(d)}",
        tag="missing-factorial",
    )
    for q in range(2 * m + 1):
        response = float((got * offsets**q).sum())
        target = float(math.factorial(d)) if q == d else 0.0
        expect(
            math.isclose(response, target, rel_tol=1e-6, abs_tol=1e-6 * scale * max(1.0, float(m) ** q)),
            f"{what} on samples of t**{q}, at the centre t = 0 of the window -{m}..{m}: expected the {d}-th "
            f"derivative {target:g}, got {response:.6g} (the sum of c_j * j**{q})",
        )
    expect_close(got, expected, what=what, rtol=1e-6, atol=1e-6 * scale)


def expect_centred_refused(centred_kernel: Callable[[int, int], Any], d: int, m: int) -> None:
    """``centred_kernel(d, m)`` raises ValueError: too few taps, or a negative d or m."""
    what = f"centred_kernel({d}, {m})"
    if d < 0 or m < 0:
        why = (
            "there is no derivative of negative order" if d < 0 else "m counts taps on each side: it cannot be negative"
        )
    else:
        why = f"a {d}-th derivative needs at least {d + 1} taps, m = {m} gives {2 * m + 1}"
    try:
        K = centred_kernel(d, m)
    except ValueError:
        return
    except Exception as error:
        raise CheckFailed(f"{what} raised {failure(error)}; expected ValueError: {why}") from error
    raise CheckFailed(tagged(f"{what}: expected ValueError ({why}), but it returned {describe(K)}", "too-few-taps"))


def _float32_kernels(derivative_kernel: Callable[[int], Any] | None, *orders: int) -> bool:
    """Whether ``derivative_kernel`` gives float32 tensors for ``orders`` (True without one to ask)."""
    if derivative_kernel is None:
        return True
    try:
        return all(_dtype(derivative_kernel(d)) == torch.float32 for d in orders)
    except Exception:
        return False


def _dtype(K: Any) -> torch.dtype | None:
    return K.dtype if type(K) is torch.Tensor else None


def expect_mixed_shape(
    mixed_partial_kernel: Callable[[int, int], Any],
    a: int,
    b: int,
    derivative_kernel: Callable[[int], Any] | None = None,
) -> None:
    """``mixed_partial_kernel(a, b)`` is a float32 tensor of shape ``(b + 1, a + 1)``.

    One slip, one charge: when ``derivative_kernel`` (the student's, which the
    mixed kernel may be built from) is not float32 itself, test_dtype charges
    that, and the dtype is not judged here.
    """
    dtype_judged = _float32_kernels(derivative_kernel, a, b)
    what = f"mixed_partial_kernel({a}, {b})"
    K = call(what, mixed_partial_kernel, a, b)
    expect(type(K) is torch.Tensor, f"{what}: expected a torch.Tensor, got {describe(K)}")
    shape = tuple(int(n) for n in K.shape)
    expect(
        shape == (b + 1, a + 1),
        f"{what}: expected shape ({b + 1}, {a + 1}) (rows: y, columns: x), got {shape}",
        tag="swapped-axes" if shape == (a + 1, b + 1) else "",
    )
    expect(
        K.dtype == torch.float32 or not dtype_judged,
        f"{what}: expected dtype torch.float32, got {K.dtype}",
        tag="" if K.dtype.is_floating_point else "integer-kernel",
    )


def expect_mixed_values(
    mixed_partial_kernel: Callable[[int, int], Any], a: int, b: int, *, sign_charged: bool = False
) -> None:
    """``mixed_partial_kernel(a, b)``, its entries read as a ``(b + 1, a + 1)`` kernel, gives a! b! on x**a y**b and
    0 on every other monomial of total degree at most a + b (cross-correlated with ``F.conv2d``).

    ``sign_charged``: the student's derivative_kernel follows the convolution convention, which
    test_first_differences charges; a mixed kernel built from it, (-1)**(a + b) times the right one,
    is then accepted here.
    """
    y, x = torch.meshgrid(
        torch.arange(b + 4, dtype=torch.float64), torch.arange(a + 4, dtype=torch.float64), indexing="ij"
    )
    monomials = [(i, j) for i in range(a + b + 1) for j in range(a + b + 1 - i)]
    images = {(i, j): (x**i * y**j)[None, None] for i, j in monomials}
    what = f"mixed_partial_kernel({a}, {b})"
    K = call(what, mixed_partial_kernel, a, b)
    _, values = plain(K, what=what)
    expect(len(values) == (a + 1) * (b + 1), f"{what}: expected {(a + 1) * (b + 1)} entries, got {len(values)}")
    weight = torch.tensor(values, dtype=torch.float64).reshape(1, 1, b + 1, a + 1)
    targets = {(i, j): float(math.factorial(a) * math.factorial(b)) if (i, j) == (a, b) else 0.0 for i, j in monomials}

    def right(w: torch.Tensor) -> bool:
        return all(
            _close(F.conv2d(images[m], w)[0, 0], torch.full((1,), targets[m], dtype=torch.float64), 1e-6)
            for m in monomials
        )

    if sign_charged and (a + b) % 2 and not right(weight) and right(-weight):
        return  # built from 1-D kernels of the convolution convention: (-1)**(a + b) = -1 times the right one
    for i, j in monomials:
        out = F.conv2d(images[i, j], weight)[0, 0]
        target = targets[i, j]
        swapped = a != b and (i, j) == (b, a)
        expect(
            _close(out, torch.full_like(out, target), 1e-6 * max(1.0, abs(target))),
            f"{what} on samples of x**{i} * y**{j} (x along the columns, y along the rows): expected {target:g} "
            f"everywhere, got {_fmt(out.reshape(-1).tolist()[:6])}"
            + ("; x and y are swapped: the rows of the kernel are y" if swapped else ""),
            tag="swapped-axes" if swapped else "",
        )
