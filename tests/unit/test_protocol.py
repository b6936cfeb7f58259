"""The wire format between the grader's processes: plain data in, plain data out, bounded."""

from __future__ import annotations

import socket
import struct
import threading
import time

import numpy
import pytest
import torch

from autograder.protocol import (
    Deadline,
    Decoder,
    Encoder,
    Handle,
    PeerClosed,
    ProtocolError,
    RemoteError,
    receive,
    send,
    tensor_from,
)


def roundtrip(value: object) -> object:
    enc = Encoder()
    data = enc.encode(value)
    return Decoder(enc.blobs).decode(data)


@pytest.mark.parametrize(
    "value",
    [None, True, 0, -(2**70), 1.5, float("inf"), "text", [1, [2, 3]], (1, (2,)), {"a": 1, 2: [3]}, torch.float64],
)
def test_plain_values_come_back_equal(value: object) -> None:
    got = roundtrip(value)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.int64, torch.bool])
def test_tensors_come_back_as_plain_copies(dtype: torch.dtype) -> None:
    t = (torch.arange(6.0).reshape(2, 3) - 2).to(dtype)
    got = roundtrip(t)
    assert type(got) is torch.Tensor and got.dtype == dtype and got.shape == (2, 3)
    assert torch.equal(got, t) and got.data_ptr() != t.data_ptr()


def test_requires_grad_and_empty_and_noncontiguous_tensors() -> None:
    t = torch.randn(3, 4, requires_grad=True)
    assert roundtrip(t).requires_grad
    assert roundtrip(torch.empty(0, 5)).shape == (0, 5)
    strided = torch.arange(12.0).reshape(3, 4).t()
    assert torch.equal(roundtrip(strided), strided)


def test_tensor_subclass_is_sent_as_a_plain_tensor() -> None:
    class Lying(torch.Tensor):
        def __eq__(self, other):  # type: ignore[override]
            return True

    got = roundtrip(torch.ones(2).as_subclass(Lying))
    assert type(got) is torch.Tensor


def test_numpy_scalars_keep_their_type() -> None:
    assert type(roundtrip(numpy.float64(2.5))) is numpy.float64


def test_objects_need_a_handle_or_are_refused() -> None:
    with pytest.raises(ProtocolError, match="cannot be sent"):
        Encoder().encode(object())
    enc = Encoder(lambda v: {"$handle": 7})
    assert enc.encode(object()) == {"$handle": 7}
    assert Encoder().encode(Handle(3, "x", False, False)) == {"$handle": 3}


def test_errors_are_data() -> None:
    error = RemoteError("ValueError", "bad", (("cell 2", 3, "x = 1"),))
    assert roundtrip(error) == error


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"$tensor": 0, "dtype": "float32", "shape": [2]}, "missing blob"),
        ({"$dtype": "object"}, "unknown dtype"),
        ({"$something": 1}, "unexpected object"),
        ({"$np": "object", "value": 1}, "unknown numpy dtype"),
    ],
)
def test_malformed_values_are_refused(data: dict, words: str) -> None:
    with pytest.raises(ProtocolError, match=words):
        Decoder([]).decode(data)


def test_tensor_sizes_must_match_their_shape() -> None:
    with pytest.raises(ProtocolError, match="cannot hold"):
        tensor_from(b"\0" * 12, "float32", [4])
    with pytest.raises(ProtocolError, match="shape"):
        tensor_from(b"", "float32", [-1])


def test_nesting_and_size_caps() -> None:
    deep: list = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(ProtocolError, match="deeply"):
        Encoder().encode(deep)
    with pytest.raises(ProtocolError, match="larger than"):
        Encoder(max_blob_bytes=100).encode(torch.zeros(1000))


def test_messages_cross_a_socket_with_blobs() -> None:
    a, b = socket.socketpair()
    enc = Encoder()
    payload = enc.encode({"x": torch.arange(5.0)})
    send(a, {"op": "call", "value": payload}, enc.blobs)
    header, blobs = receive(b, deadline=time.monotonic() + 5)
    assert torch.equal(Decoder(blobs).decode(header["value"])["x"], torch.arange(5.0))


def test_half_a_message_hits_the_deadline() -> None:
    a, b = socket.socketpair()
    a.sendall(struct.pack(">I", 100) + b'{"id": 1')
    with pytest.raises(Deadline):
        receive(b, deadline=time.monotonic() + 0.3)


def test_oversized_header_and_blobs_are_refused_before_reading() -> None:
    a, b = socket.socketpair()
    a.sendall(struct.pack(">I", 2**31))
    with pytest.raises(ProtocolError, match="larger than the cap"):
        receive(b, deadline=time.monotonic() + 1)
    a, b = socket.socketpair()
    send(a, {"x": 1}, [b"\0" * 1000])
    with pytest.raises(ProtocolError, match="larger than the cap"):
        receive(b, deadline=time.monotonic() + 1, max_blobs=10)


def test_garbage_and_closed_peers() -> None:
    a, b = socket.socketpair()
    a.sendall(struct.pack(">I", 3) + b"\xff\xfe\x00")
    with pytest.raises(ProtocolError, match="not JSON"):
        receive(b, deadline=time.monotonic() + 1)
    a, b = socket.socketpair()
    threading.Timer(0.1, a.close).start()
    with pytest.raises(PeerClosed):
        receive(b, deadline=time.monotonic() + 5)
