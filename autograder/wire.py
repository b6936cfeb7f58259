"""The plain data that messages between the test and the student process may carry.

The messages themselves are :mod:`autograder.framing`'s frames. Values inside
a header are plain data: ``None``, bools, ints, floats, strings, lists, and
tagged objects for tuples, dicts, tensors (dtype, shape and a blob index),
dtypes, numpy scalars, handles and errors. Decoding builds nothing but these:
no pickle, no code, no class named by the sender.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from .framing import MAX_BLOBS, ProtocolError

MAX_DEPTH = 32
MAX_ITEMS = 100_000
MAX_EMPTY = 2**20  # product of the non-zero sizes of an empty tensor

DTYPES: dict[str, torch.dtype] = {
    str(d).removeprefix("torch."): d
    for d in (
        torch.float16,
        torch.bfloat16,
        torch.float32,
        torch.float64,
        torch.complex64,
        torch.complex128,
        torch.uint8,
        torch.int8,
        torch.int16,
        torch.int32,
        torch.int64,
        torch.bool,
    )
}
DTYPE_NAMES = {d: name for name, d in DTYPES.items()}


@dataclass(frozen=True)
class Handle:
    """A reference to an object that lives in the other process."""

    id: int
    type_name: str
    callable: bool
    is_class: bool


@dataclass(frozen=True)
class RemoteError:
    """An exception raised in the other process, as data."""

    type_name: str
    message: str
    frames: tuple[tuple[str, int, str], ...] = ()


def tensor_bytes(t: torch.Tensor) -> bytes:
    """The raw contents of ``t`` (any dtype), row-major."""
    flat = t.detach().cpu().contiguous().reshape(-1)
    if flat.numel() == 0:
        return b""
    return flat.view(torch.uint8).numpy().tobytes()


def _check_empty(shape: list[int] | tuple[int, ...], numel: int) -> None:
    """Refuse an empty tensor that claims a huge shape: (10**9, 0) holds nothing, but ``.tolist()`` builds 10**9 lists."""
    if numel == 0 and math.prod(max(n, 1) for n in shape) > MAX_EMPTY:
        raise ProtocolError(f"an empty tensor of shape {list(shape)} is refused")


def tensor_from(data: bytes, dtype_name: str, shape: list[int], requires_grad: bool = False) -> torch.Tensor:
    """A fresh plain tensor from :func:`tensor_bytes` output.

    Raises:
        ProtocolError: unknown dtype, or the size does not match the shape.
    """
    dtype = DTYPES.get(dtype_name) if isinstance(dtype_name, str) else None
    if dtype is None:
        raise ProtocolError(f"unknown tensor dtype {dtype_name!r}")
    if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape) or len(shape) > 16:
        raise ProtocolError("malformed tensor shape")
    numel = math.prod(shape)
    _check_empty(shape, numel)
    itemsize = torch.empty((), dtype=dtype).element_size()
    if len(data) != numel * itemsize:
        raise ProtocolError(f"tensor of shape {shape} and dtype {dtype_name} cannot hold {len(data)} bytes")
    if numel == 0:
        t = torch.empty(shape, dtype=dtype)
    else:
        t = torch.frombuffer(bytearray(data), dtype=torch.uint8).view(dtype).reshape(shape).clone()
    if requires_grad and (t.is_floating_point() or t.is_complex()):
        t.requires_grad_(True)
    return t


class Encoder:
    """Turns a value into header data plus blobs; ``handle_for`` decides what is not plain."""

    def __init__(self, handle_for: Callable[[Any], Any] | None = None, *, max_blob_bytes: int = MAX_BLOBS) -> None:
        self.blobs: list[bytes] = []
        self._size = 0
        self._handle_for = handle_for
        self._max = max_blob_bytes
        self.tensors: list[torch.Tensor] = []  # every tensor encoded, in order

    def encode(self, value: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise ProtocolError("the value is nested too deeply to send")
        kind = type(value)
        if value is None or kind is bool or kind is str:
            return value
        if kind is int:
            return value if -(2**63) <= value < 2**63 else {"$bigint": str(value)}
        if kind is float:
            return value if math.isfinite(value) else {"$float": repr(value)}
        if isinstance(value, torch.Tensor):
            if value.dtype not in DTYPE_NAMES:
                raise ProtocolError(f"a tensor of dtype {value.dtype} cannot be sent")
            _check_empty(value.shape, value.numel())
            data = tensor_bytes(value)
            self._size += len(data)
            if self._size > self._max:
                raise ProtocolError(f"the tensors to send are larger than {self._max} bytes")
            self.blobs.append(data)
            self.tensors.append(value)
            return {
                "$tensor": len(self.blobs) - 1,
                "dtype": DTYPE_NAMES[value.dtype],
                "shape": list(value.shape),
                "grad": bool(value.requires_grad),
                "leaf": bool(value.is_leaf),
            }
        if kind is list or kind is tuple:
            if len(value) > MAX_ITEMS:
                raise ProtocolError("the sequence is too long to send")
            items = [self.encode(v, depth + 1) for v in value]
            return items if kind is list else {"$tuple": items}
        if kind is dict and all(type(k) in (str, int) for k in value):
            if len(value) > MAX_ITEMS:
                raise ProtocolError("the dict is too long to send")
            return {"$dict": [[k, self.encode(v, depth + 1)] for k, v in value.items()]}
        if isinstance(value, torch.dtype):
            return {"$dtype": DTYPE_NAMES.get(value, "?")}
        if kind is torch.Size:
            return {"$tuple": [int(n) for n in value]}
        if kind is Handle:
            return {"$handle": value.id}
        if kind is RemoteError:
            return {"$error": value.type_name, "message": value.message, "frames": [list(f) for f in value.frames]}
        special = _encode_numpy(value)
        if special is not None:
            return special
        if self._handle_for is not None:
            encoded = self._handle_for(value)
            if isinstance(encoded, dict) and "$module" in encoded:
                # a plain torch.nn module sent by value: its arguments and parameters are data too
                return {
                    "$module": encoded["$module"],
                    "init": self.encode(encoded["init"], depth + 1),
                    "state": self.encode(encoded["state"], depth + 1),
                    "training": bool(encoded.get("training", True)),
                }
            if encoded is not None:
                return encoded
        raise ProtocolError(f"a {kind.__name__} cannot be sent")


def _encode_numpy(value: Any) -> Any:
    module = type(value).__module__
    if module != "numpy":
        return None
    import numpy

    if isinstance(value, numpy.generic) and value.dtype.kind in "biuf":
        return {"$np": str(value.dtype), "value": value.item() if math.isfinite(float(value)) else repr(value.item())}
    return None


class Decoder:
    """Rebuilds values from header data and blobs; ``resolve`` turns handle dicts into objects."""

    def __init__(self, blobs: list[bytes], resolve: Callable[[dict[str, Any]], Any] | None = None) -> None:
        self._blobs = blobs
        self._resolve = resolve
        self._used: set[int] = set()  # each blob makes one tensor: a header cannot reuse one a million times
        self.tensors: list[torch.Tensor] = []  # every tensor decoded, as handed on
        # for each of them, the leaf that gradients are taken with respect to: the tensor itself, or,
        # for a tensor that was not a leaf where it was sent, the leaf it is a clone of (so that code
        # may change it in place, as it may change a non-leaf tensor)
        self.leaves: list[torch.Tensor] = []

    def decode(self, data: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise ProtocolError("the value is nested too deeply")
        kind = type(data)
        if data is None or kind in (bool, int, float, str):
            return data
        if kind is list:
            return [self.decode(v, depth + 1) for v in data]
        if kind is not dict:
            raise ProtocolError(f"unexpected {kind.__name__} in a message")
        if "$tensor" in data:
            index = data["$tensor"]
            if type(index) is not int or not 0 <= index < len(self._blobs) or index in self._used:
                raise ProtocolError("tensor refers to a missing blob, or to one already used")
            self._used.add(index)
            t = tensor_from(self._blobs[index], data.get("dtype"), data.get("shape"), bool(data.get("grad")))
            leaf = t
            if t.requires_grad and data.get("leaf") is False:
                t = leaf.clone()
            self.tensors.append(t)
            self.leaves.append(leaf)
            return t
        if "$tuple" in data:
            return tuple(self.decode(v, depth + 1) for v in _list(data["$tuple"]))
        if "$dict" in data:
            out = {}
            for pair in _list(data["$dict"]):
                if type(pair) is not list or len(pair) != 2 or type(pair[0]) not in (str, int):
                    raise ProtocolError("malformed dict")
                out[pair[0]] = self.decode(pair[1], depth + 1)
            return out
        if "$dtype" in data:
            dtype = DTYPES.get(_string(data["$dtype"]))
            if dtype is None:
                raise ProtocolError(f"unknown dtype {data['$dtype']!r}")
            return dtype
        if "$float" in data:
            return _number(float, _string(data["$float"])[:40])
        if "$bigint" in data:
            return _number(int, _string(data["$bigint"])[:400])
        if "$np" in data:
            import numpy

            name = _string(data["$np"])
            if name not in {"bool", "int8", "int16", "int32", "int64", "uint8", "float16", "float32", "float64"}:
                raise ProtocolError(f"unknown numpy dtype {name!r}")
            value = data.get("value")
            if type(value) not in (bool, int, float, str):
                raise ProtocolError("malformed numpy scalar")
            return _number(numpy.dtype(name).type, _number(float, value[:40]) if isinstance(value, str) else value)
        if "$error" in data:
            frames = tuple(
                (f[0][:100], f[1], f[2][:300])
                for f in _list(data.get("frames", []))[:20]
                if type(f) is list and len(f) == 3 and type(f[0]) is str and type(f[1]) is int and type(f[2]) is str
            )
            return RemoteError(_string(data["$error"])[:100], _string(data.get("message", ""))[:4000], frames)
        if self._resolve is not None:
            return self._resolve(data)
        raise ProtocolError("unexpected object in a message")


def _string(value: Any) -> str:
    if type(value) is not str:
        raise ProtocolError("expected a string in a message")
    return value


def _number(kind: Callable[[Any], Any], value: Any) -> Any:
    try:
        return kind(value)
    except (ValueError, OverflowError, TypeError) as exc:
        raise ProtocolError(f"malformed number in a message ({exc})") from exc


def _list(value: Any) -> list[Any]:
    if type(value) is not list:
        raise ProtocolError("expected a list in a message")
    return value
