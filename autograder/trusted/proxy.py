"""The trusted side of the boundary: proxies for the names a student defined.

In a test cell, ``corr2d`` is a :class:`RemoteName`: calling it sends the
arguments as plain data to the student process and returns the result as
plain data (tensors by value) or as a :class:`RemoteObject` handle. Autograd
crosses the boundary: when an argument requires grad, the result is tied to
it by :class:`_Bridge`, whose backward asks the student process for the
gradients of the same call. Exceptions raised by the student's code come
back as the builtin exception type they were, with a message that names the
call, its inputs and the student's own frames.

Arguments cross as copies, and nothing a reply holds is ever written into an
object of the test process: a test that must know whether an input was
changed in place asks for the input's after-state as separate data
(:func:`autograder.course.call_with_inputs`). While a hidden part of a test
runs, no string of a reply is kept (:mod:`autograder.trusted.claims`).

Nothing here evaluates what the student process sends: replies are decoded by
:mod:`autograder.wire` into plain values and handles only.
"""

from __future__ import annotations

import builtins
import itertools
import os
import re
import signal
import socket
import time
from typing import Any

import torch

from .. import course
from ..framing import PeerClosed, ProtocolError, receive, send
from ..wire import Decoder, Encoder
from . import claims

_TYPE_NAME = re.compile(r"[A-Za-z_<][A-Za-z0-9_.<>]{0,199}")  # a remote type name: "mod.Net", "f.<locals>.Inner"
GRACE = 5.0  # seconds past a request's own limit before the student process is given up on
REPLY_CAP = 64 * 2**20

_EXCEPTIONS = {
    name: getattr(builtins, name)
    for name in (
        "ArithmeticError",
        "AssertionError",
        "AttributeError",
        "IndexError",
        "KeyError",
        "LookupError",
        "MemoryError",
        "NameError",
        "NotImplementedError",
        "OverflowError",
        "RecursionError",
        "RuntimeError",
        "TypeError",
        "UnboundLocalError",
        "ValueError",
        "ZeroDivisionError",
    )
}


class StudentError(Exception):
    """Base of every exception re-raised from the student's code.

    ``call`` describes the call that failed, ``where`` the student's frames,
    ``detail`` the exception's own message (not shown for calls made by hidden tests).
    """

    call = ""
    where = ""
    detail = ""

    def redacted(self) -> str:
        """The message without the exception's own text (which could echo hidden inputs)."""
        text = f"{self.call} failed"
        if self.where:
            text += f" in your code ({self.where})"
        kind = type(self).__name__
        # the visible tests may well pass: the test's own words say what about the input matters
        return f"{text} with {kind} in a hidden test (its message is not shown: it could repeat the hidden inputs)"


_error_classes: dict[str, type] = {}


def _error_class(type_name: str) -> type:
    """The class re-raised for a student's exception named ``type_name``: a builtin one of the list, else RuntimeError.

    StopIteration and its kin are RuntimeErrors here: raised into a test's
    ``map`` or generator, they would end a loop early instead of failing it.
    """
    shown = type_name if type_name in _EXCEPTIONS else "RuntimeError"
    cls = _error_classes.get(shown)
    if cls is None:
        cls = type(shown, (StudentError, _EXCEPTIONS[shown]), {"__module__": "builtins"})
        _error_classes[shown] = cls
    return cls


class StudentGone(RuntimeError):
    """The student process is no longer there (stopped after a time limit, crashed, killed)."""


def describe(value: Any, depth: int = 0) -> str:
    """A short description of an argument: ``float32 (3, 3)``, ``2``, ``(1, 2)``."""
    if isinstance(value, torch.Tensor):
        dtype = str(value.dtype).removeprefix("torch.")
        grad = ", requires grad" if value.requires_grad else ""
        return f"{dtype} {tuple(value.shape)}{grad}"
    if isinstance(value, RemoteObject):
        return f"<{value.remote_type_label()}>"  # never its remote repr: text the student's code chose
    if isinstance(value, RemoteName):
        return repr(value)
    if isinstance(value, (list, tuple)) and depth < 2:
        inner = ", ".join(describe(v, depth + 1) for v in value[:6]) + (", ..." if len(value) > 6 else "")
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    if isinstance(value, torch.nn.Module):
        return type(value).__name__
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def describe_call(name: str, args: tuple, kwargs: dict) -> str:
    parts = [describe(a) for a in args] + [f"{k}={describe(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


class Session:
    """One student process, seen from the test process."""

    def __init__(self, sock: socket.socket, pid: int, *, call_timeout: float) -> None:
        self.sock = sock
        self.pid = pid
        self.call_timeout = call_timeout
        self.gone: str = ""  # why the student process is no longer usable
        # the student's cells as the tests' side sent them (number -> lines): where an error
        # happened is shown from these, never from text the student's process sends
        self.cells: dict[int, list[str]] = {}
        # set while a hidden part of a test runs: nothing the student's process chose as text
        # (type names, its exception messages) may then reach a message
        self.hidden = False
        self._ids = itertools.count(1)
        self._objects: dict[int, RemoteObject] = {}

    # --- requests ------------------------------------------------------------------------------

    def kill(self, reason: str) -> None:
        """Stop the student process for good; later requests raise :class:`StudentGone`."""
        if not self.gone:
            self.gone = reason
        if self.pid > 0:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def _how_it_ended(self) -> str:
        """Why the student process closed its end: its exit status, read without waiting long."""
        deadline = time.monotonic() + 2
        while self.pid > 0 and time.monotonic() < deadline:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == self.pid:
                self.pid = -1  # reaped: never signal a pid that may be reused
                if os.WIFEXITED(status):
                    return f"your code's process exited with status {os.WEXITSTATUS(status)}"
                sig = signal.Signals(os.WTERMSIG(status)).name
                hint = " (out of memory?)" if sig == "SIGKILL" else ""
                return f"your code's process was killed by signal {sig}{hint}"
            time.sleep(0.02)
        return "your code's process ended unexpectedly (it crashed, ran out of memory or was killed)"

    def request(
        self, op: str, header: dict[str, Any], blobs: list[bytes] | None = None, *, timeout: float | None = None
    ) -> tuple[dict[str, Any], list[bytes]]:
        """Send one request and wait for its reply.

        Raises:
            StudentGone: the process died, sent garbage, or did not answer in time.
        """
        if self.gone:
            raise StudentGone(self.gone)
        rid = next(self._ids)
        deadline = time.monotonic() + (timeout if timeout is not None else self.call_timeout) + GRACE
        clean = False
        try:
            send(self.sock, {**header, "op": op, "id": rid}, blobs)
            while True:
                reply, reply_blobs = receive(self.sock, deadline=deadline, max_blobs=REPLY_CAP)
                if reply.get("id") == rid:
                    clean = True
                    return reply, reply_blobs
        except PeerClosed as exc:
            self.kill(self._how_it_ended())
            raise StudentGone(self.gone) from exc
        except ProtocolError as exc:
            self.kill(f"your code's process stopped answering ({exc})")
            raise StudentGone(self.gone) from exc
        except OSError as exc:
            self.kill(f"your code's process could not be reached ({exc})")
            raise StudentGone(self.gone) from exc
        finally:
            if not clean and not self.gone:
                # interrupted mid-request (the test cell's time ran out): the channel is out of step
                self.kill("your code's process was stopped when a test cell ran out of time")

    # --- values --------------------------------------------------------------------------------

    def _handle_for(self, value: Any) -> Any:
        if isinstance(value, RemoteObject) and value._session is self:
            return {"$handle": value._hid}
        if isinstance(value, RemoteName) and value._session is self:
            return {"$name": value._name}
        module = _module_data(value)
        if module is not None:
            return module
        return None

    def encode(self, value: Any) -> tuple[Any, Encoder]:
        enc = Encoder(self._handle_for)
        return enc.encode(value), enc

    def decoder(self, blobs: list[bytes]) -> Decoder:
        return Decoder(blobs, self._resolve)

    def decode(self, dec: Decoder, data: Any) -> Any:
        """``dec.decode(data)``; a reply that is not plain data stops the student process.

        While a hidden part of a test runs, every string of the reply is replaced by text the
        test side wrote (:func:`autograder.trusted.claims.withhold`).

        Raises:
            StudentGone: the reply is malformed (its own words are never shown: they are the student's).
        """
        try:
            value = dec.decode(data)
        except ProtocolError as exc:
            self.kill("your code's process sent a malformed reply")
            raise StudentGone(self.gone) from exc
        return claims.withhold(value) if self.hidden else value

    def _resolve(self, data: dict[str, Any]) -> Any:
        hid = data.get("$handle")
        if type(hid) is not int:
            raise ProtocolError("unexpected object in a reply")
        obj = self._objects.get(hid)
        if obj is None:
            type_name = data.get("type")
            if not (isinstance(type_name, str) and _TYPE_NAME.fullmatch(type_name)):
                type_name = "object"
            if self.hidden:
                type_name = "object"  # a name chosen while it held hidden inputs: never shown, even later
            obj = RemoteObject(self, hid, type_name, data.get("callable") is True, data.get("class") is True)
            self._objects[hid] = obj
        return obj

    def _raise(self, error: Any, what: str) -> None:
        if not isinstance(error, dict):
            self.kill("your code's process sent a malformed reply")
            raise StudentGone(self.gone)
        type_name = error.get("type") if isinstance(error.get("type"), str) else "Exception"
        message = error.get("message")[:4000] if isinstance(error.get("message"), str) else ""
        if self.hidden:
            message = ""  # the student's text, chosen while it held hidden inputs: never kept
        frames = error.get("frames") if isinstance(error.get("frames"), list) else []
        where = [self._where(frame) for frame in frames[-6:]]
        where = [w for w in where if w]
        text = f"{what} failed"
        located = " <- ".join(reversed(where))
        if located:
            text += f" in your code ({located})"
        if message:
            text += f": {message}"
        error = _error_class(type_name)(text)
        error.call, error.where, error.detail = what, located, message
        raise error

    def _where(self, frame: Any) -> str:
        """``In [3], line 5: <that line of cell 3>`` for a frame ``["cell 3", 5, ...]`` of a known cell, else ''.

        ``In [3]`` is how the feedback page labels the third cell run (testproc.TestRunner.run).
        """
        if not (isinstance(frame, list) and len(frame) == 3 and isinstance(frame[0], str) and type(frame[1]) is int):
            return ""
        cell, number = frame[0], frame[1]
        lines = self.cells.get(int(cell[5:])) if re.fullmatch(r"cell [0-9]{1,5}", cell) else None
        if lines is None or not 0 < number <= len(lines):
            return ""
        source = lines[number - 1].strip()[:200]
        where = f"In [{cell[5:]}], line {number}"
        return f"{where}: {source}" if source else where

    # --- operations ----------------------------------------------------------------------------

    def call(self, target: dict[str, Any], what: str, args: tuple, kwargs: dict) -> Any:
        """Call a student callable; see the module docstring for what crosses."""
        grad = torch.is_grad_enabled() and _needs_grad(args, kwargs)
        payload, enc = self.encode([list(args), dict(kwargs)])
        header = {"target": target, "args": payload[0], "kwargs": payload[1], "grad": grad}
        reply, blobs = self.request("call", header, enc.blobs)
        if "error" in reply:
            self._raise(reply["error"], what)
        dec = self.decoder(blobs)
        value = self.decode(dec, reply.get("value"))
        _note_origin(value, what)
        outputs = list(dec.tensors)  # the result's tensors
        graph = reply.get("graph")
        if grad and type(graph) is int:
            value = _attach(self, graph, value, outputs, reply.get("requires_grad"), enc.tensors)
        return value

    def simple(self, op: str, header: dict[str, Any], what: str) -> Any:
        reply, blobs = self.request(op, header)
        if "error" in reply:
            self._raise(reply["error"], what)
        return self.decode(self.decoder(blobs), reply.get("value"))

    def helper(self, name: str, args: tuple, kwargs: dict) -> Any:
        """Run the course helper ``name`` in the student process; its reply is the student's claim.

        The arguments go as copies; the reply is held to the type the helper promises
        (:func:`autograder.trusted.claims.checked_helper_result`).

        Raises:
            claims.ClaimRefused: the reply is not what the helper returns.
        """
        payload, enc = self.encode([list(args), dict(kwargs)])
        reply, blobs = self.request("helper", {"name": name, "args": payload[0], "kwargs": payload[1]}, enc.blobs)
        if "error" in reply:
            self._raise(reply["error"], describe_call(name, args, kwargs))
        value = self.decode(self.decoder(blobs), reply.get("value"))
        return claims.checked_helper_result(name, value)

    def backward(self, graph: int, grads: list[Any]) -> list[Any]:
        payload, enc = self.encode(grads)
        reply, blobs = self.request("backward", {"graph": graph, "grads": payload}, enc.blobs)
        if "error" in reply:
            self._raise(reply["error"], "computing the gradients of your result")
        value = self.decode(self.decoder(blobs), reply.get("value"))
        return value if isinstance(value, list) else []


def _note_origin(value: Any, what: str, depth: int = 0) -> None:
    """Remember, on handles a call returned, which call it was (messages then say where they came from)."""
    if isinstance(value, RemoteObject):
        if not value._origin:
            object.__setattr__(value, "_origin", what)
    elif isinstance(value, (list, tuple)) and depth < 2:
        for item in value[:16]:
            _note_origin(item, what, depth + 1)


def _module_data(value: Any) -> dict[str, Any] | None:
    """A plain torch.nn.Linear/Conv1d/Conv2d as its constructor arguments and parameters."""
    cls = type(value)
    if cls is torch.nn.Linear:
        init: dict[str, Any] = {
            "in_features": value.in_features,
            "out_features": value.out_features,
            "bias": value.bias is not None,
        }
    elif cls in (torch.nn.Conv1d, torch.nn.Conv2d):
        init = {
            "in_channels": value.in_channels,
            "out_channels": value.out_channels,
            "kernel_size": tuple(value.kernel_size),
            "stride": tuple(value.stride),
            "padding": value.padding if isinstance(value.padding, str) else tuple(value.padding),
            "dilation": tuple(value.dilation),
            "groups": value.groups,
            "bias": value.bias is not None,
            "padding_mode": value.padding_mode,
        }
    else:
        return None
    init["dtype"] = value.weight.dtype
    state = {k: p.detach().clone() for k, p in value.named_parameters()}
    return {"$module": cls.__name__, "init": init, "state": state, "training": value.training}


def _needs_grad(args: tuple, kwargs: dict) -> bool:
    stack: list[Any] = [args, kwargs]
    seen = 0
    while stack and seen < 10_000:
        item = stack.pop()
        seen += 1
        if isinstance(item, torch.Tensor):
            if item.requires_grad:
                return True
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return False


class _Bridge(torch.autograd.Function):
    """Ties a remote call's result tensors to its input tensors for autograd."""

    @staticmethod
    def forward(ctx: Any, session: Session, graph: int, flags: list[bool], n_inputs: int, *tensors: torch.Tensor):  # type: ignore[override]
        ctx.session, ctx.graph, ctx.n_inputs = session, graph, n_inputs
        outputs = tuple(t.clone() for t in tensors[n_inputs:])
        ctx.mark_non_differentiable(*[o for o, f in zip(outputs, flags) if not f])
        return outputs

    @staticmethod
    def backward(ctx: Any, *grad_outputs: torch.Tensor):  # type: ignore[override]
        grads = ctx.session.backward(ctx.graph, list(grad_outputs))
        inputs = list(grads[: ctx.n_inputs]) + [None] * (ctx.n_inputs - len(grads))
        checked = [g.detach() if isinstance(g, torch.Tensor) else None for g in inputs]  # autograd checks shapes
        return (None, None, None, None, *checked, *([None] * (len(grad_outputs))))


def _attach(
    session: Session, graph: int, value: Any, outputs: list[torch.Tensor], flags: Any, inputs: list[torch.Tensor]
) -> Any:
    """Replace the result tensors in ``value`` by outputs of one :class:`_Bridge` node."""
    if not isinstance(flags, list) or len(flags) != len(outputs) or not outputs:
        return value
    flags = [bool(f) and (o.is_floating_point() or o.is_complex()) for f, o in zip(flags, outputs)]
    plain = [o.detach() for o in outputs]
    bridged = _Bridge.apply(session, graph, flags, len(inputs), *inputs, *plain)
    swap = {id(o): b for o, b in zip(outputs, bridged)}

    def rebuild(item: Any) -> Any:
        if isinstance(item, torch.Tensor):
            return swap.get(id(item), item)
        if isinstance(item, list):
            return [rebuild(v) for v in item]
        if isinstance(item, tuple):
            return tuple(rebuild(v) for v in item)
        if isinstance(item, dict):
            return {k: rebuild(v) for k, v in item.items()}
        return item

    return rebuild(value)


class RemoteName:
    """A name the student defined (a function or a class), looked up when used."""

    __slots__ = ("_session", "_name")

    def __init__(self, session: Session, name: str) -> None:
        object.__setattr__(self, "_session", session)
        object.__setattr__(self, "_name", name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._session.call({"$name": self._name}, describe_call(self._name, args, kwargs), args, kwargs)

    def __instancecheck__(self, obj: Any) -> bool:
        if not isinstance(obj, RemoteObject) or obj._session is not self._session:
            return False
        value = self._session.simple(
            "instancecheck", {"target": {"$handle": obj._hid}, "cls": {"$name": self._name}}, "isinstance"
        )
        return value is True

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._session.simple("getattr", {"target": {"$name": self._name}, "name": name}, f"{self._name}.{name}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a test cannot change {self._name}.{name} in your code")

    def __repr__(self) -> str:
        return self._name


class RemoteObject:
    """An object that lives in the student process (a module, a generator, ...)."""

    __slots__ = ("_session", "_hid", "_type", "_callable", "_class", "_origin")

    def __init__(self, session: Session, hid: int, type_name: str, is_callable: bool, is_class: bool) -> None:
        object.__setattr__(self, "_session", session)
        object.__setattr__(self, "_hid", hid)
        object.__setattr__(self, "_type", type_name)
        object.__setattr__(self, "_callable", is_callable)
        object.__setattr__(self, "_class", is_class)
        object.__setattr__(self, "_origin", "")  # the call that returned it first (for messages)

    @property
    def _short(self) -> str:
        """The name of the object's type; in a hidden test, only ``object`` (the name is the student's text)."""
        return "object" if self._session.hidden else self._type.rsplit(".", 1)[-1]

    def remote_type_label(self) -> str:
        """The name of the real type of the object (used by :func:`autograder.checks.type_label`)."""
        return self._short

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self._callable:
            raise TypeError(f"'{self._short}' object is not callable")
        what = describe_call(self._short, args, kwargs)
        if self._origin:
            what = f"the {self._short} returned by {self._origin}, called as {what},"
        return self._session.call({"$handle": self._hid}, what, args, kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self._session.simple("getattr", {"target": {"$handle": self._hid}, "name": name}, name)
        except AttributeError as exc:
            raise AttributeError(f"'{self._short}' object has no attribute {name!r}") from exc

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            f"a test cannot set {name!r} on a {self._short} that lives in the student process "
            "(use autograder.course.set_parameter)"
        )

    def __iter__(self) -> Any:
        return iter(self._session.simple("iter", {"target": {"$handle": self._hid}}, f"iterating a {self._short}"))

    def __len__(self) -> int:
        value = self._session.simple("len", {"target": {"$handle": self._hid}}, f"len() of a {self._short}")
        if type(value) is not int or value < 0:
            raise TypeError("len() did not return a non-negative int")
        return value

    def __instancecheck__(self, obj: Any) -> bool:
        if not self._class or not isinstance(obj, RemoteObject) or obj._session is not self._session:
            return False
        value = self._session.simple(
            "instancecheck", {"target": {"$handle": obj._hid}, "cls": {"$handle": self._hid}}, "isinstance"
        )
        return value is True

    def __bool__(self) -> bool:
        return True

    def _text(self, use_repr: bool) -> str:
        if self._session.hidden:
            return f"<{self._short} object>"  # its repr is the student's text
        try:
            value = self._session.simple("str", {"target": {"$handle": self._hid}, "repr": use_repr}, "repr")
        except (StudentError, StudentGone):
            value = None
        return value if isinstance(value, str) else f"<{self._short} object>"

    def __repr__(self) -> str:
        return self._text(True)

    def __str__(self) -> str:
        return self._text(False)


def is_proxy(value: Any) -> bool:
    """True for the proxies of this module (used by :mod:`autograder.course`)."""
    return isinstance(value, (RemoteName, RemoteObject))


def install(session: Session) -> None:
    """Route :mod:`autograder.course` helpers with proxy arguments to ``session``."""
    course.dispatch_to(session.helper, is_proxy)
