"""What the trusted test process makes of the student process's account: claims, never facts.

Everything decoded from a student process's reply was chosen by the student's
code, which may have seen hidden inputs. This module is the one place where the
test process decides what of it may be kept:

* :func:`withhold` replaces, while a hidden part of a test runs, every string of
  a reply by text the test side wrote: the trusted copy of a word of a fixed
  vocabulary (parameter names, padding modes, PyTorch's own operator and type
  names), else a numbered placeholder (``<text 1 of your code>``). A choice
  among fixed words carries a few bits, as a number does; free text carries none.
* :func:`checked_helper_result` holds the reply of each helper of
  :mod:`autograder.course` to the type and size that helper promises (booleans,
  counts, names of a fixed list, tensors by value), whatever the world it ran in.

Nothing here runs in the student's process.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import torch

from ..wire import RemoteError

__all__ = ["PLACEHOLDER", "ClaimRefused", "checked_helper_result", "known_text", "withhold"]

PLACEHOLDER = "<text {n} of your code>"
MAX_NAMES = 1000  # parameter names, operators: more is not a claim a helper makes

# words a test may need to read back from a student's object, each written here once
_WORDS = frozenset(
    {
        "weight",
        "bias",
        "valid",
        "same",
        "zeros",
        "reflect",
        "replicate",
        "circular",
        "object",
    }
)
# only these packages' types are named back (they are the tests' own: never imported on request)
_TYPE_ROOTS = ("builtins.", "torch.")


class ClaimRefused(TypeError):
    """A helper's reply is not of the type and size that helper promises."""


@lru_cache(maxsize=1)
def _operators() -> dict[str, str]:
    """PyTorch's aten operator names (overload packets), each mapped to itself: a fixed list of the test side."""
    names: dict[str, str] = {}
    for qualified in torch._C._dispatch_get_all_op_names():
        namespace, _, rest = qualified.partition("::")
        if namespace == "aten":
            name = rest.split(".", 1)[0]
            names.setdefault(name, name)
    return names


def _type_name(text: str) -> str | None:
    """``text`` when it names a type of builtins or torch already loaded here (no import is ever made)."""
    if not text.startswith(_TYPE_ROOTS) or len(text) > 200:
        return None
    module_name, _, qualname = text.rpartition(".")
    found: Any = None
    while module_name:  # "torch.nn.modules.linear.Linear": module "torch.nn.modules.linear", name "Linear"
        module = sys.modules.get(module_name)
        if module is not None:
            found = module
            for part in qualname.split("."):
                found = getattr(found, part, None) if found is not None else None
            break
        module_name, _, head = module_name.rpartition(".")
        qualname = f"{head}.{qualname}"
    if isinstance(found, type) and f"{found.__module__}.{found.__qualname__}" == text:
        return f"{found.__module__}.{found.__qualname__}"  # the test side's own string
    return None


def known_text(text: str) -> str | None:
    """The test side's own copy of ``text`` when it is a word of the fixed vocabulary, else None."""
    if text in _WORDS:
        return next(word for word in _WORDS if word == text)
    operator = _operators().get(text)
    if operator is not None:
        return operator
    return _type_name(text)


class _Placeholders:
    """Numbered placeholders, one per distinct unknown string of one reply."""

    def __init__(self) -> None:
        self._seen: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        known = known_text(text)
        if known is not None:
            return known
        if text not in self._seen:
            self._seen[text] = PLACEHOLDER.format(n=len(self._seen) + 1)
        return self._seen[text]


def withhold(value: Any, *, _names: _Placeholders | None = None, _depth: int = 0) -> Any:
    """``value`` with every string (dict keys too, and any error text) replaced by test-written text.

    Tensors, numbers, booleans, dtypes and handles are kept as they are.
    """
    names = _names if _names is not None else _Placeholders()
    if isinstance(value, str):
        return names(value)
    if _depth > 64:
        return value
    if type(value) is list:
        return [withhold(v, _names=names, _depth=_depth + 1) for v in value]
    if type(value) is tuple:
        return tuple(withhold(v, _names=names, _depth=_depth + 1) for v in value)
    if type(value) is dict:
        return {
            (names(k) if isinstance(k, str) else k): withhold(v, _names=names, _depth=_depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, RemoteError):
        return RemoteError("Exception", "", ())
    return value


# --- what each helper of autograder.course promises to return ---------------------------------


def _names_list(value: Any, what: str) -> list[str]:
    if type(value) is not list or len(value) > 100_000 or not all(type(v) is str and len(v) <= 200 for v in value):
        raise ClaimRefused(f"{what}: expected a list of names")
    return value


def _tensor_dict(value: Any, what: str) -> dict[str, torch.Tensor]:
    if type(value) is not dict or len(value) > MAX_NAMES:
        raise ClaimRefused(f"{what}: expected a dict of tensors")
    for key, item in value.items():
        if type(key) is not str or len(key) > 200 or type(item) not in (torch.Tensor, torch.nn.Parameter):
            raise ClaimRefused(f"{what}: expected a dict of tensors")
    return value


def _pair(value: Any, what: str) -> tuple[Any, Any]:
    if type(value) not in (tuple, list) or len(value) != 2:
        raise ClaimRefused(f"{what}: expected a pair")
    return value[0], value[1]


def _record_ops(value: Any) -> Any:
    result, ops = _pair(value, "record_ops")
    return result, _names_list(ops, "record_ops")


def _autograd_ops(value: Any) -> Any:
    result, nodes = _pair(value, "autograd_ops")
    return result, _names_list(nodes, "autograd_ops")


def _bool(name: str) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        if type(value) is not bool:
            raise ClaimRefused(f"{name}: expected True or False")
        return value

    return check


def _none(value: Any) -> None:
    if value is not None:
        raise ClaimRefused("set_parameter: expected no result")


def _type_name_result(value: Any) -> str:
    if type(value) is not str or len(value) > 200:
        raise ClaimRefused("type_name: expected a type's name")
    return value


def _shared(value: Any) -> list[str]:
    names = _names_list(value, "shared_parameters")
    if len(names) > MAX_NAMES:
        raise ClaimRefused("shared_parameters: expected a list of parameter names")
    return names


def _call_with_inputs(value: Any) -> Any:
    result, args = _pair(value, "call_with_inputs")
    if type(args) is not list:
        raise ClaimRefused("call_with_inputs: expected the list of the arguments")
    return result, args


def _record_constructions(value: Any) -> Any:
    result, built = _pair(value, "record_constructions")
    if type(built) is not list or len(built) > MAX_NAMES:
        raise ClaimRefused("record_constructions: expected a list of (module, parameters)")
    checked = []
    for item in built:
        module, start = _pair(item, "record_constructions")
        checked.append((module, _tensor_dict(start, "record_constructions")))
    return result, checked


_RESULTS: dict[str, Callable[[Any], Any]] = {
    "record_ops": _record_ops,
    "autograd_ops": _autograd_ops,
    "set_parameter": _none,
    "parameters": lambda value: _tensor_dict(value, "parameters"),
    "shared_parameters": _shared,
    "type_name": _type_name_result,
    "is_instance": _bool("is_instance"),
    "call_seeded": lambda value: value,  # the student's own result, checked by the test as any result
    "call_with_inputs": _call_with_inputs,
    "record_constructions": _record_constructions,
}


def checked_helper_result(name: str, value: Any) -> Any:
    """``value``, the reply of the helper ``name`` run in the student process, held to what it promises.

    Raises:
        ClaimRefused: the reply is not of the promised type and size, or ``name`` is no known helper.
    """
    check = _RESULTS.get(name)
    if check is None:
        raise ClaimRefused(f"no helper {name!r}")
    return check(value)
