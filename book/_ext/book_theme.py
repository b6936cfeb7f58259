"""Small fixes to how sphinx-book-theme presents the book.

- The book's title shows under the logo in the sidebar (pydata-sphinx-theme
  hides the title when a logo is set, unless ``logo.text`` is given).
- No second header bar with a second search field: pydata-sphinx-theme 0.17
  adds ``navbar_persistent = ["search-button-field"]`` unless the book sets it,
  while sphinx-book-theme already has the search field in its sidebar.
- Colab's launch button appears only on pages whose source is a notebook
  (``.ipynb``, the exercises): Colab opens notebooks, and sphinx-book-theme
  would otherwise link it to the Markdown source of every chapter, which Colab
  cannot open. The JupyterHub button stays on every page (with jupytext on the
  hub, a MyST Markdown chapter opens as a notebook).
- Buttons only for the addresses the course has set (``_config.yml``): the
  repository button appears when ``repository.url`` is set, and the launch
  buttons, which all open that repository, only then; an empty
  ``jupyterhub_url`` gives no JupyterHub button. A book whose addresses are
  empty renders no link to a placeholder host.
- The chevron that folds a part of the sidebar's table of contents has a name:
  pydata-sphinx-theme renders it as a ``<summary>`` that holds only an icon,
  which screen readers announce as an unnamed control (axe-core's
  ``summary-name`` rule, a serious violation).
- The rest of what axe-core (tests/test_browser.py) finds serious: the search
  and colour-mode buttons are named by their visible text (templates/), the
  "Show code cell source" toggles of hide-input cells by their visible text
  (myst-nb adds the mismatching label "Toggle hidden content"), and links keep
  a 4.5:1 contrast inside tinted boxes (static/book_theme.css).
- Every script appears once per page: scripts that extensions register while
  Sphinx reads the sources (sphinx-thebe's and sphinx-togglebutton's inline
  configuration) reach every page twice with Sphinx 7.4 (once with the file
  name ``None``, once with ``""``), and the second ``const THEBE_JS_URL = ...``
  is a JavaScript error ("Identifier has already been declared").

Other options set explicitly in ``html_theme_options`` are left alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config

ScriptKey = tuple[str, tuple[tuple[str, str], ...]]


HERE = Path(__file__).parent


def set_theme_defaults(app: Sphinx, config: Config) -> None:
    """Show the title under the logo and keep the header free of a second search field."""
    config.templates_path = [str(HERE / "templates"), *config.templates_path]
    config.html_static_path = [*config.html_static_path, str(HERE / "static")]
    options = dict(config.html_theme_options or {})
    options.setdefault("navbar_persistent", [])
    logo = dict(options.get("logo", {}))
    if config.html_title:
        logo.setdefault("text", config.html_title)
    options["logo"] = logo
    config.html_theme_options = course_links(options)


def course_links(options: dict[str, Any]) -> dict[str, Any]:
    """Theme options with buttons only for the addresses that are set (a new dict).

    ``use_repository_button`` follows ``repository_url`` (Jupyter Book always
    passes its default, ``False``, so the setting in ``_config.yml`` is the URL
    alone); empty launch settings are dropped, and every launch button when
    there is no repository to open.
    """
    options = dict(options)
    repository = str(options.get("repository_url") or "").strip()
    options["use_repository_button"] = bool(repository)
    launch = {key: value for key, value in dict(options.get("launch_buttons") or {}).items() if value}
    options["launch_buttons"] = launch if repository else {}
    return options


def _script_key(script: Any) -> ScriptKey:
    attributes = getattr(script, "attributes", {})
    name = str(getattr(script, "filename", script) or "")
    return name, tuple(sorted((key, str(value)) for key, value in attributes.items()))


def drop_duplicate_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Remove repeated entries from the page's ``script_files`` (in place, first copy kept)."""
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen: set[ScriptKey] = set()
    unique = []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def drop_colab_for_markdown(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Remove the Colab launch link from pages whose source is not a notebook (in place)."""
    buttons = context.get("header_buttons")
    if not isinstance(buttons, list) or str(context.get("page_source_suffix", "")) == ".ipynb":
        return
    for group in [b for b in buttons if isinstance(b, dict) and b.get("label") == "launch-buttons"]:
        group["buttons"] = [b for b in group.get("buttons", []) if b.get("text") != "Colab"]
        if not group["buttons"]:
            buttons.remove(group)


#: What pydata-sphinx-theme writes for the fold toggle, and the name we give it.
UNNAMED_SUMMARY = '<summary><span class="toctree-toggle" role="presentation">'
NAMED_SUMMARY = '<summary aria-label="Show or hide the sections"><span class="toctree-toggle" role="presentation">'


def name_toctree_toggles(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    """Wrap the theme's sidebar renderer so that every fold toggle has an accessible name."""
    render = context.get("generate_toctree_html")
    if render is None or getattr(render, "names_toggles", False):
        return

    def generate_toctree_html(*args: Any, **kwargs: Any) -> Any:
        html = render(*args, **kwargs)
        return type(html)(str(html).replace(UNNAMED_SUMMARY, NAMED_SUMMARY))

    generate_toctree_html.names_toggles = True  # type: ignore[attr-defined]
    context["generate_toctree_html"] = generate_toctree_html


#: The label myst-nb puts on a hide-input toggle, which hides its visible text.
MISMATCHED_TOGGLE = '<summary aria-label="Toggle hidden content">\n'


def visit_hide_cell_input(self: Any, node: Any) -> None:
    """myst-nb's HTML for a hide-input toggle, named by its visible text instead."""
    from myst_nb.sphinx_ import visit_HideCellInput

    visit_HideCellInput(self, node)
    self.body[:] = ["<summary>\n" if part == MISMATCHED_TOGGLE else part for part in self.body]


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the extension with Sphinx."""
    from myst_nb.sphinx_ import HideCodeCellNode, depart_HideCellInput

    app.setup_extension("myst_nb")
    app.add_node(HideCodeCellNode, override=True, html=(visit_hide_cell_input, depart_HideCellInput))
    app.add_css_file("book_theme.css")
    app.connect("config-inited", set_theme_defaults)
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    # after sphinx-book-theme's add_launch_buttons (priority 501)
    app.connect("html-page-context", drop_colab_for_markdown, priority=502)
    # after pydata-sphinx-theme's add_toctree_functions (default priority 500)
    app.connect("html-page-context", name_toctree_toggles, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
