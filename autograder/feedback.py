"""Per-submission feedback: nbgrader's feedback page, safe to open, and whole on its own.

The page shows the student's notebook with the points of each test cell.
Test cells show their released source (hidden tests removed) and, when they
fail, only the failure message. Nothing a student wrote can run in the page:
raw HTML in markdown is shown as text (mistune's escaping, so a ``<script>``
or an ``onerror=`` stays text), links and images keep only safe URLs (no
``javascript:``), outputs are escaped text; and markdown is rendered for at
most :data:`MAX_MARKDOWN` characters per page (the rest is replaced by a note),
since some markdown costs the parser time that grows faster than its length,
with at most :data:`MAX_ATTACHMENTS` bytes of attached images, and at most
:data:`MAX_CODE` characters of code.

A page needs nothing beside it, so that it can be sent alone (an LMS's
feedback upload, an e-mail): math in markdown is converted to MathML when the
page is written (no script, no fonts, no network), TeX that cannot be
converted is shown as TeX; links into the book point at the published book
(``html.baseurl`` of the course's ``_config.yml``) or, without one, are
reduced to their text; the student's name is on the page. The ``In [N]``
prompts of the code cells are the labels that failure messages use to say
where in the student's code a call failed.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import html
import json
import logging
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from nbformat import NotebookNode
from nbgrader import utils

from .layout import COURSE_ROOT, toc_docnames
from .prepare import PARSING
from .scoring import Marks, annotate

log = logging.getLogger(__name__)

# nbconvert's template loads MathJax from a CDN; the page converts its math itself instead
_MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)
# bootstrap's icon font, which the page never uses, from a folder beside the page
_GLYPHICONS = re.compile(r"@font-face\s*\{\s*font-family:\s*'Glyphicons Halflings'[^}]*\}")
_TOC_ENTRY = re.compile(r'<a href="#([^"]+)">Test cell</a>')
_TITLE = re.compile(r'^\s*(?:[rRuU]?"""|\'\'\')\s*(.+?)\s*(?:"""|\'\'\')?\s*$')

MAX_MARKDOWN = 100_000  # characters of markdown rendered per page
MAX_CODE = 200_000  # characters of code shown per page (highlighted, each becomes ten times as much HTML)
MAX_ATTACHMENTS = 2**20  # bytes of images attached to markdown cells, embedded in the page
MAX_MATH = 20_000  # characters of TeX converted to MathML per page (each becomes up to ten times as much)
MAX_TEX = 2_000  # characters of one formula converted; a longer one is shown as TeX
MAX_NAME = 200  # characters of the student's name shown

HIDDEN_OUTPUT_NOTE = (
    "*Feedback.* Points are shown on each test cell. What your code printed while the "
    "test cells ran is not shown, and neither are the hidden tests: only their messages."
)

_exporter: Any = None
# one exporter for the process, which registers per-page filters on itself; Jinja compiles Python
_RENDERING = PARSING

# What a page may hold of latex2mathml's output: presentation MathML only. Its output is not safe as
# it comes (``\text{<script>}`` stays markup, ``\href`` and ``\style`` become attributes), so it is
# parsed and written anew from these lists; any other element makes the formula unconvertible, any
# other attribute is dropped.
_MATHML = "{http://www.w3.org/1998/Math/MathML}"
_MATHML_ELEMENTS = frozenset(
    "math menclose merror mfrac mi mmultiscripts mn mo mover mpadded mphantom mprescripts mroot mrow ms "
    "mspace msqrt mstyle msub msubsup msup mtable mtd mtext mtr munder munderover none".split()
)
_MATHML_ATTRIBUTES = frozenset(
    "accent accentunder align columnalign columnlines columnspacing columnspan depth displaystyle fence "
    "form frame height largeop linebreak linethickness lspace mathcolor mathsize mathvariant maxsize "
    "minsize movablelimits notation rowalign rowlines rowspacing rowspan rspace scriptlevel separator "
    "stretchy symmetric width".split()
)
_MAX_MATHML_DEPTH = 100
_TEX_COMMAND = re.compile(r"\\[A-Za-z]")  # latex2mathml writes a command it does not know as text


def mathml(tex: str, *, display: bool) -> str | None:
    """Presentation MathML for the TeX formula ``tex`` (without its ``$`` delimiters), or None.

    None when latex2mathml cannot read the formula, when the formula is longer
    than :data:`MAX_TEX` characters, nests deeper than the page shows, or uses
    a command that has no MathML (such as ``\\unknown``, or ``\\text{<b>}``).
    The result holds only the elements and attributes of presentation MathML
    listed above, its text escaped: it can be put into a page as it is.
    """
    from defusedxml import ElementTree
    from latex2mathml.converter import convert

    if len(tex) > MAX_TEX:
        return None
    try:
        root = ElementTree.fromstring(convert(tex, display="block" if display else "inline"))
    except Exception:  # noqa: BLE001  (latex2mathml raises errors of its own, IndexError, RecursionError...)
        return None
    parts: list[str] = []
    return "".join(parts) if _write_mathml(root, parts, 0) else None


def _write_mathml(element: Any, parts: list[str], depth: int) -> bool:
    """Append ``element`` as safe MathML to ``parts``; False if it holds anything not listed."""
    tag = element.tag if isinstance(element.tag, str) else ""
    name = tag.removeprefix(_MATHML)
    if depth > _MAX_MATHML_DEPTH or name == tag or name not in _MATHML_ELEMENTS or (depth == 0) != (name == "math"):
        return False
    text = element.text or ""
    if _TEX_COMMAND.search(text):
        return False
    attributes = "".join(
        f' {key}="{html.escape(value, quote=True)}"'
        for key, value in sorted(element.attrib.items())
        if key in _MATHML_ATTRIBUTES or (depth == 0 and key == "display")
    )
    parts.append(f"<{name}{attributes}>{html.escape(text, quote=False)}")
    for child in element:
        if not _write_mathml(child, parts, depth + 1):
            return False
        tail = child.tail or ""
        if _TEX_COMMAND.search(tail):
            return False
        parts.append(html.escape(tail, quote=False))
    parts.append(f"</{name}>")
    return True


def math_html(tex: str, *, display: bool, budget: list[int]) -> str:
    """A formula as the page shows it: MathML, or the TeX as text in ``<code>`` if it cannot be converted.

    ``budget`` holds the characters of TeX the page may still convert
    (:data:`MAX_MATH` per page); formulas past it are shown as TeX.
    """
    converted = mathml(tex, display=display) if len(tex) <= budget[0] else None
    budget[0] -= len(tex)
    if converted is not None:
        return converted
    delimiter = "$$" if display else "$"
    return f'<code class="tex">{html.escape(delimiter + tex + delimiter)}</code>'


@dataclass(frozen=True)
class BookLinks:
    """Where links of a notebook lead once its page is opened alone, far from the course's folder.

    ``base_url`` is the published book (``https://.../``), or '' when the
    course does not say where it is published; ``pages`` are the documents of
    the book (``book/images``), and ``notebook`` the document of the
    notebook the links are written in (``exercises/corr2d/corr2d``).
    """

    base_url: str
    pages: frozenset[str]
    notebook: str
    chapters: tuple[tuple[str, str], ...] = ()  # (title, document) of each chapter of the book

    def chapter_url(self, title: str) -> str | None:
        """The published address of the chapter called ``title`` (the notebooks name their
        chapter in words, ``*Cross-correlation on images*``), or None."""
        if not self.base_url:
            return None
        for name, page in self.chapters:
            if name == title:
                return f"{self.base_url}{page}.html"
        return None

    @classmethod
    def of_course(cls, assignment: str, course_root: Path = COURSE_ROOT) -> BookLinks:
        """The links of ``assignment``'s notebook in the course at ``course_root``.

        The book's address is ``html.baseurl`` in ``_config.yml`` (one value, the
        one Jupyter Book itself uses); its pages are those ``_toc.yml`` lists.
        A missing or empty ``baseurl``, or one that is not an ``http(s)``
        address, leaves links into the book out (a warning for the latter).
        """
        base, pages, chapters = _book_of(course_root.resolve(), _book_stamp(course_root))
        return cls(base, pages, f"exercises/{assignment}/{assignment}", chapters)

    def url(self, link: str) -> str | None:
        """Where ``link`` should point from a page opened anywhere, or None if it leads nowhere there.

        Addresses with a scheme (``https:``) and anchors in the page stay as
        they are; a relative link to a page of the book (``../../book/images.md#x``)
        becomes its published address (``<base_url>book/images.html#x``);
        any other relative link, or any link into the book without a
        ``base_url``, is None.
        """
        parts = urlsplit(link)
        if parts.scheme or parts.netloc or not parts.path:
            return link
        if not self.base_url or parts.path.startswith("/"):
            return None
        path = posixpath.normpath(posixpath.join(posixpath.dirname(self.notebook), parts.path))
        page = re.sub(r"\.(md|ipynb|html)$", "", path)
        if page not in self.pages:
            return None
        return f"{self.base_url}{page}.html" + (f"#{parts.fragment}" if parts.fragment else "")


def _book_stamp(course_root: Path) -> tuple[tuple[str, int, int], ...]:
    """What :func:`_book_of` reads, as (path, modification time, size): a changed book is read again."""
    files = [course_root / "_config.yml", course_root / "_toc.yml", *sorted((course_root / "book").rglob("*.md"))]
    stamp = []
    for path in files:
        with contextlib.suppress(OSError):
            info = path.stat()
            stamp.append((str(path), info.st_mtime_ns, info.st_size))
    return tuple(stamp)


@functools.lru_cache(maxsize=8)
def _book_of(
    course_root: Path, stamp: tuple[tuple[str, int, int], ...]
) -> tuple[str, frozenset[str], tuple[tuple[str, str], ...]]:
    """The published book's address, its documents and its chapters' (title, document), read once per ``stamp``."""
    import yaml

    config_file = course_root / "_config.yml"
    config = yaml.safe_load(config_file.read_text(encoding="utf-8")) if config_file.is_file() else None
    html_config = config.get("html") if isinstance(config, dict) else None
    base = html_config.get("baseurl") if isinstance(html_config, dict) else None
    base = base.strip() if isinstance(base, str) else ""
    if base and urlsplit(base).scheme not in ("http", "https"):
        log.warning("html.baseurl in %s is not an http(s) address: feedback pages link to no book", config_file)
        base = ""
    toc_file = course_root / "_toc.yml"
    pages = frozenset(toc_docnames(toc_file)) if toc_file.is_file() else frozenset()
    chapters = []
    for page in sorted(pages):
        source = course_root / f"{page}.md"
        if page.startswith("book/") and source.is_file():
            heading = next(
                (line[2:].strip() for line in source.read_text(encoding="utf-8").splitlines() if line.startswith("# ")),
                "",
            )
            if heading:
                chapters.append((heading, page))
    return (base.rstrip("/") + "/" if base else ""), pages, tuple(chapters)


NO_BOOK = BookLinks("", frozenset(), "")  # links into a book nobody published: their text only


def _exporter_class() -> Any:
    from jinja2 import pass_context as contextfilter
    from nbconvert.exporters import HTMLExporter, TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.markdown_mistune import InvalidNotebook, IPythonRenderer, MarkdownWithMath
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class EscapingRenderer(IPythonRenderer):
        """Markdown to HTML with every piece of raw HTML shown as text, and unsafe URLs dropped.

        Math becomes MathML (:func:`math_html`, within the page's ``budget``);
        links go where :meth:`BookLinks.url` says, or are reduced to their text.
        """

        def __init__(self, *, links: BookLinks, budget: list[int], **kw: Any) -> None:
            super().__init__(**kw)
            self.links, self.budget = links, budget

        def block_mermaidjs(self, code: str) -> str:
            return f"<pre><code>{html.escape(code)}</code></pre>"

        # The TeX arrives as SanitizeHTML left it, with <, > and & escaped: the formula is the unescaped text.
        def inline_math(self, body: str) -> str:
            return math_html(html.unescape(body), display=False, budget=self.budget)

        def block_math(self, body: str) -> str:
            return math_html(html.unescape(body), display=True, budget=self.budget)

        def latex_environment(self, name: str, body: str) -> str:
            tex = html.unescape(f"\\begin{{{name}}}{body}\\end{{{name}}}")
            return math_html(tex, display=True, budget=self.budget)

        def link(self, text: str, url: str, title: str | None = None) -> str:
            target = self.links.url(url)
            return text if target is None else super().link(text, target, title)

        def emphasis(self, text: str) -> str:
            """A chapter named in italics links to the published chapter, where there is one."""
            target = self.links.chapter_url(html.unescape(text))
            return super().emphasis(text if target is None else super().link(text, target))

    class FeedbackExporter(HTMLExporter):
        """nbconvert's HTML exporter without its final BeautifulSoup pass, with markdown escaped.

        That pass (alt texts, tab indices) re-parses the whole page, inline CSS
        included, and costs more than everything else in grading a notebook.
        nbgrader's feedback template renders markdown with raw HTML let through
        and no sanitizer (nbconvert's, bleach, takes quadratic time on nested
        tags), then through ``strip_files_prefix``, whose regular expression takes
        quadratic time on ``[[[[...``. Here raw HTML in markdown is escaped, and
        ``files/`` links (a Jupyter server's) are left as they are.
        """

        @contextfilter
        def markdown2html(self, context: Any, source: str) -> str:
            cell = context.get("cell", {})
            page = context.get("resources", {})
            links, budget = page.get("book_links", NO_BOOK), page.get("math_budget", [MAX_MATH])
            # the released cells are on every page: their HTML is remembered, with the math budget they spent
            # (a cell's formulas spend at most its length, so with that much left its HTML does not depend on it)
            key = (links, source) if not cell.get("attachments") and budget[0] >= len(source) else None
            if key is not None and key in _RENDERED:
                text, spent = _RENDERED[key]
                budget[0] -= spent
                return text
            before = budget[0]
            text = self._markdown2html(cell, links, budget, source)
            if key is not None and len(source) <= MAX_REMEMBERED_CODE:
                if len(_RENDERED) >= MAX_HIGHLIGHTED:
                    _RENDERED.clear()
                _RENDERED[key] = (text, before - budget[0])
            return text

        def _markdown2html(self, cell: Any, links: BookLinks, budget: list[int], source: str) -> str:
            renderer = EscapingRenderer(
                links=links,
                budget=budget,
                escape=True,
                allow_harmful_protocols=None,  # mistune's default: no javascript:, vbscript:, file:, data: but images
                attachments=cell.get("attachments", {}),
                anchor_link_text=self.anchor_link_text,
                exclude_anchor_links=self.exclude_anchor_links,
            )
            try:
                return MarkdownWithMath(renderer=renderer).render(source)
            except InvalidNotebook:  # an image names an attachment the cell does not have
                return f"<pre>{html.escape(source)}</pre>"

        def default_filters(self) -> Any:
            for name, function in super().default_filters():
                yield name, (lambda text: text) if name == "strip_files_prefix" else function

        def from_notebook_node(self, nb: NotebookNode, resources: Any = None, **kw: Any) -> Any:
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            highlight_code = self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            highlight_code = _Remembered(highlight_code, lexer)
            resources = self._init_resources(resources)
            resources["math_budget"] = [MAX_MATH]  # one budget for all the page's markdown
            data_filter = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources)
            self.register_filter("highlight_code", highlight_code)
            self.register_filter("filter_data_type", data_filter)
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    return FeedbackExporter


_HIGHLIGHTED: dict[tuple[str | None, ...], str] = {}
_RENDERED: dict[tuple[BookLinks, str], tuple[str, int]] = {}  # markdown -> (HTML, math budget spent)
MAX_HIGHLIGHTED = 4096  # cells remembered, highlighted or rendered (most cells are the same on every page of a class)
MAX_REMEMBERED_CODE = 20_000  # characters of a cell that is remembered once highlighted or rendered


class _Remembered:
    """Code highlighting that remembers what it highlighted: the released cells are on every page."""

    def __init__(self, highlight: Any, lexer: str | None) -> None:
        self.highlight, self.lexer = highlight, lexer

    def __call__(self, source: str, language: str | None = None, metadata: Any = None) -> str:
        if len(source) > MAX_REMEMBERED_CODE:
            return self.highlight(source, language, metadata)
        magics = metadata.get("magics_language") if isinstance(metadata, dict) else None
        key = (self.lexer, language, str(magics) if magics is not None else None, source)
        page = _HIGHLIGHTED.get(key)
        if page is None:
            page = self.highlight(source, language, metadata)
            if len(_HIGHLIGHTED) >= MAX_HIGHLIGHTED:
                _HIGHLIGHTED.clear()
            _HIGHLIGHTED[key] = page
        return page


def _feedback_exporter() -> Any:
    """nbgrader's feedback HTML exporter (its own template), built once."""
    global _exporter
    if _exporter is None:
        import os

        import nbgrader
        from traitlets.config import Config

        base = os.path.dirname(nbgrader.__file__)
        config = Config()
        config.HTMLExporter.template_name = "feedback"
        config.HTMLExporter.sanitize_html = True
        config.HTMLExporter.optimistic_validation = True  # the notebook is validated once, not after each step
        config.HTMLExporter.extra_template_basedirs = [
            os.path.join(base, "server_extensions", "formgrader", "templates")
        ]
        config.HTMLExporter.extra_template_paths = [
            os.path.join(base, "server_extensions", "formgrader", "static", "node_modules", "bootstrap", "dist", "css")
        ]
        _exporter = _exporter_class()(config=config)
    return _exporter


def feedback_notebook(nb: NotebookNode, release_cells: dict[str, NotebookNode]) -> NotebookNode:
    """A copy of the graded notebook fit to show the student.

    Test cells show their released source (hidden tests removed); error
    outputs of test cells show the failure message only, no traceback.
    """
    shown = copy.deepcopy(nb)
    from nbformat.v4 import new_markdown_cell

    shown.cells.insert(0, new_markdown_cell(HIDDEN_OUTPUT_NOTE))
    budget, code, images = MAX_MARKDOWN, MAX_CODE, MAX_ATTACHMENTS
    for cell in shown.cells:
        if cell.cell_type == "markdown":
            if len(cell.source) > budget:
                cell.source = f"*(A markdown cell of {len(cell.source)} characters: too long to show here.)*"
            budget -= len(cell.source)
        elif cell.cell_type == "code":
            if len(cell.source) > code:
                cell.source = f"# (a code cell of {len(cell.source)} characters: too long to show here)"
            code -= len(cell.source)
        if "attachments" in cell:
            size = len(json.dumps(cell.attachments))
            if size > images:
                cell.attachments = {}  # the cell is then shown as text
            images -= min(size, images)
        meta = cell.metadata.get("nbgrader", {})
        gid = meta.get("grade_id")
        if gid in release_cells and utils.is_locked(release_cells[gid]):
            cell.source = release_cells[gid].source
        if cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell):
            for output in cell.outputs:
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
    return shown


def cell_title(source: str) -> str:
    """The first line of a test cell's docstring (``Part A (1 point): ...``), or ''."""
    first = source.strip().splitlines()[0] if source.strip() else ""
    match = _TITLE.match(first)
    return match.group(1) if match else ""


def _student_line(student_id: str, student_name: str) -> str:
    """``Feedback for <b>Alice Smith</b> (student 340934)``, as HTML; '' when neither is known."""
    name = " ".join(student_name.split())[:MAX_NAME]
    sid = str(student_id or "")[:MAX_NAME]
    if name and sid:
        return f"Feedback for <strong>{html.escape(name)}</strong> (student {html.escape(sid)})"
    if name or sid:
        return f"Feedback for <strong>{html.escape(name or sid)}</strong>"
    return ""


def _finish_page(page: str, release_cells: dict[str, NotebookNode]) -> str:
    """A page that needs nothing beside it, each test cell named in the contents."""
    page = _MATHJAX.sub("", page, count=1)
    page = _GLYPHICONS.sub("", page, count=1)

    def name(match: re.Match[str]) -> str:
        gid = html.unescape(match.group(1))
        cell = release_cells.get(gid)
        title = cell_title(cell.source) if cell is not None else ""
        label = f"{gid}: {title}" if title else gid
        return f'<a href="#{match.group(1)}">{html.escape(label)}</a>'

    return _TOC_ENTRY.sub(name, page)


def render_page(
    nb: NotebookNode,
    marks: Marks,
    *,
    release_cells: dict[str, NotebookNode],
    notebook: str,
    assignment: str,
    max_score: float,
    links: BookLinks = NO_BOOK,
) -> str:
    """nbgrader-style feedback HTML for ``nb`` scored with ``marks``: points per cell, no hidden tests.

    The page stands alone (see the module's docstring) but names no student
    (:func:`name_page` does): it can be rendered wherever the notebook ran.
    Links into the book use ``links`` (:meth:`BookLinks.of_course`).
    """
    with _RENDERING:  # the whole page: its first rendering imports and compiles (see _RENDERING)
        shown = feedback_notebook(nb, release_cells)
        res: dict[str, Any] = {"nbgrader": {"notebook": notebook, "assignment": assignment}}
        # nbgrader's feedback template ignores nbconvert's sanitize_html: sanitize the cells themselves
        shown, res = _sanitizer().preprocess(shown, res)
        annotate(shown, marks)
        res["nbgrader"].update(score=marks.score, max_score=max_score, late_penalty=0)
        res["inlining"] = {"css": _page_css()}
        res["book_links"] = links
        page, _ = _feedback_exporter().from_notebook_node(shown, resources=res)
        return _finish_page(page, release_cells)


@functools.cache
def _sanitizer() -> Any:
    """nbconvert's ``SanitizeHTML``, built once, with one bleach ``Cleaner`` for every page (used under _RENDERING).

    nbconvert calls ``bleach.clean`` for each HTML output and markdown cell,
    and ``bleach.clean`` builds a new ``Cleaner`` (an html5lib parser and its
    phases) each time: most of the sanitizing's cost. The same settings, the
    same cleaning; a ``Cleaner`` is not thread-safe, hence the lock.
    """
    from bleach.sanitizer import Cleaner
    from nbconvert.preprocessors import sanitize
    from nbconvert.preprocessors.sanitize import SanitizeHTML

    class OneCleaner(SanitizeHTML):
        _cleaner: Any = None

        def sanitize_html_tags(self, html_str: str) -> str:
            if self._cleaner is None:  # nbconvert's arguments to bleach.clean (SanitizeHTML.sanitize_html_tags)
                kwargs: dict[str, Any] = {
                    "tags": self.tags,
                    "attributes": self.attributes,
                    "strip": self.strip,
                    "strip_comments": self.strip_comments,
                }
                if sanitize._USE_BLEACH_CSS_SANITIZER:
                    kwargs["css_sanitizer"] = sanitize.CSSSanitizer(allowed_css_properties=self.styles)
                elif sanitize._USE_BLEACH_STYLES:
                    kwargs["styles"] = self.styles
                self._cleaner = Cleaner(**kwargs)
            return self._cleaner.clean(html_str)

    return OneCleaner()


@functools.cache
def _page_css() -> tuple[str, ...]:
    """The page's inline CSS, the code highlighting's (nbconvert's own, without a user's custom.css), built once."""
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from pygments.formatters import HtmlFormatter

    header = CSSHTMLHeaderPreprocessor()
    return (HtmlFormatter(style=header.style).get_style_defs(header.highlight_class),)


def name_page(page: str, student_id: str, student_name: str = "") -> str:
    """``page`` with the student named at its top and in its title (see :func:`_student_line`)."""
    student = _student_line(student_id, student_name)
    if not student:
        return page
    page = page.replace("<h4>", f'<p class="student">{student}</p>\n<h4>', 1)
    title = re.sub(r"<[^>]*>", "", student)
    return re.sub(r"<title>(.*?)</title>", lambda m: f"<title>{m.group(1)}: {title}</title>", page, count=1)
