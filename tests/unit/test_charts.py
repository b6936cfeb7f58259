"""The class report's bar charts: inline SVG, labels escaped, bars as long as their values."""

from __future__ import annotations

import re
from xml.etree import ElementTree

from autograder.charts import MAX_LABEL, bars_svg

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
