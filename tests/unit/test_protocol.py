"""The wire format between the grader's processes: plain data in, plain data out, bounded."""

from __future__ import annotations

import json
import os
import socket
import struct
import threading
import time

import numpy
import pytest
import torch

from autograder.framing import Deadline, PeerClosed, ProtocolError, receive, send
from autograder.wire import Decoder, Encoder, Handle, RemoteError, tensor_from


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


@pytest.mark.parametrize(
    "data",
    [
        {"$dtype": ["float32"]},
        {"$float": ["nan"]},
        {"$bigint": "12x"},
        {"$np": "float32", "value": [1.0, 2.0]},
        {"$error": "ValueError", "message": [[["deep"]]]},
    ],
)
def test_only_strings_and_numbers_fill_the_tagged_fields(data: dict) -> None:
    with pytest.raises(ProtocolError):
        Decoder([]).decode(data)


def test_a_blob_makes_one_tensor_only() -> None:
    # a 4 MiB header naming one 64 MiB blob 80,000 times would otherwise build 5 TB of tensors
    ref = {"$tensor": 0, "dtype": "uint8", "shape": [1000]}
    with pytest.raises(ProtocolError, match="already used"):
        Decoder([b"\0" * 1000]).decode([ref, ref])


def test_an_empty_tensor_cannot_claim_a_huge_shape() -> None:
    # (10**9, 0) holds no element, but .tolist() in a test's message would build 10**9 lists
    with pytest.raises(ProtocolError, match="empty tensor"):
        tensor_from(b"", "float32", [10**9, 0])
    with pytest.raises(ProtocolError, match="empty tensor"):
        Encoder().encode(torch.empty((10**9, 0)))
    assert tensor_from(b"", "float32", [0, 5]).shape == (0, 5)


def test_tensors_of_dtypes_without_a_name_are_refused_when_sent() -> None:
    with pytest.raises(ProtocolError, match="cannot be sent"):
        Encoder().encode(torch.zeros(2).to(torch.float8_e4m3fn))


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
    for garbage in (b"\xff\xfe\x00", b"[" * 100_000 + b"]" * 100_000, b'{"id": ' + b"9" * 5000 + b"}"):
        a, b = socket.socketpair()
        a.sendall(struct.pack(">I", len(garbage)) + garbage)
        with pytest.raises(ProtocolError, match="not JSON"):  # not a RecursionError or ValueError
            receive(b, deadline=time.monotonic() + 1)
    a, b = socket.socketpair()
    threading.Timer(0.1, a.close).start()
    with pytest.raises(PeerClosed):
        receive(b, deadline=time.monotonic() + 5)


def test_lone_surrogates_are_not_passed_on() -> None:
    # "\\ud800" is valid JSON but no text: a feedback page or a CSV holding it cannot be written
    a, b = socket.socketpair()
    raw = b'{"text": "a\\ud800b"}'
    a.sendall(struct.pack(">I", len(raw)) + raw)
    header, _ = receive(b, deadline=time.monotonic() + 1)
    send(a, header)
    again, _ = receive(b, deadline=time.monotonic() + 1)
    assert again["text"] == "a?b"


def test_receive_fd_reads_one_message_whole_and_nothing_of_the_next(tmp_path) -> None:
    """The zygote's reader: a message cut by the stream is put together; the next one (with its descriptor) waits."""
    from autograder.framing import receive_fd, send_fd

    a, b = socket.socketpair()
    with a, b, open(tmp_path / "f", "w") as f:
        big = {"op": "compile", "sources": ["x = 1\n" * 20_000]}
        data = json.dumps(big).encode()
        frame = struct.pack(">I", len(data)) + data
        writer = threading.Thread(target=lambda: [a.sendall(frame[:5]), time.sleep(0.2), a.sendall(frame[5:])])
        writer.start()
        header, fd = receive_fd(b)
        writer.join()
        assert header == big and fd is None
        send(a, {"op": "compile", "sources": []})  # two messages queued: the second carries a descriptor
        send_fd(a, f.fileno(), {"op": "spawn", "id": 7})
        first, fd1 = receive_fd(b)
        second, fd2 = receive_fd(b)
        assert first["op"] == "compile" and fd1 is None
        assert second == {"op": "spawn", "id": 7} and fd2 is not None
        os.close(fd2)
        a.sendall(struct.pack(">I", 5 * 2**20))
        with pytest.raises(ProtocolError, match="at most"):
            receive_fd(b)
