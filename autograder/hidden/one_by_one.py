"""Hidden-test helpers of the ``one_by_one`` assignment (import them only from hidden parts of test cells).

The tests build plain ``nn.Linear``, ``nn.Conv2d`` and ``nn.Conv1d`` modules
and pass them to the student's converters. What comes back is read only by
attribute reads, by calling it and through the course helpers
(:func:`~autograder.course.parameters`, :func:`~autograder.course.set_parameter`,
:func:`~autograder.course.type_name`), so that every check means the same in a
student's Jupyter, where it is the real module, and in the grader, where it is
a handle for a module in the student's process.

One slip, one charge: the value checks compare the map a module computes
whatever its parameters' dtype, and a missing or extra bias (charged in the
layout cell) is taken out before comparing; the dtype cells judge dtypes only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from autograder import course
from autograder.checks import CheckFailed, expect, expect_close, expect_not_close, expect_shape, expect_tensor
from autograder.course import parameters, set_parameter, type_name
from autograder.hidden import call, failure  # noqa: F401  (used by the notebooks too)

__all__ = [
    "CONV1D",
    "CONV2D",
    "LINEAR",
    "call",
    "call_with_inputs",
    "converted",
    "describe",
    "failure",
    "expect_dtype_kept",
    "expect_fresh",
    "expect_layout",
    "expect_refused",
    "expect_same_map",
    "student_side",
]

LINEAR = "torch.nn.modules.linear.Linear"
CONV2D = "torch.nn.modules.conv.Conv2d"
CONV1D = "torch.nn.modules.conv.Conv1d"
_SHORT = {LINEAR: "nn.Linear", CONV2D: "nn.Conv2d", CONV1D: "nn.Conv1d"}


def describe(module: Any) -> str:
    """How a module that the test built was made, e.g. ``nn.Linear(3, 5, bias=True, dtype=torch.float32)``.

    Also a tensor (``float32 (2, 3, 4, 4)``); anything else by its type's name.
    """
    if type(module) is torch.Tensor:
        return f"{str(module.dtype).removeprefix('torch.')} {tuple(module.shape)}"
    if type(module) is nn.Linear:
        has_bias = module.bias is not None
        return f"nn.Linear({module.in_features}, {module.out_features}, bias={has_bias}, dtype={module.weight.dtype})"
    if type(module) in (nn.Conv1d, nn.Conv2d):
        ones = (1,) * len(module.kernel_size)
        options = [f"kernel_size={module.kernel_size}"]
        if tuple(module.stride) != ones:
            options.append(f"stride={module.stride}")
        if module.padding not in ("valid", (0,) * len(ones)):
            options.append(f"padding={module.padding!r}")
        if tuple(module.dilation) != ones:
            options.append(f"dilation={module.dilation}")
        if module.groups != 1:
            options.append(f"groups={module.groups}")
        options.append(f"bias={module.bias is not None}")
        options.append(f"dtype={module.weight.dtype}")
        return f"nn.{type(module).__name__}({module.in_channels}, {module.out_channels}, {', '.join(options)})"
    return type_name(module)


def _without_bias(module: Any, params: dict[str, torch.Tensor] | None = None) -> str:
    """``"a Linear without a bias"`` for a module without one, else ``""``.

    A module the test built is read directly; one made in the student's process
    (by another of the student's converters, see :func:`student_side`) by its
    parameters ``params``, already read.
    """
    if type(module) in (nn.Linear, nn.Conv1d, nn.Conv2d):
        kind = type(module).__name__ if module.bias is None else ""
    elif params is not None and "bias" not in params:
        kind = _SHORT.get(type_name(module), "").removeprefix("nn.")
    else:
        kind = ""
    return f"{'an' if kind == 'Linear' else 'a'} {kind} without a bias" if kind else ""


def converted(what: str, converter: Callable[[Any], Any], module: Any, *, charged_here: bool = False) -> Any | None:
    """``converter(module)``; an exception becomes a failure whose message starts with ``what``.

    One slip, one charge: a converter that fails on a module without a bias
    (copying ``bias`` unconditionally) is charged in the layout cell, whose
    requirement a missing bias is about (``charged_here``), and its message says
    so in words. The other cells skip that input: None.
    """
    try:
        return converter(module)
    except Exception as error:
        kind = _without_bias(module)
        if kind and not charged_here:
            return None
        about = f": it fails on {kind} (bias is None), which needs a result without a bias too" if kind else ""
        raise CheckFailed(f"{what} raised {failure(error)}{about}") from error


def _parameters(module: Any, what: str) -> dict[str, torch.Tensor]:
    return call(f"reading the parameters of {what}", parameters, module)


def expect_layout(result: Any, kind: str, in_size: int, out_size: int, has_bias: bool, *, what: str) -> None:
    """``result`` is exactly a ``kind`` module mapping ``in_size`` to ``out_size`` channels, kernel size 1,
    no stride, padding, dilation or groups, with a bias exactly when ``has_bias``."""
    got = type_name(result)
    expect(got == kind, f"{what}: expected an {_SHORT[kind]}, got {got}")
    if kind == LINEAR:
        sizes = (result.in_features, result.out_features)
        expect(
            sizes == (in_size, out_size),
            f"{what}: expected in_features={in_size}, out_features={out_size}, "
            f"got in_features={sizes[0]}, out_features={sizes[1]}",
            tag="swapped-features" if sizes == (out_size, in_size) else "",
        )
        weight_shape: tuple[int, ...] = (out_size, in_size)
    else:
        ones = (1,) * (2 if kind == CONV2D else 1)
        sizes = (result.in_channels, result.out_channels)
        expect(
            sizes == (in_size, out_size),
            f"{what}: expected in_channels={in_size}, out_channels={out_size}, "
            f"got in_channels={sizes[0]}, out_channels={sizes[1]}",
            tag="swapped-features" if sizes == (out_size, in_size) else "",
        )
        kernel_size = tuple(result.kernel_size)
        expect(kernel_size == ones, f"{what}: expected kernel_size {ones}, got {kernel_size}")
        stride, dilation, groups = tuple(result.stride), tuple(result.dilation), result.groups
        expect(
            stride == ones and dilation == ones and groups == 1,
            f"{what}: expected stride {ones}, dilation {ones} and groups 1, "
            f"got stride {stride}, dilation {dilation}, groups {groups}",
        )
        padding = result.padding
        expect(
            padding in ("valid", "same", (0,) * len(ones)),
            f"{what}: expected no padding, got padding {padding!r}",
        )
        weight_shape = (out_size, in_size, *ones)
    params = _parameters(result, what)
    names = sorted(params)
    if has_bias:
        expect(
            "bias" in params,
            f"{what}: the input has a bias, so the result needs one too; its parameters are {names}",
            tag="missing-bias",
        )
    else:
        expect(
            "bias" not in params,
            f"{what}: the input has no bias (bias is None), so the result must have none either "
            "(create it with bias=False)",
            tag="extra-bias",
        )
    want = ["bias", "weight"] if has_bias else ["weight"]
    expect(names == want, f"{what}: expected the registered parameters {want}, got {names}")
    expect_shape(params["weight"], weight_shape, what=f"{what}.weight")
    if has_bias:
        expect_shape(params["bias"], (out_size,), what=f"{what}.bias")


def expect_same_map(result: Any, reference: Any, X: torch.Tensor, *, what: str) -> None:
    """``result`` computes what ``reference`` (the module the test converted) computes on every
    pixel's (or time step's) channel vector.

    ``reference`` is an ``nn.Linear``: then ``result`` (a convolution) is called on the
    image or sequence batch ``X``. Or ``reference`` is a 1 x 1 ``nn.Conv2d``: then
    ``result`` (a Linear) is called on the channel vectors ``X.permute(0, 2, 3, 1)``.
    An output with the right number of elements is compared after a reshape, and a
    missing or extra bias is taken out first: the layout cell charges those, this
    one the values.
    """
    with torch.no_grad():
        # everything is compared with the channel vectors last: (n, h, w, c) or (n, length, c)
        last = X.permute(0, 2, 3, 1) if X.dim() == 4 else X.transpose(1, 2)
        if type(reference) is nn.Linear:
            weight = reference.weight.detach()
            expected = reference(last)
            given, given_name = X, f"X {describe(X)}"
            own_shape = _channels_first(expected).shape  # the convolution's output, channels first
        else:
            weight = reference.weight.detach().reshape(reference.out_channels, reference.in_channels)
            expected = reference(X).permute(0, 2, 3, 1)
            given, given_name = last, f"X.permute(0, 2, 3, 1) {describe(last)} (the channel vectors of X)"
            own_shape = expected.shape
        bias = None if reference.bias is None else reference.bias.detach().to(torch.float64)
        expected = expected.to(torch.float64)
        where = f"{what} called on {given_name}"
        got = call(where, result, given)
        expect_tensor(got, what=where)
        expect(
            got.numel() == expected.numel(),
            f"{where}: expected an output of shape {tuple(own_shape)}, got {tuple(got.shape)}",
        )
        got = got.detach().to(torch.float64).reshape(own_shape)
        if given is X:
            got = _channels_last(got)
        try:
            own_bias = parameters(result).get("bias")
        except Exception:
            own_bias = None
        if bias is not None and own_bias is None:
            expected = expected - bias  # a missing bias is charged in the layout cell
        elif bias is None and own_bias is not None and own_bias.numel() == weight.shape[0]:
            got = got - own_bias.detach().to(torch.float64).reshape(-1)  # an extra bias: likewise
        c_out, c_in = weight.shape
        if c_out > 1 and c_in > 1:
            # two ways of transposing the weight: (c_in, c_out) read as (c_out, c_in), and back
            for scrambled in (weight.T.reshape(c_out, c_in), weight.reshape(c_in, c_out).T):
                wrong = last.to(torch.float64) @ scrambled.to(torch.float64).T
                if bias is not None and own_bias is not None:
                    wrong = wrong + bias
                expect_not_close(
                    got,
                    wrong,
                    what=where,
                    message="the values are those of a transposed weight: a Linear's weight (c_out, c_in) is "
                    "already laid out like the convolution's (c_out, c_in, 1, ...): reshape it, do not transpose it",
                    rtol=1e-5,
                    atol=1e-5,
                    tag="transposed-weight",
                )
        expect_close(
            got,
            expected,
            what=f"{where}, compared with {describe(reference)} on every channel vector",
            rtol=1e-5,
            atol=1e-5,
            hint="copy the weight (reshaped, not transposed) and the bias",
        )


def _channels_first(t: torch.Tensor) -> torch.Tensor:
    return t.permute(0, 3, 1, 2) if t.dim() == 4 else t.transpose(1, 2)


def _channels_last(t: torch.Tensor) -> torch.Tensor:
    return t.permute(0, 2, 3, 1) if t.dim() == 4 else t.transpose(1, 2)


def student_side(make: Callable[[Any], Any], source: Any, kind: str, has_bias: bool) -> Any | None:
    """``make(source)`` when it gives exactly a ``kind`` module with the parameters it should have, else None.

    ``make`` is one of the student's other converters: when a notebook is graded,
    the module it returns lives in the student's process, where a parameter shared
    between a converter's input and its result can be seen; a module the test
    built is sent there by value. None when that converter does not work: the
    test then checks the module it built (which, when graded, cannot show sharing).
    """
    try:
        module = make(source)
        if type_name(module) != kind:
            return None
        if kind != LINEAR:
            ones = (1,) * len(module.kernel_size)
            plain = (tuple(module.kernel_size), tuple(module.stride), module.groups) == (ones, ones, 1)
            if not plain or module.padding not in ("valid", "same", (0,) * len(ones)):
                return None
        names = sorted(parameters(module))
    except Exception:
        return None
    return module if names == (["bias", "weight"] if has_bias else ["weight"]) else None


def call_with_inputs(what: str, fn: Callable[..., Any], *args: Any) -> tuple[Any, list[Any]]:
    """``fn(*args)`` and the arguments as ``fn`` received them.

    When graded, a module that the test built reaches the student's function as
    a copy rebuilt in the student process; sharing between that copy and the
    result can only be seen there. ``autograder.course.call_with_inputs``, where
    the grader provides it, hands back that copy (as a handle). Without it the
    test's own modules are returned: sharing is then seen in one process only
    (a student's Jupyter, a grader without the sandbox).
    """
    helper = getattr(course, "call_with_inputs", None)
    try:
        if callable(helper):
            result, seen = helper(fn, *args)
            return result, list(seen)
        return fn(*args), list(args)
    except Exception as error:
        raise CheckFailed(f"{what} raised {failure(error)}") from error


def _same(now: dict[str, torch.Tensor], before: dict[str, torch.Tensor], *, what: str, hint: str, tag: str) -> None:
    """Every parameter in ``before`` is still there in ``now``, with the same shape and values."""
    for name, value in before.items():
        got = now.get(name)
        expect(got is not None, f"{what}: the parameter {name!r} is gone; {hint}", tag=tag)
        expect_tensor(got, what=f"{what}: {name}")
        expect(
            tuple(got.shape) == tuple(value.shape),
            f"{what}: its {name} has shape {tuple(got.shape)}, it had {tuple(value.shape)}; {hint}",
            tag=tag,
        )
        expect_close(got, value, what=f"{what}: its {name}", rtol=0, atol=0, hint=hint, tag=tag)


def expect_fresh(convert: Callable[[Any], Any], original: Any, *, what: str) -> None:
    """``convert(original)`` leaves ``original`` unchanged, and so does changing every parameter of its result."""
    before = _parameters(original, "the input")
    try:
        result, (seen,) = call_with_inputs(what, convert, original)
    except CheckFailed:
        if _without_bias(original, before):
            return  # fails on a module without a bias: the layout cell charges it
        raise
    _same(
        _parameters(seen, "the input"),
        before,
        what=f"the input of {what}, after the call",
        hint="the conversion must not modify its input",
        tag="modifies-input",
    )
    for name, value in _parameters(result, what).items():
        call(f"set_parameter(<the result of {what}>, {name!r}, ...)", set_parameter, result, name, value + 1.0)
    _same(
        _parameters(seen, "the input"),
        before,
        what=f"the input of {what}, after adding 1 to every parameter of the result",
        hint="the result shares the input's tensors: copy the values into the new module's own parameters "
        "(copy_ under torch.no_grad(), or nn.Parameter(t.detach().clone()))",
        tag="shared-parameters",
    )


def expect_dtype_kept(convert: Callable[[Any], Any], original: Any, X: torch.Tensor, *, what: str) -> None:
    """The parameters of ``convert(original)`` have ``original``'s dtype, and so has its output on ``X``."""
    dtype = original.weight.dtype
    result = converted(what, convert, original)
    if result is None:
        return  # fails on a module without a bias: the layout cell charges it
    for name, value in _parameters(result, what).items():
        expect_tensor(value, what=f"{what}.{name}")
        expect(
            value.dtype == dtype,
            f"{what}.{name}: expected dtype {dtype} (the dtype of the input's parameters), got {value.dtype}; "
            "create the new module with dtype=... (nn.Conv2d(..., dtype=linear.weight.dtype)): "
            "copy_ into a float32 parameter rounds the values",
            tag="dtype-not-kept",
        )
    where = f"{what} called on X {describe(X)}"
    got = call(where, result, X)
    expect_tensor(got, what=where)
    expect(got.dtype == dtype, f"{where}: expected an output of dtype {dtype}, got {got.dtype}", tag="dtype-not-kept")


def expect_refused(convert: Callable[[Any], Any], module: Any, *, name: str, why: str, tag: str) -> None:
    """``convert(module)`` raises ValueError; ``name`` is the converter's name, for the message."""
    what = f"{name}({describe(module)})"
    try:
        result = convert(module)
    except ValueError:
        return
    except Exception as error:
        raise CheckFailed(
            f"{what} raised {failure(error)}; expected ValueError: {why} "
            "(check the module first and raise ValueError(...) yourself)"
        ) from error
    expect(False, f"{what}: expected ValueError ({why}), but it returned {type_name(result)}", tag=tag)
