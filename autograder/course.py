"""Helpers that test cells use to look inside a student's objects, in both worlds.

In a student's Jupyter the test cells hold the student's real functions and
modules, and these helpers act on them directly. When a notebook is graded,
the test cells run in a trusted process and every name the student defined is
a proxy for an object that lives in the sandboxed student process: a helper
called with a proxy runs, under the same name, *in the student process*, and
only its plain-data result comes back (tensors by value, numbers, strings,
lists, tuples and dicts of them, or handles for other objects).

So a test never needs to know which world it is in::

    Y, ops = record_ops(corr2d, X, K)          # which aten operators ran
    set_parameter(net, "weight", K)            # net.weight <- K, without autograd
    net, built = record_constructions(Conv2D, train_conv2d, X, Y, (1, 2), 1e-2, 3)

Each helper takes the object to act on as an argument and returns plain data,
so that its result means the same thing in both worlds.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Sequence
from typing import Any

import torch

__all__ = [
    "HELPERS",
    "autograd_ops",
    "call_seeded",
    "call_with_inputs",
    "dispatch_to",
    "is_instance",
    "parameters",
    "record_constructions",
    "record_ops",
    "set_parameter",
    "shared_parameters",
    "type_name",
    "vjp",
]

# Set by the trusted test process: ``dispatch(name, args, kwargs)`` runs the
# helper ``name`` in the student process when an argument is a proxy.
_dispatch: Callable[[str, tuple, dict], Any] | None = None
_is_proxy: Callable[[Any], bool] = lambda value: False  # noqa: E731

HELPERS: dict[str, Callable[..., Any]] = {}


def dispatch_to(dispatch: Callable[[str, tuple, dict], Any], is_proxy: Callable[[Any], bool]) -> None:
    """Route helper calls that involve proxies through ``dispatch`` (the grader calls this)."""
    global _dispatch, _is_proxy
    _dispatch, _is_proxy = dispatch, is_proxy


def _involves_proxy(value: Any, depth: int = 0) -> bool:
    if _is_proxy(value):
        return True
    if depth < 4 and isinstance(value, (list, tuple)):
        return any(_involves_proxy(v, depth + 1) for v in value)
    if depth < 4 and isinstance(value, dict):
        return any(_involves_proxy(v, depth + 1) for v in value.values())
    return False


def _both_worlds(function: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``function`` here, or in the student process when an argument is a proxy."""
    HELPERS[function.__name__] = function

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _dispatch is not None and (_involves_proxy(args) or _involves_proxy(kwargs)):
            return _dispatch(function.__name__, args, kwargs)
        return function(*args, **kwargs)

    return wrapper


@_both_worlds
def record_ops(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, list[str]]:
    """Call ``fn(*args, **kwargs)``; return its result and the aten operators it ran.

    The names are PyTorch's operator names without overload, in the order they
    ran (``["unfold", "mm", "view"]``); a built-in convolution shows up as a name
    containing ``conv``, a matrix product as ``mm``, ``matmul``, ``bmm``, ...
    """
    from torch.utils._python_dispatch import TorchDispatchMode

    seen: list[str] = []

    class _Watch(TorchDispatchMode):
        @classmethod
        def _should_skip_dynamo(cls) -> bool:
            # PyTorch's switch for mode authors: without it the first call of the mode imports torch._dynamo
            # (about a second, in every process that records), to guard against a torch.compile that never runs here
            return False

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
            seen.append(func.overloadpacket.__name__)
            return func(*args, **(kwargs or {}))

    with _Watch():
        result = fn(*args, **kwargs)
    return result, seen


@_both_worlds
def autograd_ops(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, list[str]]:
    """Call ``fn``; return its result and the autograd nodes behind it (``["MulBackward0", ...]``).

    Pass inputs that require grad; the names come from walking the result's
    ``grad_fn`` graph (empty when the result does not require grad).
    """
    result = fn(*args, **kwargs)
    names: list[str] = []
    if isinstance(result, torch.Tensor) and result.grad_fn is not None:
        pending, visited = [result.grad_fn], set()
        while pending:
            node = pending.pop()
            if node is None or id(node) in visited:
                continue
            visited.add(id(node))
            names.append(type(node).__name__)
            pending.extend(next_node for next_node, _ in node.next_functions)
    return result, names


@_both_worlds
def set_parameter(module: torch.nn.Module, name: str, value: torch.Tensor) -> None:
    """Copy ``value`` into the parameter (or buffer) ``name`` of ``module``, outside autograd.

    Raises:
        AttributeError: ``module`` has no attribute ``name``.
        RuntimeError: the shapes cannot be broadcast.
    """
    target = getattr(module, name)
    with torch.no_grad():
        target.copy_(value)


@_both_worlds
def parameters(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """``module.named_parameters()`` as a dict of detached copies."""
    return {name: p.detach().clone() for name, p in module.named_parameters()}


@_both_worlds
def shared_parameters(convert: Callable[..., Any], module: torch.nn.Module, *args: Any) -> list[str]:
    """Call ``convert(module, *args)``; the names of the result's parameters that share memory with ``module``'s.

    When a notebook is graded, this runs where the student's ``convert`` does
    (``module``, a plain torch module, is sent there by value), the only place
    where shared memory can be seen.
    """
    result = convert(module, *args)
    if not isinstance(result, torch.nn.Module):
        return []
    mine = {p.untyped_storage().data_ptr() for p in module.parameters()}
    return [name for name, p in result.named_parameters() if p.untyped_storage().data_ptr() in mine]


@_both_worlds
def type_name(value: Any) -> str:
    """The qualified name of ``value``'s type, e.g. ``"torch.nn.modules.conv.Conv2d"``."""
    cls = type(value)
    return f"{cls.__module__}.{cls.__qualname__}"


@_both_worlds
def is_instance(value: Any, type_path: str) -> bool:
    """``isinstance(value, T)`` for ``T`` named by its import path, e.g. ``"torch.nn.Module"``."""
    import importlib

    module_name, _, attr = type_path.rpartition(".")
    cls = getattr(importlib.import_module(module_name), attr)
    return isinstance(value, cls)


def vjp(
    outputs: torch.Tensor | Sequence[torch.Tensor],
    inputs: torch.Tensor | Sequence[torch.Tensor],
    grads: torch.Tensor | Sequence[torch.Tensor],
    *,
    allow_unused: bool = False,
    retain_graph: bool | None = None,
) -> tuple[torch.Tensor | None, ...]:
    """``torch.autograd.grad(outputs, inputs, grads)``, as the gradient of ``sum((output * grad).sum())``.

    The same gradients: the gradient of ``sum(Y * G)`` with respect to ``Y`` is
    ``G`` times one, exactly, and flows back through the same graph. But
    ``torch.autograd.grad`` given ``grads`` imports torch's symbolic shapes
    (and sympy) to compare their shapes: 0.3 s in the zygote's start-up and
    34 MB in every process forked from it. Here the shapes are compared as
    torch compares them, with its message.
    """
    outputs = [outputs] if isinstance(outputs, torch.Tensor) else list(outputs)
    grads = [grads] if isinstance(grads, torch.Tensor) else list(grads)
    if len(outputs) != len(grads):
        raise RuntimeError(
            f"grad can be implicitly created only for given outputs: {len(grads)} grads for {len(outputs)}"
        )
    for i, (output, grad) in enumerate(zip(outputs, grads, strict=True)):
        if output.shape != grad.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {grad.shape} and output[{i}] has a shape of "
                f"{output.shape}."
            )
    total = functools.reduce(operator.add, [(output * grad).sum() for output, grad in zip(outputs, grads, strict=True)])
    return torch.autograd.grad(total, inputs, allow_unused=allow_unused, retain_graph=retain_graph)


def manual_seed(seed: int) -> None:
    """``torch.manual_seed(seed)`` for the CPU, the one device here: the same random numbers follow.

    ``torch.manual_seed`` also queues the seeding of CUDA devices for when CUDA
    starts, and formats the caller's stack each time to say where it was asked
    (a millisecond in a deep stack, thousands of times in a class).
    """
    torch.random.default_generator.manual_seed(seed)


@_both_worlds
def call_seeded(seed: int, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``torch.manual_seed(seed)``, then ``fn(*args, **kwargs)``: random initialisation made repeatable."""
    manual_seed(seed)
    return fn(*args, **kwargs)


@_both_worlds
def call_with_inputs(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, list[Any]]:
    """``fn(*args, **kwargs)`` and the arguments it was called with, as they are afterwards.

    When a notebook is graded, a plain torch module passed here is rebuilt in the
    student process; the list hands back that rebuilt module (as a handle), so a
    test can look at the input the student's code really received.
    """
    return fn(*args, **kwargs), list(args)


@_both_worlds
def record_constructions(
    cls: type, fn: Callable[..., Any], *args: Any, **kwargs: Any
) -> tuple[Any, list[tuple[Any, dict[str, torch.Tensor]]]]:
    """Call ``fn``; return its result and every ``cls`` instance built meanwhile.

    Each instance comes with the values its parameters had right after its
    ``__init__`` (detached copies): what training started from.
    """
    built: list[tuple[Any, dict[str, torch.Tensor]]] = []
    original = cls.__init__

    @functools.wraps(original)
    def recording_init(self: Any, *a: Any, **kw: Any) -> None:
        original(self, *a, **kw)
        if type(self) is cls:
            start = {name: p.detach().clone() for name, p in getattr(self, "named_parameters", dict)()}
            built.append((self, start))

    cls.__init__ = recording_init
    try:
        result = fn(*args, **kwargs)
    finally:
        cls.__init__ = original
    return result, built
