"""Per-submission feedback: nbgrader's feedback page, safe to open.

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
"""

from __future__ import annotations

import copy
import html
import json
import re
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

from nbformat import NotebookNode
from nbgrader import utils

# MathJax 3 (SVG output needs no font files) from the pinned django-static-mathjax package,
# written once beside the pages: math renders with no network.
MATHJAX = "tex-svg.js"
MATHJAX_CONFIG = (
    "<script>window.MathJax = {tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']], "
    "displayMath: [['$$', '$$'], ['\\\\[', '\\\\]']], processEscapes: true}, svg: {fontCache: 'global'}};</script>\n"
    '<script defer src="../mathjax/{name}"></script>'
)
_CDN_MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)
_TOC_ENTRY = re.compile(r'<a href="#([^"]+)">Test cell</a>')
_TITLE = re.compile(r'^\s*(?:[rRuU]?"""|\'\'\')\s*(.+?)\s*(?:"""|\'\'\')?\s*$')

MAX_MARKDOWN = 100_000  # characters of markdown rendered per page
MAX_CODE = 200_000  # characters of code shown per page (highlighted, each becomes ten times as much HTML)
MAX_ATTACHMENTS = 2**20  # bytes of images attached to markdown cells, embedded in the page

HIDDEN_OUTPUT_NOTE = (
    "*Feedback.* Points are shown on each test cell. What your code printed while the "
    "test cells ran is not shown, and neither are the hidden tests: only their messages."
)

_exporter: Any = None


def _exporter_class() -> Any:
    from jinja2 import pass_context as contextfilter
    from nbconvert.exporters import HTMLExporter, TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.markdown_mistune import InvalidNotebook, IPythonRenderer, MarkdownWithMath
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class EscapingRenderer(IPythonRenderer):
        """Markdown to HTML with every piece of raw HTML shown as text, and unsafe URLs dropped."""

        def block_mermaidjs(self, code: str) -> str:
            return f"<pre><code>{html.escape(code)}</code></pre>"

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
            renderer = EscapingRenderer(
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
            resources = self._init_resources(resources)
            data_filter = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources)
            self.register_filter("highlight_code", highlight_code)
            self.register_filter("filter_data_type", data_filter)
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    return FeedbackExporter


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


def write_mathjax(folder: Path) -> None:
    """Copy MathJax into ``folder/mathjax`` (the feedback folder), once per run.

    Only the one file: the TeX extensions that could make links or set styles
    (``\\href``, ``\\style``, loaded on first use) are not beside it, so they never load.
    """
    target = folder / "mathjax" / MATHJAX
    if target.is_file():
        return
    source = resources.files("mathjax") / "static" / "mathjax" / "es5" / MATHJAX
    target.parent.mkdir(parents=True, exist_ok=True)
    with resources.as_file(source) as path:
        shutil.copyfile(path, target)


def cell_title(source: str) -> str:
    """The first line of a test cell's docstring (``Part A (1 point): ...``), or ''."""
    first = source.strip().splitlines()[0] if source.strip() else ""
    match = _TITLE.match(first)
    return match.group(1) if match else ""


def _finish_page(page: str, release_cells: dict[str, NotebookNode]) -> str:
    """Local MathJax instead of the CDN; each test cell named in the table of contents."""
    page = _CDN_MATHJAX.sub(lambda m: MATHJAX_CONFIG.replace("{name}", MATHJAX), page, count=1)

    def name(match: re.Match[str]) -> str:
        gid = html.unescape(match.group(1))
        cell = release_cells.get(gid)
        title = cell_title(cell.source) if cell is not None else ""
        label = f"{gid}: {title}" if title else gid
        return f'<a href="#{match.group(1)}">{html.escape(label)}</a>'

    return _TOC_ENTRY.sub(name, page)


def write_feedback(
    nb: NotebookNode, *, release_cells: dict[str, NotebookNode], resources: dict[str, Any], path: Path
) -> Path:
    """Render nbgrader-style feedback HTML (points per cell, no hidden tests) to ``path``."""
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import GetGrades

    shown = feedback_notebook(nb, release_cells)
    res = copy.deepcopy(resources)
    res["config_dir"] = str(path.parent / ".no-custom-css")
    from nbconvert.preprocessors.sanitize import SanitizeHTML

    # nbgrader's feedback template ignores nbconvert's sanitize_html: sanitize the cells themselves
    shown, res = SanitizeHTML().preprocess(shown, res)
    shown, res = GetGrades().preprocess(shown, res)
    shown, res = CSSHTMLHeaderPreprocessor().preprocess(shown, res)
    page, _ = _feedback_exporter().from_notebook_node(shown, resources=res)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_mathjax(path.parent.parent)
    path.write_text(_finish_page(page, release_cells), encoding="utf-8")
    return path
