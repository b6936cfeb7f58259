"""Snapshot and restore the modules that hidden tests rely on.

Student code runs in the same interpreter as the hidden tests. Before every
test cell the executor calls :meth:`ModuleGuard.restore`, which puts back every
attribute of the guarded modules (``torch``, ``torch.nn.functional``,
``numpy``, ``math``, ``builtins``, ``autograder.*``, the tensor classes, ...)
as it was when the worker started, and the code objects of the grader's own
functions. A student who patches ``torch.allclose`` or
``autograder.checks.expect_close`` in an answer cell is undone before the
tests look.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

GUARDED_MODULES = (
    "builtins",
    "math",
    "operator",
    "functools",
    "itertools",
    "numpy",
    "numpy.testing",
    "torch",
    "torch.nn",
    "torch.nn.functional",
    "torch.nn.modules.module",
    "torch.nn.parameter",
    "torch.testing",
    "torch.autograd",
    "torch.linalg",
    "torch.utils._python_dispatch",
    "autograder",
    "autograder.checks",
)
GUARDED_CLASSES = ("torch.Tensor", "torch._C.TensorBase", "torch.nn.Module", "torch.nn.Parameter")


def _resolve(dotted: str) -> Any:
    module_name, _, attr = dotted.rpartition(".")
    return getattr(importlib.import_module(module_name), attr)


class ModuleGuard:
    """Remembers module and class namespaces; :meth:`restore` puts them back."""

    def __init__(self) -> None:
        self._modules: dict[str, tuple[types.ModuleType, dict[str, Any]]] = {}
        self._classes: list[tuple[type, dict[str, Any]]] = []
        self._code: list[tuple[types.FunctionType, types.CodeType, Any, Any]] = []
        for name in GUARDED_MODULES:
            try:
                module = importlib.import_module(name)
            except ImportError:
                continue
            self._modules[name] = (module, dict(vars(module)))
        for dotted in GUARDED_CLASSES:
            cls = _resolve(dotted)
            self._classes.append((cls, dict(vars(cls))))
        for name, (_module, namespace) in self._modules.items():
            if not name.startswith("autograder"):
                continue
            for value in namespace.values():
                if isinstance(value, types.FunctionType):
                    self._code.append((value, value.__code__, value.__defaults__, value.__kwdefaults__))

    def restore(self) -> None:
        """Undo every change made to the guarded namespaces since the snapshot."""
        for name, (module, saved) in self._modules.items():
            if sys.modules.get(name) is not module:
                sys.modules[name] = module
            current = vars(module)
            for key in [k for k in current if k not in saved]:
                del current[key]
            for key, value in saved.items():
                if current.get(key, _MISSING) is not value:
                    current[key] = value
        for cls, saved in self._classes:
            current = vars(cls)
            for key in [k for k in current if k not in saved]:
                try:
                    delattr(cls, key)
                except (AttributeError, TypeError):
                    pass
            for key, value in saved.items():
                if current.get(key, _MISSING) is not value:
                    try:
                        setattr(cls, key, value)
                    except (AttributeError, TypeError):
                        pass
        for function, code, defaults, kwdefaults in self._code:
            if function.__code__ is not code:
                function.__code__ = code
            function.__defaults__ = defaults
            function.__kwdefaults__ = kwdefaults


_MISSING = object()
