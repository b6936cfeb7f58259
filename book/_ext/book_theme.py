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
- Every script appears once per page: scripts that extensions register while
  Sphinx reads the sources (sphinx-thebe's and sphinx-togglebutton's inline
  configuration) reach every page twice with Sphinx 7.4 (once with the file
  name ``None``, once with ``""``), and the second ``const THEBE_JS_URL = ...``
  is a JavaScript error ("Identifier has already been declared").

Options set explicitly in ``html_theme_options`` are left alone.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config

ScriptKey = tuple[str, tuple[tuple[str, str], ...]]


def set_theme_defaults(app: Sphinx, config: Config) -> None:
    """Show the title under the logo and keep the header free of a second search field."""
    options = dict(config.html_theme_options or {})
    options.setdefault("navbar_persistent", [])
    logo = dict(options.get("logo", {}))
    if config.html_title:
        logo.setdefault("text", config.html_title)
    options["logo"] = logo
    config.html_theme_options = options


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


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the extension with Sphinx."""
    app.connect("config-inited", set_theme_defaults)
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    # after sphinx-book-theme's add_launch_buttons (priority 501)
    app.connect("html-page-context", drop_colab_for_markdown, priority=502)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
