"""The class report's charts: bars as inline SVG (labels escaped, bars as long as their values), the histogram PNG."""

from __future__ import annotations

import io
import re
from xml.etree import ElementTree

import numpy as np
from PIL import Image

from autograder.charts import HIST_COLOUR, HIST_PLOT, HIST_SIZE, MAX_LABEL, bars_svg, histogram_counts, histogram_png

SVG = "{http://www.w3.org/2000/svg}"


def test_bars_are_well_formed_escaped_and_proportional() -> None:
    labels = ["test_corr2d", '<script>alert("x")</script>', "a" * (MAX_LABEL + 10)]
    svg = bars_svg(labels, [1.0, 0.25, 1.7], xlabel="pass rate (%) & more")
    root = ElementTree.fromstring(svg)  # parses: well-formed XML
    assert "<script" not in svg
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert '<script>alert("x")</script>' in texts  # shown as text, escaped in the markup
    assert "pass rate (%) & more" in texts
    assert "a" * (MAX_LABEL - 1) + "…" in texts
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect")]
    assert widths[0] > 0 and widths[1] == widths[0] / 4 and widths[2] == widths[0]  # values past 100 % are capped
    assert not re.search(r"(href|src)=", svg)


def test_no_bars_is_an_empty_chart() -> None:
    root = ElementTree.fromstring(bars_svg([], [], xlabel="x"))
    assert list(root.iter(f"{SVG}rect")) == []


def test_histogram_counts_are_numpys() -> None:
    """The bins of scores.png hold what numpy.histogram counts (the last bin closed, scores outside left out)."""
    rng = np.random.default_rng(0)
    for top, bins in ((10.0, 11), (15.0, 16), (4.0, 5), (37.5, 20)):
        scores = list(rng.uniform(-1, top + 1, 200)) + [0.0, top, top / 2]
        expected, _ = np.histogram(scores, bins=bins, range=(0, top))
        assert histogram_counts(scores, top, bins) == list(expected)


def test_histogram_png_draws_bars_as_tall_as_their_counts() -> None:
    """Three students at 0 and one at full marks: two bars, the first three times as tall; a real 600x350 PNG."""
    data = histogram_png([0.0, 0.0, 0.0, 10.0], top=10.0, bins=5, title="t", xlabel="score", ylabel="students")
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.size == HIST_SIZE
    left, _, right, _ = HIST_PLOT
    pixels = image.convert("RGB").load()

    def bar_height(value: float) -> int:
        x = round(left + (right - left) * value / 10.0)
        return sum(pixels[x, y] == HIST_COLOUR for y in range(HIST_SIZE[1]))

    first, middle, last = bar_height(1.0), bar_height(5.0), bar_height(9.0)
    assert middle == 0 and first > 0 and last > 0
    assert abs(first / last - 3) < 0.1  # whole pixels, and a white outline
    assert histogram_png([], top=1.0, bins=5, title="", xlabel="", ylabel="")[:8] == b"\x89PNG\r\n\x1a\n"
