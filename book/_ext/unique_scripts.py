"""Drop scripts that a page would include twice.

With Sphinx 7.4, scripts that extensions register while Sphinx reads the
sources (sphinx-thebe's and sphinx-togglebutton's inline configuration) reach
every page twice (once with the file name ``None``, once with ``""``). The second copy of
``const THEBE_JS_URL = ...`` is a JavaScript error ("Identifier has already
been declared") on every page. This extension keeps only the first copy of
each script, compared by file name and attributes.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx


def _script_key(script: Any) -> tuple[str, tuple[tuple[str, str], ...]]:
    attributes = getattr(script, "attributes", {})
    return str(getattr(script, "filename", script) or ""), tuple(
        sorted((k, str(v)) for k, v in attributes.items())
    )


def drop_duplicate_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Remove repeated entries from the page's ``script_files`` (in place, first copy kept)."""
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    unique = []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the extension with Sphinx."""
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
