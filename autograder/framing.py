"""Messages between the grader's processes: one frame on a stream socket, bounded.

A message is::

    4 bytes   big-endian length of the header
    header    UTF-8 JSON object; ``"blobs": [n0, n1, ...]`` gives the lengths of
    blobs     raw byte strings that follow, in order (tensor contents)

Every read has a deadline and size caps, so a peer that sends half a message,
too much, or nothing at all cannot hang or flood the reader. What the headers
may hold is :mod:`autograder.wire`'s business; this module needs no torch (the
grader's own process imports it to talk to the sandbox).
"""

from __future__ import annotations

import json
import os
import select
import socket
import struct
import time
from typing import Any

MAX_HEADER = 4 * 2**20
MAX_BLOBS = 256 * 2**20


class ProtocolError(RuntimeError):
    """A peer sent something that is not a valid message, too much, or nothing in time."""


class PeerClosed(ProtocolError):
    """The peer closed its end (it exited or was killed)."""


class Deadline(ProtocolError):
    """No complete message arrived before the deadline."""


def send(sock: socket.socket, header: dict[str, Any], blobs: list[bytes] | None = None) -> None:
    """Send one message (blocking until written)."""
    blobs = blobs or []
    header = {**header, "blobs": [len(b) for b in blobs]}
    # a lone surrogate (sent by a peer as "\\ud800") could not be written to a page or a CSV: "?" instead
    data = json.dumps(header, allow_nan=False, ensure_ascii=False, separators=(",", ":")).encode(errors="replace")
    sock.sendall(struct.pack(">I", len(data)) + data)
    for blob in blobs:
        sock.sendall(blob)


def _read_exactly(sock: socket.socket, n: int, deadline: float | None, into: bytearray) -> None:
    while len(into) < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Deadline("no complete message in time")
            ready, _, _ = select.select([sock], [], [], left)
            if not ready:
                raise Deadline("no complete message in time")
        try:
            chunk = sock.recv(min(n - len(into), 1 << 20))
        except (ConnectionResetError, BrokenPipeError) as exc:
            raise PeerClosed("the other process closed the connection") from exc
        if not chunk:
            raise PeerClosed("the other process closed the connection")
        into += chunk


def receive(
    sock: socket.socket,
    *,
    deadline: float | None = None,
    max_header: int = MAX_HEADER,
    max_blobs: int = MAX_BLOBS,
) -> tuple[dict[str, Any], list[bytes]]:
    """Read one message; ``deadline`` is a ``time.monotonic()`` value (None: wait forever).

    Raises:
        Deadline: the message was not complete by the deadline.
        PeerClosed: the peer closed the connection.
        ProtocolError: the message is malformed or larger than the caps.
    """
    buf = bytearray()
    _read_exactly(sock, 4, deadline, buf)
    (length,) = struct.unpack(">I", bytes(buf))
    if length > max_header:
        raise ProtocolError(f"message header of {length} bytes is larger than the cap of {max_header}")
    buf = bytearray()
    _read_exactly(sock, length, deadline, buf)
    try:
        header = json.loads(bytes(buf))
    except (ValueError, RecursionError) as exc:  # not UTF-8, not JSON, nested too deeply, a 5000-digit int
        raise ProtocolError(f"message header is not JSON ({str(exc)[:200]})") from exc
    if not isinstance(header, dict):
        raise ProtocolError("message header is not an object")
    sizes = header.get("blobs", [])
    if not isinstance(sizes, list) or not all(type(n) is int and n >= 0 for n in sizes):
        raise ProtocolError("message blob sizes are malformed")
    if sum(sizes) > max_blobs:
        raise ProtocolError(f"message of {sum(sizes)} bytes is larger than the cap of {max_blobs}")
    blobs = []
    for n in sizes:
        buf = bytearray()
        _read_exactly(sock, n, deadline, buf)
        blobs.append(bytes(buf))
    return header, blobs


def send_fd(sock: socket.socket, fd: int, header: dict[str, Any]) -> None:
    """Send ``header`` with the file descriptor ``fd`` attached (SCM_RIGHTS)."""
    data = json.dumps(header).encode()
    socket.send_fds(sock, [struct.pack(">I", len(data)) + data], [fd])


def receive_fd(sock: socket.socket) -> tuple[dict[str, Any], int | None]:
    """Receive one message sent with :func:`send_fd` or :func:`send` (blocking; the descriptor, if one came).

    Reads exactly one message, however the stream cut it, and nothing of the next.

    Raises:
        PeerClosed: the other end closed the connection.
        ProtocolError: the message is longer than ``MAX_HEADER``.
    """
    data, fds, _, _ = socket.recv_fds(sock, 4, 4)  # a descriptor comes with the first byte of its message
    if not data:
        raise PeerClosed("the other process closed the connection")
    for extra in fds[1:]:
        os.close(extra)
    fd = fds[0] if fds else None
    try:
        head = bytearray(data)
        _read_exactly(sock, 4, None, head)
        (length,) = struct.unpack(">I", head)
        if length > MAX_HEADER:
            raise ProtocolError(f"a message of {length} bytes (at most {MAX_HEADER})")
        body = bytearray()
        _read_exactly(sock, length, None, body)
        header = json.loads(body)
    except BaseException:
        if fd is not None:
            os.close(fd)
        raise
    return header, fd
