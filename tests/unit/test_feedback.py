"""The feedback page: nothing a student wrote runs in it, and it stays small and quick to make."""

from __future__ import annotations

import time

import nbformat
import pytest

from autograder import feedback

RESOURCES = {"nbgrader": {"score": 0, "max_score": 12, "late_penalty": 0}}


def page(*cells: nbformat.NotebookNode) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    html, _ = feedback._feedback_exporter().from_notebook_node(feedback.feedback_notebook(nb, {}), resources=RESOURCES)
    return html


@pytest.mark.parametrize(
    "markdown",
    [
        '<script>alert("pwned")</script>',
        '<img src=x onerror=alert("pwned")>',
        '<iframe src="http://127.0.0.1/pwned"></iframe>',
        '<div style="position:fixed" onclick="alert(1)">x</div>',
        '[click](javascript:alert("pwned"))',
        "```mermaid\n</pre><script>alert('pwned')</script>\n```",
    ],
)
def test_markdown_cannot_run_script_in_the_page(markdown: str) -> None:
    html = page(nbformat.v4.new_markdown_cell(markdown))
    for tag in ("<script>alert", "<img src=x", "<iframe", "<div style", 'href="javascript:'):
        assert tag not in html


@pytest.mark.parametrize(
    "markdown",
    ["[" * 40_000 + "a" + "]" * 40_000, "<div>" * 15_000, "*a" * 40_000, "[a](" * 20_000],
)
def test_markdown_that_parsers_choke_on_renders_quickly(markdown: str) -> None:
    # nbgrader's template took minutes on these ("[[[[": a quadratic regex; nested tags: bleach)
    started = time.monotonic()
    page(nbformat.v4.new_markdown_cell(markdown))
    assert time.monotonic() - started < 20


def test_what_a_page_shows_is_capped() -> None:
    big_markdown = nbformat.v4.new_markdown_cell("x" * (feedback.MAX_MARKDOWN + 1))
    big_code = nbformat.v4.new_code_cell("x = 1\n" * feedback.MAX_CODE)
    image = nbformat.v4.new_markdown_cell("![x](attachment:x.png)")
    image.attachments = {"x.png": {"image/png": "A" * (feedback.MAX_ATTACHMENTS + 1)}}
    html = page(big_markdown, big_code, image)
    assert len(html) < 2**20
    assert "too long to show here" in html
