"""The feedback page: nothing a student wrote runs in it, and it stays small and quick to make."""

from __future__ import annotations

import html
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml

from autograder import feedback
from autograder.layout import COURSE_ROOT
from autograder.samples import release_notebook

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


# --- a page that stands alone ----------------------------------------------------------------------

STUDENT = "340934"
FORMULA = r"Y_{i,j} = \sum_{a,b} X_{i+a,j+b} K_{a,b}"
# every address a page may hold: the published book (https), embedded images (data:), its own anchors
_REFERENCE = re.compile(r"""(?:\bsrc|\bhref)\s*=\s*["']?([^"'\s>]*)|url\(\s*["']?([^"')\s]*)""")


@pytest.fixture(scope="module")
def write(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``write(nb, path, course_root=..., student_name=...)``: score ``nb`` as the grader does, write its page."""
    from autograder import scoring
    from autograder.gradebook import install
    from autograder.grader import MAX_CELL_CHARS, setup_assignment
    from autograder.layout import COURSE_ROOT

    install()
    out = tmp_path_factory.mktemp("graded")
    assignment = setup_assignment("corr2d", course_root=COURSE_ROOT, out=out)

    def write_page(nb: nbformat.NotebookNode, path: Path, *, course_root: Path, student_name: str = "") -> Path:
        marks = scoring.mark(nb, max_answer_chars=MAX_CELL_CHARS)
        page = feedback.render_page(
            nb,
            marks,
            release_cells=assignment.release_cells,
            notebook=assignment.notebook_name,
            assignment=assignment.name,
            max_score=assignment.max_score,
            links=feedback.BookLinks.of_course(assignment.name, course_root),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(feedback.name_page(page, STUDENT, student_name), encoding="utf-8")
        return path

    return write_page


def course(tmp_path: Path, config: dict[str, Any]) -> Path:
    """A course root with the book's table of contents and ``config`` as its ``_config.yml``."""
    root = tmp_path / "course"
    root.mkdir()
    shutil.copy(COURSE_ROOT / "_toc.yml", root / "_toc.yml")
    (root / "book").mkdir()
    for chapter in (COURSE_ROOT / "book").glob("*.md"):  # their titles: the notebooks name chapters by them
        shutil.copy(chapter, root / "book" / chapter.name)
    (root / "_config.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return root


def with_markdown(text: str) -> nbformat.NotebookNode:
    """The released corr2d notebook with a markdown cell of the student's after its first cell."""
    nb = release_notebook("corr2d")
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(text))
    return nb


def test_a_page_moved_alone_shows_its_math_and_loads_nothing(write: Callable[..., Path], tmp_path: Path) -> None:
    root = course(tmp_path, {"title": "t", "html": {"baseurl": "https://course.example.org/conv/"}})
    nb = with_markdown(f"The output is\n\n$${FORMULA}$$\n\nof shape $(h - k_h + 1) \\times w$.")
    written = write(nb, tmp_path / "graded" / "feedback" / STUDENT / "corr2d.html", course_root=root)
    assert [p.name for p in (tmp_path / "graded").rglob("*") if p.is_file()] == ["corr2d.html"]  # nothing beside it
    alone = shutil.move(written, tmp_path / "inbox.html")
    page = Path(alone).read_text(encoding="utf-8")
    assert '<math display="block"><mrow><msub><mi>Y</mi>' in page
    assert "<msub><mi>k</mi><mi>h</mi></msub>" in page and "<mo>×</mo>" in page
    assert FORMULA not in page and "k_h" not in page  # converted, not left as TeX for a script to typeset
    assert "<script" not in page.lower() and "mathjax/" not in page.lower()
    for match in _REFERENCE.finditer(page):
        address = match.group(1) or match.group(2)
        assert address.startswith(("https://", "data:", "#")), f"the page refers to {address!r}"


@pytest.mark.parametrize(
    "tex",
    [
        r"\text{<script>alert(1)</script>}",  # latex2mathml keeps it as markup
        r"\unknowncommand x",  # latex2mathml writes it as text
        r"\frac",
        r"\begin{aligned} a &= b \end{aligned}",  # a bare & in its output
        "{" * 3000 + "x" + "}" * 3000,
    ],
)
def test_math_that_cannot_be_converted_is_shown_as_tex(tex: str) -> None:
    assert feedback.mathml(tex, display=False) is None
    shown = feedback.math_html(tex, display=True, budget=[feedback.MAX_MATH])
    assert shown == f'<code class="tex">{html.escape("$$" + tex + "$$")}</code>'


def test_converted_math_keeps_no_link_or_style_of_the_student() -> None:
    shown = feedback.mathml(r"\href{javascript:alert(1)}{x} + \style{position:fixed}{y} < z", display=False)
    assert shown is not None and shown.startswith('<math display="inline">')
    assert "<mi>x</mi>" in shown and "<mi>y</mi>" in shown and "<mo>&lt;</mo>" in shown
    assert "href" not in shown and "javascript" not in shown and "style" not in shown


def test_math_past_the_page_budget_is_shown_as_tex() -> None:
    budget = [10]
    assert feedback.math_html("x^2", display=False, budget=budget).startswith('<math display="inline">')
    assert feedback.math_html("y_1 + y_2", display=False, budget=budget) == '<code class="tex">$y_1 + y_2$</code>'
    assert feedback.math_html("z", display=False, budget=budget) == '<code class="tex">$z$</code>'


def test_markdown_math_cannot_carry_script_into_the_page(write: Callable[..., Path], tmp_path: Path) -> None:
    nb = with_markdown(
        r"$\text{<script>alert(1)</script>}$ and $$\href{javascript:alert(2)}{x}$$ <script>alert(3)</script>"
    )
    page = write(nb, tmp_path / "page.html", course_root=course(tmp_path, {"title": "t"})).read_text()
    assert "<script" not in page.lower() and 'href="javascript' not in page
    assert r'<code class="tex">$\text{&lt;script&gt;alert(1)&lt;/script&gt;}$</code>' in page
    assert "alert(3)" in page  # the raw HTML is shown as text


@pytest.mark.parametrize(
    ("link", "url"),
    [
        ("../../book/images.md", "https://course.example.org/conv/book/images.html"),
        (
            "../../book/images.md#a-convolutional-layer",
            "https://course.example.org/conv/book/images.html#a-convolutional-layer",
        ),
        ("../matmul_conv/matmul_conv.ipynb", "https://course.example.org/conv/exercises/matmul_conv/matmul_conv.html"),
        ("../../README.md", None),  # not a page of the book
        ("data.csv", None),
        ("../../../../etc/passwd", None),
        ("/book/images.md", None),
        ("https://pytorch.org/docs", "https://pytorch.org/docs"),
        ("#part-a", "#part-a"),
    ],
)
def test_links_lead_to_the_published_book_or_nowhere(tmp_path: Path, link: str, url: str | None) -> None:
    root = course(tmp_path, {"title": "t", "html": {"baseurl": "https://course.example.org/conv"}})
    assert feedback.BookLinks.of_course("corr2d", root).url(link) == url


def test_the_read_first_link_uses_the_configured_book(write: Callable[..., Path], tmp_path: Path) -> None:
    root = course(tmp_path, {"title": "t", "html": {"baseurl": "https://course.example.org/conv/"}})
    page = write(release_notebook("corr2d"), tmp_path / "page.html", course_root=root).read_text()
    # the notebook names its chapter in italics (a relative link would be dead in a downloaded notebook)
    assert '<em><a href="https://course.example.org/conv/book/images.html">Cross-correlation on images</a></em>' in page
    assert 'href="../' not in page


@pytest.mark.parametrize("config", [{"title": "t"}, {"title": "t", "html": {"baseurl": ""}}, {"html": None}])
def test_without_a_book_address_links_into_the_book_are_text(
    write: Callable[..., Path], tmp_path: Path, config: dict[str, Any]
) -> None:
    page = write(release_notebook("corr2d"), tmp_path / "page.html", course_root=course(tmp_path, config)).read_text()
    assert "<strong>Read first:</strong> the chapter <em>Cross-correlation on images</em> of the course book." in page
    assert "book/images" not in page


def test_the_page_names_the_student(write: Callable[..., Path], tmp_path: Path) -> None:
    root = course(tmp_path, {"title": "t"})
    page = write(
        release_notebook("corr2d"), tmp_path / "p.html", course_root=root, student_name="Zoë  <O'Brien>"
    ).read_text()
    assert f'<p class="student">Feedback for <strong>Zoë &lt;O&#x27;Brien&gt;</strong> (student {STUDENT})</p>' in page
    assert f"<title>corr2d: Feedback for Zoë &lt;O&#x27;Brien&gt; (student {STUDENT})</title>" in page
