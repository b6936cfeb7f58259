"""Serve MathJax 3 from the built book, so that math renders with no network.

The MathJax files come from the PyPI package ``django-static-mathjax`` (pinned in
``requirements.txt``), which ships the official MathJax 3.2.2 distribution as
package data under ``mathjax/static/mathjax/es5``. This extension copies the
files a page can ask for into ``_static/mathjax/`` of every HTML build and
points ``mathjax_path`` at the local ``tex-chtml.js``, so no page loads
anything from a CDN.

Raises ``sphinx.errors.ExtensionError`` when the package is missing or is not
MathJax 3.
"""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError
from sphinx.util import isurl, logging

logger = logging.getLogger(__name__)

#: Folder under the build's ``_static`` that receives MathJax.
STATIC_SUBDIR = "mathjax"
#: The MathJax component every page loads: TeX input, CommonHTML output.
ENTRY_POINT = "tex-chtml.js"
#: Combined components and Node-only files that pages built with
#: ``tex-chtml.js`` never request; everything else (TeX extensions loaded on
#: demand, fonts, the context menu, accessibility and the SVG renderer the
#: menu can switch to) is copied.
UNUSED = (
    "node-main.js",
    "adaptors",
    "mml-chtml.js",
    "mml-svg.js",
    "tex-mml-chtml.js",
    "tex-mml-svg.js",
    "tex-svg.js",
    "tex-svg-full.js",
    "tex-chtml-full.js",
    "tex-chtml-full-speech.js",
)


def mathjax_source() -> tuple[Path, str]:
    """Return the folder of the packaged MathJax ``es5`` build and its version.

    Raises ``ExtensionError`` when the package is not installed or not MathJax 3.
    """
    try:
        root = Path(str(resources.files("mathjax"))) / "static" / "mathjax"
    except ModuleNotFoundError as error:
        raise ExtensionError(
            "MathJax is not installed: run `pip install -r requirements.txt` (it provides django-static-mathjax)"
        ) from error
    es5 = root / "es5"
    package_json = root / "package.json"
    if not (es5 / ENTRY_POINT).is_file() or not package_json.is_file():
        raise ExtensionError(
            f"no MathJax 3 build found in {root}: reinstall django-static-mathjax "
            "with the version pinned in requirements.txt"
        )
    version = json.loads(package_json.read_text(encoding="utf-8"))["version"]
    if not version.startswith("3."):
        raise ExtensionError(f"expected MathJax 3, found MathJax {version} in {root}")
    return es5, version


def _use_local_mathjax(app: Sphinx, config: Config) -> None:
    """Point ``mathjax_path`` at the local copy unless a local path is set already."""
    if not config.mathjax_path or isurl(config.mathjax_path) or config.mathjax_path.startswith("//"):
        config.mathjax_path = f"{STATIC_SUBDIR}/{ENTRY_POINT}"


def _copy_mathjax(app: Sphinx) -> None:
    """Copy MathJax into ``_static/mathjax`` before any page is written."""
    if app.builder.format != "html":
        return
    source, version = mathjax_source()
    target = Path(app.outdir) / "_static" / STATIC_SUBDIR
    stamp = target / ".mathjax-version"
    # The stamp names what was copied: a new version or file selection recopies.
    expected = f"{version} without {','.join(UNUSED)}"
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == expected:
        return
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=lambda folder, names: [n for n in names if n in UNUSED])
    stamp.write_text(expected, encoding="utf-8")
    logger.info("copied MathJax %s into %s", version, target)


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the extension with Sphinx."""
    app.setup_extension("sphinx.ext.mathjax")
    app.connect("config-inited", _use_local_mathjax, priority=900)
    app.connect("builder-inited", _copy_mathjax)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
