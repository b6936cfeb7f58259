"""The zygote's memory moved into huge pages: only whole, aligned huge pages of its anonymous memory are asked for."""

from __future__ import annotations

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
