"""Comparison helpers that the hidden tests of the exercises call.

A student's code runs in the same interpreter as the tests, so it could patch
``torch.allclose``, return a tensor subclass whose ``__eq__`` always says yes,
or replace builtins. These helpers therefore

* capture every function they use when this module is imported (the grader
  imports it before any student code runs, and restores this module and the
  libraries the tests rely on before every test cell),
* accept only plain ``torch.Tensor`` (or ``nn.Parameter``) objects, never a
  subclass, and
* compare plain Python numbers, never tensors.

Every failure raises :class:`CheckFailed` (an ``AssertionError``) whose message
says what was expected and what came back, in words a student can act on.
"""

from __future__ import annotations

import builtins
import math
import sys
import types
from collections.abc import Sequence

import torch

__all__ = [
    "CheckFailed",
    "expect",
    "expect_tensor",
    "expect_shape",
    "expect_dtype",
    "expect_close",
    "expect_not_close",
    "plain",
    "max_abs_diff",
    "tagged",
    "tolerance_for",
    "type_label",
]

# Captured at import: student code cannot change what these names point to.
_type = builtins.type
_isinstance = builtins.isinstance
_len = builtins.len
_abs = builtins.abs
_float = builtins.float
_tuple = builtins.tuple
_list = builtins.list
_zip = builtins.zip
_range = builtins.range
_max = builtins.max
_str = builtins.str
_isclose = math.isclose
_isfinite = math.isfinite
_Tensor = torch.Tensor
_Parameter = torch.nn.Parameter
_tolist = torch.Tensor.tolist
_detach = torch.Tensor.detach
_size = torch.Tensor.size
_dtype_of = torch.Tensor.dtype.__get__
_is_complex = torch.Tensor.is_complex
_to = torch.Tensor.to
_float64 = torch.float64

_PLAIN_TYPES = (_Tensor, _Parameter)


class CheckFailed(AssertionError):
    """A hidden or visible test found a wrong answer; the message says why."""


def tagged(message: str, tag: str) -> str:
    """``message`` marked with a misconception tag, e.g. ``[misconception: flipped-kernel]``.

    The grader copies the tags of a failing cell's message into ``cells.csv``
    so that a class report can count them; tags are lower-case words joined by
    hyphens.
    """
    return f"{message} [misconception: {tag}]" if tag else message


def tolerance_for(x: object) -> tuple[float, float]:
    """``(rtol, atol)`` fit for comparing values computed in ``x``'s dtype.

    float64: (1e-9, 1e-9); float32: (1e-4, 1e-5); float16 and bfloat16: (1e-2, 1e-2).
    """
    expect_tensor(x, what="tolerance_for")
    dtype = _dtype_of(x)
    if dtype is _float64:
        return 1e-9, 1e-9
    if dtype is torch.float32:
        return 1e-4, 1e-5
    return 1e-2, 1e-2


def expect(condition: object, message: str, *, tag: str = "") -> None:
    """Raise :class:`CheckFailed` with ``message`` unless ``condition`` is true.

    ``condition`` must be a real ``bool`` (not an object with its own truth);
    ``tag`` names the misconception this failure reveals (see :func:`tagged`).
    """
    if _type(condition) is not bool:
        raise CheckFailed(tagged(f"{message} (the check got a {_type(condition).__name__}, not True/False)", tag))
    if not condition:
        raise CheckFailed(tagged(message, tag))


def type_label(x: object) -> str:
    """The name of ``x``'s type; for an object of the student process, the name of its real type."""
    label = getattr(_type(x), "remote_type_label", None)
    return label(x) if callable(label) else _type(x).__name__


def expect_tensor(x: object, *, what: str) -> None:
    """Fail unless ``x`` is a plain ``torch.Tensor`` (a subclass is refused)."""
    if _type(x) not in _PLAIN_TYPES:
        raise CheckFailed(f"{what}: expected a torch.Tensor, got {type_label(x)}")


def _shape(x: _Tensor) -> tuple[int, ...]:
    return _tuple(int(n) for n in _size(x))


def expect_shape(x: object, shape: Sequence[int], *, what: str) -> None:
    """Fail unless ``x`` is a plain tensor of exactly ``shape``."""
    expect_tensor(x, what=what)
    got = _shape(x)  # type: ignore[arg-type]
    want = _tuple(int(n) for n in shape)
    if got != want:
        raise CheckFailed(f"{what}: expected shape {want}, got {got}")


def expect_dtype(x: object, dtype: torch.dtype, *, what: str) -> None:
    """Fail unless ``x`` is a plain tensor of ``dtype``."""
    expect_tensor(x, what=what)
    got = _dtype_of(x)
    if got is not dtype:
        raise CheckFailed(f"{what}: expected dtype {dtype}, got {got}")


def _flatten(values: object) -> list[float]:
    out: list[float] = []
    stack = [values]
    while stack:
        item = stack.pop()
        if _isinstance(item, _list):
            stack.extend(reversed(item))
        else:
            out.append(_float(item))
    return out


def plain(x: object, *, what: str) -> tuple[tuple[int, ...], list[float]]:
    """Return ``(shape, values)`` of a plain tensor as Python ints and floats.

    Values are flattened in row-major order. Complex tensors are refused.
    """
    expect_tensor(x, what=what)
    if _is_complex(x):
        raise CheckFailed(f"{what}: expected a real tensor, got a complex one")
    shape = _shape(x)  # type: ignore[arg-type]
    values = _tolist(_to(_detach(x), _float64))
    if _len(shape) == 0:
        return shape, [_float(values)]
    return shape, _flatten(values)


def max_abs_diff(a: Sequence[float], b: Sequence[float]) -> float:
    """Largest absolute difference of two equally long lists of floats."""
    worst = 0.0
    for u, v in _zip(a, b):
        if not (_isfinite(u) and _isfinite(v)):
            return math.inf if u != v else worst
        worst = _max(worst, _abs(u - v))
    return worst


def _close_lists(a: list[float], b: list[float], rtol: float, atol: float) -> bool:
    if _len(a) != _len(b):
        return False
    for u, v in _zip(a, b):
        if not _isclose(u, v, rel_tol=rtol, abs_tol=atol):
            return False
    return True


def expect_close(
    actual: object,
    expected: object,
    *,
    what: str,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    hint: str = "",
    tag: str = "",
) -> None:
    """Fail unless ``actual`` has ``expected``'s shape and values (within tolerance).

    ``expected`` is a plain tensor computed by the test (for example with
    ``torch.nn.functional.conv2d``); ``actual`` comes from the student's code.
    ``hint`` is appended to the message when the values differ.
    """
    exp_shape, exp_values = plain(expected, what=f"{what} (reference)")
    expect_shape(actual, exp_shape, what=what)
    _, act_values = plain(actual, what=what)
    if not _close_lists(act_values, exp_values, rtol, atol):
        worst = max_abs_diff(act_values, exp_values)
        message = f"{what}: values differ from the expected result (largest difference {worst:.3g})"
        if _len(exp_values) <= 16:
            message += f"; expected {_fmt(exp_values)}, got {_fmt(act_values)}"
        if hint:
            message += f"; {hint}"
        raise CheckFailed(tagged(message, tag))


def expect_not_close(
    actual: object,
    other: object,
    *,
    what: str,
    message: str,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    tag: str = "",
) -> None:
    """Fail with ``message`` if ``actual`` equals ``other`` (same shape, close values).

    Used to recognise a specific wrong answer, for example a flipped kernel.
    """
    other_shape, other_values = plain(other, what=f"{what} (reference)")
    expect_tensor(actual, what=what)
    if _shape(actual) != other_shape:  # type: ignore[arg-type]
        return  # not even the same shape (and a huge tensor is never turned into a list)
    _, act_values = plain(actual, what=what)
    if _close_lists(act_values, other_values, rtol, atol):
        raise CheckFailed(tagged(f"{what}: {message}", tag))


def _fmt(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:.4g}" for v in values) + "]"


class _SealedModule(types.ModuleType):
    """This module, read-only: ``checks.expect_close = ...`` raises, and the
    public names always resolve to the functions defined above."""

    def __getattribute__(self, name: str) -> object:
        if name in _PUBLIC:
            return _PUBLIC[name]
        return super().__getattribute__(name)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"autograder.checks is read-only (cannot set {name!r})")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"autograder.checks is read-only (cannot delete {name!r})")


_PUBLIC = {name: globals()[name] for name in __all__}
sys.modules[__name__].__class__ = _SealedModule
