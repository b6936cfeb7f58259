"""The zygote: its memory moved into huge pages (whole, aligned huge pages of its anonymous memory); one started ahead."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from autograder import zygote


def _anonymous() -> list[tuple[int, int]]:
    spans = []
    with open("/proc/self/maps", encoding="ascii") as maps:
        for line in maps:
            fields = line.split()
            if (len(fields) < 6 or fields[5] == "[heap]") and fields[1].startswith("rw"):
                start, end = (int(x, 16) for x in fields[0].split("-"))
                spans.append((start, end))
    return spans


def test_chunks_are_aligned_huge_pages_inside_anonymous_memory() -> None:
    big = bytearray(16 * zygote.HUGE)  # at least one mapping that holds whole huge pages
    chunks = zygote._collapsible()
    assert chunks, "a process with 32 MiB of anonymous memory has huge pages to collapse"
    spans = _anonymous()
    for start, length in chunks:
        assert start % zygote.HUGE == 0 and length % zygote.HUGE == 0 and 0 < length <= zygote.CHUNK
        assert any(a <= start and start + length <= b for a, b in spans), hex(start)
    del big


def test_collapsing_never_fails_the_zygote() -> None:
    pages = zygote.HugePages()
    pages.chunks = pages.chunks[:2] + [(0, zygote.HUGE)]  # an address nobody mapped: refused, quietly
    while pages.chunks:
        pages.step()


def test_a_zygote_started_ahead_is_adopted_by_the_sandbox_of_its_mode() -> None:
    """``python -m autograder grade`` starts its zygote before its own imports; the run's Sandbox takes that one."""
    from autograder import sandbox
    from autograder.limits import Limits

    sandbox.prestart(sandboxed=False)
    ahead = sandbox._ahead
    assert ahead is not None
    box = sandbox.Sandbox(sandboxed=False, limits=Limits())
    try:
        assert box._zygote is ahead and sandbox._ahead is None
        box.wait_ready()
        assert ahead.alive()
    finally:
        box.close()
    assert not ahead.alive()


def test_a_zygote_started_ahead_in_another_mode_is_stopped_not_used() -> None:
    from autograder import sandbox

    sandbox.prestart(sandboxed=True)
    ahead = sandbox._ahead
    assert ahead is not None and sandbox._adopt(sandboxed=False) is None
    assert not ahead.alive() and sandbox._ahead is None
    sandbox.prestart(sandboxed=False)
    unused = sandbox._ahead
    sandbox._discard_ahead()  # what the exit of a command that never graded does, at once, ready or not
    assert unused is not None and not unused.alive()


CHILDREN = """
import ctypes, os, subprocess, sys, time
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: whatever the command leaves becomes ours
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
time.sleep(0.3)
me = str(os.getpid())
left = []
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        continue
    if fields[1] == me and fields[0] != "Z":
        left.append(pid)
print(proc.returncode, len(left))
"""


def _left_behind(*command: str) -> list[str]:
    """Run ``command``; its exit status and how many of its processes outlived it (as "N" strings)."""
    out = subprocess.run(
        [sys.executable, "-c", CHILDREN, *command],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.split()


def test_a_zygote_started_ahead_never_outlives_its_command() -> None:
    """A command that exits while its zygote still imports torch stops it; so does an instructor's mistake (exit 2)."""
    started_and_gone = "from autograder.sandbox import prestart; prestart(sandboxed=False)"
    assert _left_behind(sys.executable, "-c", started_and_gone) == ["0", "0"]
    assert _left_behind(sys.executable, "-m", "autograder", "grade", "no_such_assignment", "/nonexistent") == ["2", "0"]
