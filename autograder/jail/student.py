"""The student process: runs a student's cells and answers the test process's calls.

This module runs inside the jail, with the student's code, so nothing in it is
trusted by anyone: it only ever *answers*. The trusted test process sends one
request at a time on the socket (:mod:`autograder.wire`) and reads one
reply per request:

``exec``           run a student cell; reply with its outputs and the callables it (re)defined
``call``           call a student name or handle with plain-data arguments
``getattr``        read an attribute of a handle
``helper``         run a helper of :mod:`autograder.course` on student objects
``backward``       gradients of an earlier ``call``'s result with respect to its inputs
``instancecheck``, ``iter``, ``len``, ``str``  the little rest that tests use

Values go back by value when they are plain data, as handles otherwise.
What student code prints during calls is discarded; during ``exec`` it is
captured, capped, and returned as the cell's outputs.
"""

from __future__ import annotations

import ast
import builtins
import functools
import itertools
import linecache
import os
import signal
import socket
import sys
import time
import traceback
import warnings
from typing import Any

import torch

from .. import course
from ..capped import CappedStream
from ..framing import ProtocolError, receive, send
from ..wire import Decoder, Encoder, Handle, RemoteError

MAX_MESSAGE = 4000  # characters of an exception message sent back
MAX_FRAMES = 12
MAX_ITEMS = 10_000
MAX_GRAPHS = 256
MODULE_CLASSES = {"Linear": torch.nn.Linear, "Conv1d": torch.nn.Conv1d, "Conv2d": torch.nn.Conv2d}


class CellTimeout(BaseException):
    """Raised inside a cell that ran longer than its time limit."""


def student_frames(tb: Any) -> tuple[tuple[str, int, str], ...]:
    """The frames of a traceback that are in the student's cells: (cell, line, source)."""
    frames = []
    for frame in traceback.extract_tb(tb):
        if frame.filename.startswith("<cell "):
            frames.append((frame.filename.strip("<>"), frame.lineno or 0, (frame.line or "").strip()[:300]))
    return tuple(frames[-MAX_FRAMES:])


def _blank_lines_before(text: str) -> int:
    """How many whitespace-only lines ``text`` starts with."""
    return text[: len(text) - len(text.lstrip())].count("\n")


def remote_error(exc: BaseException) -> RemoteError:
    try:
        message = str(exc)
    except BaseException:  # noqa: BLE001  (a student's exception may fail to print)
        message = "<the exception's message could not be shown>"
    name = type(exc).__name__ if type(exc).__module__ == "builtins" else type(exc).__qualname__
    return RemoteError(str(name)[:100], message[:MAX_MESSAGE], student_frames(exc.__traceback__))


class StudentServer:
    """The student's namespace, its handles, and the request loop."""

    def __init__(self, sock: socket.socket, *, cell_timeout: float, max_output: int, shell: Any) -> None:
        self.sock = sock
        self.cell_timeout = cell_timeout
        self.max_output = max_output
        self.shell = shell
        self.namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
        shell.user_ns = self.namespace
        self.handles: dict[int, Any] = {}
        self._ids: dict[int, int] = {}  # id(object) -> handle id
        self.graphs: dict[int, tuple[list[torch.Tensor], list[torch.Tensor]]] = {}
        self._count = 0

    # --- values --------------------------------------------------------------------------------

    def _handle_for(self, value: Any) -> dict[str, Any]:
        key = id(value)
        hid = self._ids.get(key)
        if hid is None or self.handles.get(hid) is not value:
            hid = len(self.handles) + 1
            self.handles[hid] = value
            self._ids[key] = hid
        cls = type(value)
        return {
            "$handle": hid,
            "type": f"{cls.__module__}.{cls.__qualname__}"[:200],
            "callable": callable(value),
            "class": isinstance(value, type),
        }

    def _resolve(self, data: dict[str, Any], dec: Decoder | None = None) -> Any:
        if "$handle" in data:
            hid = data["$handle"]
            if type(hid) is not int or hid not in self.handles:
                raise ProtocolError("unknown handle")
            return self.handles[hid]
        if "$name" in data:
            name = data["$name"]
            if type(name) is not str or name not in self.namespace:
                raise NameError(f"name {name!r} is not defined")
            return self.namespace[name]
        if "$module" in data and dec is not None:
            return self._rebuild_module(data, dec)
        raise ProtocolError("unexpected object in a request")

    def _rebuild_module(self, data: dict[str, Any], dec: Decoder) -> torch.nn.Module:
        """A plain torch.nn module sent by the tests: rebuilt from its arguments and parameters."""
        cls = MODULE_CLASSES.get(data["$module"])
        if cls is None:
            raise ProtocolError(f"cannot rebuild a {data['$module']!r}")
        init = dec.decode(data["init"])
        state = dec.decode(data["state"])
        if type(init) is not dict or type(state) is not dict:
            raise ProtocolError("malformed module")
        module = cls(**init)
        with torch.no_grad():
            for name, value in state.items():
                getattr(module, name).copy_(value)
        module.train(bool(data.get("training", True)))
        return module

    def _decoder(self, blobs: list[bytes]) -> Decoder:
        dec = Decoder(blobs, None)
        dec._resolve = lambda data: self._resolve(data, dec)  # noqa: SLF001
        return dec

    def _encode(self, value: Any) -> tuple[Any, list[bytes], list[torch.Tensor]]:
        enc = Encoder(self._handle_for)
        return enc.encode(value), enc.blobs, enc.tensors

    # --- the loop ------------------------------------------------------------------------------

    def serve(self) -> None:
        """Answer requests until the socket closes."""
        while True:
            try:
                header, blobs = receive(self.sock)
            except ProtocolError:
                return
            rid = header.get("id")
            op = header.get("op")
            handler = getattr(self, f"op_{op}", None) if isinstance(op, str) else None
            try:
                if handler is None:
                    raise ProtocolError(f"unknown request {op!r}")
                reply, out_blobs = handler(header, blobs)
            except (CellTimeout, KeyboardInterrupt) as exc:
                reply, out_blobs = {"error": self._error_data(exc)}, []
            except Exception as exc:  # noqa: BLE001  (whatever the student's code raised goes back)
                reply, out_blobs = {"error": self._error_data(exc)}, []
            try:
                send(self.sock, {**reply, "id": rid}, out_blobs)
            except (ProtocolError, ValueError, TypeError) as exc:
                send(self.sock, {"id": rid, "error": self._error_data(exc)}, [])
            except OSError:
                return

    def _error_data(self, exc: BaseException) -> dict[str, Any]:
        error = remote_error(exc)
        return {"type": error.type_name, "message": error.message, "frames": [list(f) for f in error.frames]}

    def _quiet(self) -> tuple[Any, Any]:
        saved = sys.stdout, sys.stderr
        budget = [0]
        sys.stdout, sys.stderr = CappedStream("stdout", budget), CappedStream("stderr", budget)
        return saved

    # --- requests ------------------------------------------------------------------------------

    def op_exec(self, header: dict[str, Any], blobs: list[bytes]) -> tuple[dict[str, Any], list[bytes]]:
        source = header["source"]
        filename = f"<cell {int(header['cell'])}>"
        before = {k: id(v) for k, v in self.namespace.items()}
        budget = [self.max_output]
        out, err = CappedStream("stdout", budget), CappedStream("stderr", budget)
        outputs: list[dict[str, Any]] = []
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        result: Any = None
        has_result = False
        error: BaseException | None = None
        self._count += 1
        started = time.perf_counter()
        try:
            code = self.shell.transform_cell(source)
            # IPython drops a cell's leading blank lines: put them back, so that line numbers are the cell's
            code = "\n" * (_blank_lines_before(source) - _blank_lines_before(code)) + code
            linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
            tree = ast.parse(code, filename=filename)
            last: ast.Expression | None = None
            if tree.body and isinstance(tree.body[-1], ast.Expr):
                last = ast.Expression(tree.body.pop().value)
            signal.setitimer(signal.ITIMER_REAL, self.cell_timeout)
            try:
                exec(compile(tree, filename, "exec"), self.namespace)
                if last is not None:
                    result = eval(compile(last, filename, "eval"), self.namespace)
                    has_result = result is not None
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except BaseException as exc:  # noqa: BLE001  (student code may raise anything)
            error = exc
        finally:
            sys.stdout, sys.stderr = saved
        for stream in (out, err):
            text = stream.getvalue()
            if text:
                outputs.append({"output_type": "stream", "name": stream.name, "text": text})
        if error is not None:
            outputs.append(_error_output(error))
        elif has_result:
            try:
                text = repr(result)[: self.max_output]
            except BaseException as exc:  # noqa: BLE001
                text = f"<repr failed: {type(exc).__name__}>"
            outputs.append(
                {
                    "output_type": "execute_result",
                    "execution_count": self._count,
                    "metadata": {},
                    "data": {"text/plain": text},
                }
            )
        names = []
        for key, value in list(self.namespace.items()):
            if key.startswith("_") or before.get(key) == id(value):
                continue
            if callable(value) and not isinstance(value, type(sys)):
                names.append(key)
        reply = {
            "outputs": outputs,
            "execution_count": self._count,
            "names": names[:1000],
            "seconds": round(time.perf_counter() - started, 4),
        }
        return reply, []

    def _call(self, target: Any, header: dict[str, Any], blobs: list[bytes]) -> tuple[dict[str, Any], list[bytes]]:
        dec = self._decoder(blobs)
        args = dec.decode(header.get("args", []))
        kwargs = dec.decode(header.get("kwargs", {"$dict": []}))
        if type(args) is not list or type(kwargs) is not dict:
            raise ProtocolError("malformed call")
        bases = list(dec.leaves)
        saved = self._quiet()
        try:
            result = target(*args, **kwargs)
        finally:
            sys.stdout, sys.stderr = saved
        value, out_blobs, outputs = self._encode(result)
        reply: dict[str, Any] = {"value": value}
        leaves = [t for t in bases if t.requires_grad]
        if header.get("grad") and leaves and any(t.requires_grad for t in outputs):
            gid = len(self.graphs) + 1
            if len(self.graphs) >= MAX_GRAPHS:
                self.graphs.pop(next(iter(self.graphs)))
            self.graphs[gid] = (bases, outputs)
            reply["graph"] = gid
            reply["requires_grad"] = [bool(t.requires_grad) for t in outputs]
        return reply, out_blobs

    def op_call(self, header: dict[str, Any], blobs: list[bytes]) -> tuple[dict[str, Any], list[bytes]]:
        target = self._resolve(header["target"])
        return self._call(target, header, blobs)

    def op_helper(self, header: dict[str, Any], blobs: list[bytes]) -> tuple[dict[str, Any], list[bytes]]:
        helper = course.HELPERS.get(header.get("name"))
        if helper is None:
            raise ProtocolError(f"unknown helper {header.get('name')!r}")
        return self._call(helper, {**header, "grad": False}, blobs)

    def op_getattr(self, header: dict[str, Any], blobs: list[bytes]) -> tuple[dict[str, Any], list[bytes]]:
        target = self._resolve(header["target"])
        name = header.get("name")
        if type(name) is not str:
            raise ProtocolError("malformed attribute name")
        saved = self._quiet()
        try:
            value = getattr(target, name)
        finally:
            sys.stdout, sys.stderr = saved
        encoded, out_blobs, _ = self._encode(value)
        return {"value": encoded}, out_blobs

    def op_backward(self, header: dict[str, Any], blobs: list[bytes]) -> tuple[dict[str, Any], list[bytes]]:
        graph = self.graphs.get(header.get("graph"))
        if graph is None:
            raise RuntimeError("the graph of this result is no longer available; call the function again")
        inputs, outputs = graph
        grads = self._decoder(blobs).decode(header.get("grads", []))
        pairs = [
            (o, g)
            for o, g in zip(outputs, grads)
            if g is not None and isinstance(o, torch.Tensor) and o.requires_grad and o.shape == g.shape
        ]
        leaves = [t for t in inputs if t.requires_grad]
        result: list[Any] = [None] * len(inputs)
        if pairs and leaves:
            saved = self._quiet()
            try:
                got = course.vjp(  # torch.autograd.grad(outputs, leaves, grads), without sympy (course.vjp)
                    [o for o, _ in pairs],
                    leaves,
                    [g.to(o.dtype) for o, g in pairs],
                    allow_unused=True,
                    retain_graph=True,
                )
            finally:
                sys.stdout, sys.stderr = saved
            by_leaf = iter(got)
            result = [next(by_leaf) if t.requires_grad else None for t in inputs]
        value, out_blobs, _ = self._encode([g.detach() if g is not None else None for g in result])
        return {"value": value}, out_blobs

    def op_instancecheck(self, header: dict[str, Any], blobs: list[bytes]) -> tuple[dict[str, Any], list[bytes]]:
        obj = self._resolve(header["target"])
        cls = self._resolve(header["cls"])
        return {
            "value": bool(isinstance(cls, type) and type(isinstance(obj, cls)) is bool and isinstance(obj, cls))
        }, []

    def op_iter(self, header: dict[str, Any], blobs: list[bytes]) -> tuple[dict[str, Any], list[bytes]]:
        target = self._resolve(header["target"])
        saved = self._quiet()
        try:
            items = list(itertools.islice(iter(target), MAX_ITEMS))
        finally:
            sys.stdout, sys.stderr = saved
        encoded, out_blobs, _ = self._encode(items)
        return {"value": encoded}, out_blobs

    def op_len(self, header: dict[str, Any], blobs: list[bytes]) -> tuple[dict[str, Any], list[bytes]]:
        return {"value": int(len(self._resolve(header["target"])))}, []

    def op_census(self, header: dict[str, Any], blobs: list[bytes]) -> tuple[dict[str, Any], list[bytes]]:
        """How many processes the student's code left running (they are killed next)."""
        return {"value": len(_descendants(os.getpid()))}, []

    def op_str(self, header: dict[str, Any], blobs: list[bytes]) -> tuple[dict[str, Any], list[bytes]]:
        target = self._resolve(header["target"])
        text = repr(target) if header.get("repr") else str(target)
        return {"value": str(text)[:2000]}, []


def _descendants(root: int) -> list[int]:
    """Every live process whose parent chain leads to ``root`` (in this process's /proc)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found = []
    for pid in parents:
        p = pid
        while p in parents and p != root and p > 1:
            p = parents[p]
        if p == root and pid != root:
            found.append(pid)
    return found


def _error_output(error: BaseException) -> dict[str, Any]:
    remote = remote_error(error)
    lines = ["Traceback (most recent call last):"]
    for cell, line, source in remote.frames:
        lines.append(f"  In [{cell.removeprefix('cell ')}], line {line}")  # the cell's label on the page
        if source:
            lines.append(f"    {source}")
    lines.append(f"{remote.type_name}: {remote.message}")
    return {"output_type": "error", "ename": remote.type_name, "evalue": remote.message, "traceback": lines}


@functools.cache
def shell_class() -> type:
    """IPython's shell as a kernel without a screen runs it: ``%matplotlib inline`` selects Agg.

    The bare ``InteractiveShell`` refuses every ``%matplotlib``/``%pylab``
    (``enable_gui`` is left to subclasses), and a notebook's first line is
    often ``%matplotlib inline``: that cell, and every definition in it, would
    be lost. Figures are not part of the grade, so any backend asked for
    becomes the non-interactive Agg. Made once, in the zygote: every student
    process then only makes its own shell.
    """
    from IPython.core.interactiveshell import InteractiveShell

    class HeadlessShell(InteractiveShell):
        def enable_gui(self, gui: str | None = None) -> None:
            return None

        def enable_matplotlib(self, gui: str | None = None) -> tuple[str, str]:
            import matplotlib

            matplotlib.use("agg", force=True)
            return "agg", "agg"

    return HeadlessShell


def run(sock: socket.socket, *, cell_timeout: float, max_output: int) -> None:
    """Serve the test process on ``sock`` (in the jailed child; returns when it closes)."""
    shell = shell_class().instance()
    builtins.get_ipython = lambda: shell  # type: ignore[attr-defined]

    def on_alarm(signum: int, frame: Any) -> None:
        raise CellTimeout(f"the cell ran longer than {cell_timeout:g} s")

    signal.signal(signal.SIGALRM, on_alarm)
    warnings.filterwarnings("ignore", message=".*non-interactive.*")
    StudentServer(sock, cell_timeout=cell_timeout, max_output=max_output, shell=shell).serve()


__all__ = ["Handle", "StudentServer", "run"]
