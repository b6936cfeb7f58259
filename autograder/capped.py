"""A text stream with a size cap: what a cell prints, kept up to a budget. Used on both sides of the boundary
(each process has its own copy: the trusted side never calls into the jailed side's code on its data)."""

from __future__ import annotations

import io


class CappedStream(io.TextIOBase):
    """A text stream that keeps at most ``budget`` characters (shared by stdout and stderr)."""

    def __init__(self, name: str, budget: list[int]) -> None:
        self.name = name
        self._budget = budget
        self._parts: list[str] = []
        self.dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            text = str(text)
        room = self._budget[0]
        if room > 0:
            self._parts.append(text[:room])
            self._budget[0] = room - min(room, len(text))
        self.dropped += max(0, len(text) - room)
        return len(text)

    def flush(self) -> None:
        return None

    def isatty(self) -> bool:
        return False

    def getvalue(self) -> str:
        text = "".join(self._parts)
        if self.dropped:
            text += f"\n[output truncated: {self.dropped} more characters were printed]\n"
        return text
