"""Every limit of a grading run, as one type: declared once, from the command line to the jail.

The grader (trusted) builds a :class:`Limits` from the CLI's options; it
crosses to the test process as plain data (:meth:`Limits.to_wire`,
:meth:`Limits.from_wire`) and the jail applies the same fields. The CLI
takes its defaults from here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Sizes are bytes, times seconds."""

    cell_timeout: float = 30.0  # per cell
    notebook_timeout: float | None = None  # per notebook; None: ten cells' worth, at least 60
    memory: int = 4 * 2**30  # address space for the student's code (RLIMIT_AS above what the process maps)
    max_output: int = 20_000  # characters of output kept per cell
    max_feedback: int = 2 * 2**20  # bytes of outputs kept per submission
    tmpfs: int = 64 * 2**20  # size of each private tmpfs of the student process (/tmp, /dev/shm)
    max_processes: int = 64  # RLIMIT_NPROC, counted in the jail's own user namespace
    max_open_files: int = 256  # RLIMIT_NOFILE
    max_file_bytes: int = 64 * 2**20  # RLIMIT_FSIZE

    def __post_init__(self) -> None:
        """Raises ValueError for a limit that is not positive."""
        for f in fields(self):
            value = getattr(self, f.name)
            if (value is None and f.name == "notebook_timeout") or (value == 0 and f.name == "memory"):
                continue  # no notebook timeout of its own; no memory cap (only --unsandboxed, for trusted code)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ValueError(f"Limits.{f.name} must be a positive number, got {value!r}")

    @property
    def notebook_seconds(self) -> float:
        """The notebook timeout that applies (``notebook_timeout``, or its default)."""
        return self.notebook_timeout or max(60.0, 10 * self.cell_timeout)

    def to_wire(self) -> dict[str, Any]:
        """Plain data for the job header."""
        return asdict(self)

    @classmethod
    def from_wire(cls, data: Any) -> Limits:
        """The inverse of :meth:`to_wire`.

        Raises:
            ValueError: not the data of a Limits.
        """
        if not isinstance(data, dict) or set(data) != {f.name for f in fields(cls)}:
            raise ValueError("the job's limits are not a Limits")
        return cls(**data)
