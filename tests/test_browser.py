"""The built book as students see it, in a real browser with no network.

A local HTTP server on 127.0.0.1 serves `_build/html`; headless Chromium opens
every page of the table of contents while every request to any other host is
blocked and recorded (a classroom behind a firewall). Each page must load with
no console error and no failed request, typeset its math with the bundled
MathJax, load its figures, and link only to pages and anchors that exist.
Exercise pages must offer their released notebook for download; the search
page must work offline. Screenshots of key pages land in `_build/screenshots/`.

The book is built once per session by the `built_book` fixture (tests/conftest.py).
Without Chromium these tests are skipped, or fail when `CI` is set.
"""

from __future__ import annotations

import functools
import html.parser
import http.server
import os
import re
import shutil
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml

from tests.browser_support import (
    REPO,
    SCREENSHOTS,
    assignments,
    axe_script,
    secret_lines,
    text_lines,
    toc_docnames,
)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
#: Pages photographed for a human look: a chapter with math, the weight-matrix
#: (Toeplitz) figure, an exercise. The selectors say what to scroll to, first
#: match wins; None keeps the top of the page.
SCREENSHOT_PAGES: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "fc_to_conv": ("book/fc_to_conv.html", None),
    "conv_as_matmul_toeplitz": (
        "book/conv_as_matmul.html",
        ("#fig-mm-matrices", "article figure:has-text('Toeplitz')", "article figure"),
    ),
    "exercise_corr2d": ("exercises/corr2d/corr2d.html", None),
    "padding_stride_windows": ("book/padding_stride.html", ("#fig-pad-windows", "article figure")),
}
#: Accessibility: axe-core's rules at these impacts fail the test (minor and
#: moderate findings are reported by axe but do not).
AXE_FAILING_IMPACTS = ("serious", "critical")
#: TeX left untypeset in the visible text: display/inline delimiters, environments,
#: and `$...$` spans that contain TeX syntax.
RAW_TEX = re.compile(r"\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|\$[^$\n]*[\\^_{][^$\n]*\$")


def _missing_browser(reason: str) -> None:
    message = f"{reason}; install it with `make setup` (Debian packages chromium, chromium-driver)"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def chromium_executable() -> str | None:
    """Return the system Chromium the tests drive, or None when it is not installed."""
    for candidate in (
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


# --------------------------------------------------------------------------- fixtures


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def site(built_book: Path) -> Iterator[str]:
    """Base URL (ending in `/`) of `built_book` served over HTTP on 127.0.0.1."""
    handler = functools.partial(_QuietHandler, directory=str(built_book))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless system Chromium driven by Playwright."""
    executable = chromium_executable()
    if executable is None:
        _missing_browser("Chromium is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing_browser("the Python package playwright is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Visit:
    """One page opened in a fresh browser context, with everything that went wrong."""

    page: Any
    external_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return (
            [f"request to another host (blocked): {url}" for url in self.external_requests]
            + [f"console error: {text}" for text in self.console_errors]
            + [f"failed request: {text}" for text in self.failed_requests]
        )


@pytest.fixture
def visit(browser: Any, site: str) -> Iterator[Any]:
    """Open a page of the site (path relative to the site's root) offline; returns a `Visit`."""
    contexts = []

    def open_page(path: str) -> Visit:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        record = Visit(page)

        def route(route: Any) -> None:
            url = route.request.url
            if url.startswith((site, "data:", "blob:")):
                route.continue_()
            else:
                record.external_requests.append(url)
                route.abort("blockedbyclient")

        context.route("**/*", route)
        page.on(
            "console",
            lambda message: message.type == "error" and record.console_errors.append(message.text),
        )
        page.on("pageerror", lambda error: record.console_errors.append(f"uncaught {error}"))
        page.on(
            "requestfailed",
            lambda request: (
                request.url.startswith(site) and record.failed_requests.append(f"{request.url} ({request.failure})")
            ),
        )
        page.on(
            "response",
            lambda response: (
                response.status >= 400 and record.failed_requests.append(f"{response.url} (HTTP {response.status})")
            ),
        )
        response = page.goto(site + path, wait_until="load")
        assert response is not None and response.status == 200, f"{path}: HTTP {response and response.status}"
        # MathJax 3 resolves this promise once the initial typesetting is done.
        page.evaluate("() => window.MathJax && window.MathJax.startup && window.MathJax.startup.promise")
        page.wait_for_load_state("networkidle")
        return record

    yield open_page
    for context in contexts:
        context.close()


# --------------------------------------------------------------------------- link checking


class _IdCollector(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("id", "name") and value:
                self.ids.add(value)


@functools.cache
def _fetch(url: str) -> tuple[int, frozenset[str]]:
    """HTTP status of a same-site URL and, for HTML, the ids (anchors) it defines."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            status, body, kind = (
                response.status,
                response.read(),
                response.headers.get_content_type(),
            )
    except urllib.error.HTTPError as error:
        return error.code, frozenset()
    if kind != "text/html":
        return status, frozenset()
    collector = _IdCollector()
    collector.feed(body.decode("utf-8", errors="replace"))
    return status, frozenset(collector.ids)


def broken_links(page: Any, site: str) -> list[str]:
    """Same-site links of the open page that do not answer 200 or whose anchor does not exist."""
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(link => link.href)")
    here = page.url.split("#")[0]
    dom_ids = set(page.eval_on_selector_all("[id]", "elements => elements.map(element => element.id)"))
    broken = []
    for href in sorted(set(hrefs)):
        if not href.startswith(site):
            continue
        target, _, fragment = href.partition("#")
        status, ids = _fetch(target.split("?")[0])
        if status != 200:
            broken.append(f"{href} (HTTP {status})")
            continue
        fragment = urllib.parse.unquote(fragment)
        if fragment and fragment not in ids and not (target == here and fragment in dom_ids):
            broken.append(f"{href} (no element with id {fragment!r})")
    return broken


# --------------------------------------------------------------------------- tests


BOOK_TITLE = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))["title"]
#: A tag that makes the browser fetch something by itself (not a link a reader clicks).
ASSET_TAG = re.compile(r"<(?:script|link|img|iframe|source|video|audio|embed)\b[^>]*>", re.IGNORECASE)
REMOTE_URL = re.compile(r"""\b(?:src|href|srcset)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def test_no_page_loads_assets_from_another_host(built_book: Path) -> None:
    """No built HTML file (search and index pages too) loads a script, style, font or image remotely."""
    remote = [
        f"{path.relative_to(built_book)}: {tag}"
        for path in sorted(built_book.rglob("*.html"))
        for tag in ASSET_TAG.findall(path.read_text(encoding="utf-8", errors="replace"))
        if REMOTE_URL.search(tag)
    ]
    assert not remote, "assets from other hosts:\n  " + "\n  ".join(remote[:20])


@pytest.mark.parametrize("docname", toc_docnames())
def test_page_renders_offline(visit: Any, site: str, docname: str) -> None:
    """A page of the table of contents loads offline, cleanly, with math, figures and links working."""
    record = visit(f"{docname}.html")
    page = record.page
    problems = record.problems()

    math = page.evaluate(
        """() => {
        const article = document.querySelector('article') || document.body;
        const visible = [];
        const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT, {
            acceptNode(node) {
                const parent = node.parentElement;
                if (!parent || parent.closest('pre, code, script, style, mjx-container, .highlight')) {
                    return NodeFilter.FILTER_REJECT;
                }
                return parent.checkVisibility() ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT;
            },
        });
        while (walker.nextNode()) visible.push(walker.currentNode.nodeValue);
        return {
            sources: article.querySelectorAll('span.math, div.math').length,
            typeset: article.querySelectorAll('mjx-container').length,
            errors: Array.from(article.querySelectorAll('mjx-merror, [data-mjx-error]'))
                .map(e => e.getAttribute('data-mjx-error') || e.textContent),
            text: visible.join(''),
        };
    }"""
    )
    if math["typeset"] < math["sources"]:
        problems.append(f"MathJax typeset {math['typeset']} of {math['sources']} math elements")
    problems += [f"TeX error: {error}" for error in math["errors"]]
    problems += [f"raw TeX in the visible text: ...{match}..." for match in RAW_TEX.findall(math["text"])[:5]]

    # Lazy images load now too; each settles (loads or fails) before it is judged.
    images = page.evaluate(
        """async () => {
        const images = Array.from(document.images);
        const settled = Promise.all(images.map(img => {
            img.loading = 'eager';
            return img.complete ? null : new Promise(done => { img.onload = img.onerror = done; });
        }));
        await Promise.race([settled, new Promise(done => setTimeout(done, 15000))]);
        return images.map(img => [img.currentSrc || img.src, img.complete, img.naturalWidth]);
    }"""
    )
    problems += [f"image did not load: {src}" for src, complete, width in images if not complete or width == 0]
    problems += [f"broken link: {link}" for link in broken_links(page, site)]

    icons = page.eval_on_selector_all('link[rel~="icon"]', "links => links.map(link => link.href)")
    problems += [f"favicon does not load: {icon}" for icon in icons if _fetch(icon)[0] != 200]
    if not icons:
        problems.append("no favicon (html.favicon in _config.yml)")
    if BOOK_TITLE not in page.title():
        problems.append(f"page title {page.title()!r} does not name the book {BOOK_TITLE!r}")

    assert not problems, f"{docname}.html:\n  " + "\n  ".join(problems)


@pytest.fixture(scope="session")
def axe() -> Path:
    """axe-core's `axe.min.js`, installed from the npm registry on first use."""
    try:
        return axe_script()
    except RuntimeError as error:
        if os.environ.get("CI"):
            pytest.fail(str(error), pytrace=False)
        pytest.skip(str(error))


@pytest.mark.parametrize("docname", toc_docnames())
def test_page_is_accessible(visit: Any, axe: Path, docname: str) -> None:
    """axe-core finds no serious or critical accessibility violation on a page (its default WCAG rules)."""
    record = visit(f"{docname}.html")
    page = record.page
    page.add_script_tag(path=str(axe))  # injected inline: the page fetches nothing
    results = page.evaluate(
        """async () => {
        // axe's default rule set: WCAG 2.x A and AA and best practices (no experimental rules)
        const results = await axe.run(document, {resultTypes: ['violations']});
        return results.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            targets: v.nodes.slice(0, 3).map(n => n.target.join(' ')),
            count: v.nodes.length,
        }));
    }"""
    )
    failing = [v for v in results if v["impact"] in AXE_FAILING_IMPACTS]
    assert not failing, f"{docname}.html:\n  " + "\n  ".join(
        f"{v['impact']} {v['id']} ({v['count']}x): {v['help']} at {v['targets']}" for v in failing
    )
    assert not record.problems(), record.problems()


def test_math_is_typeset_by_the_bundled_mathjax(visit: Any, site: str, built_book: Path) -> None:
    """The book has math, and the MathJax 3 that typesets it is served by the book itself."""
    with_math = [name for name in toc_docnames() if 'class="math' in (built_book / f"{name}.html").read_text("utf-8")]
    assert with_math, "no page of the table of contents contains math"
    record = visit(f"{with_math[0]}.html")
    page = record.page
    scripts = page.evaluate("() => Array.from(document.scripts).map(s => s.src).filter(s => /mathjax/i.test(s))")
    assert scripts and all(src.startswith(site + "_static/mathjax/") for src in scripts), (
        f"{with_math[0]}.html loads MathJax from {scripts}, expected {site}_static/mathjax/"
    )
    version = page.evaluate("() => window.MathJax && window.MathJax.version")
    assert str(version).startswith("3."), f"expected MathJax 3, the page runs MathJax {version}"
    assert page.locator("article mjx-container").count() > 0, f"{with_math[0]}.html shows no typeset math"
    assert not record.problems(), record.problems()


@pytest.mark.parametrize("assignment", assignments())
def test_exercise_download_button_gives_the_released_notebook(visit: Any, assignment: str, tmp_path: Path) -> None:
    """The exercise page's download button yields the released notebook, without solutions."""
    record = visit(f"exercises/{assignment}/{assignment}.html")
    page = record.page
    page.get_by_role("button", name="Download this page").click()
    item = page.locator(".dropdown-download-buttons a.dropdown-item", has_text=".ipynb")
    assert item.count() == 1, "the download menu offers no .ipynb"
    # The item opens a new tab that Chromium turns into a download of the opener page.
    with page.expect_download() as started:
        item.click()
    download = started.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.name == f"{assignment}.ipynb", f"downloaded {saved.name}, expected {assignment}.ipynb"

    notebook = nbformat.reads(saved.read_text(encoding="utf-8"), as_version=4)
    nbformat.validate(notebook)
    graded = [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade_id")]
    assert graded, "the downloaded notebook has no nbgrader cells (metadata.nbgrader.grade_id)"
    released = nbformat.read(REPO / "exercises" / assignment / f"{assignment}.ipynb", as_version=4)
    assert notebook == released, f"the downloaded notebook differs from exercises/{assignment}/{assignment}.ipynb"

    text = text_lines("\n".join(cell.source for cell in notebook.cells))
    secrets = secret_lines(REPO / "solutions" / assignment / f"{assignment}.ipynb")
    leaked = [f"{kind}: {line}" for kind, lines in secrets.items() for line in sorted(lines) if line in text]
    assert not leaked, "the downloaded notebook contains:\n  " + "\n  ".join(leaked)
    assert not record.problems(), record.problems()


def test_search_finds_cross_correlation(visit: Any) -> None:
    """The search page works offline and finds the book's central term."""
    record = visit("search.html?q=cross-correlation")
    page = record.page
    results = page.locator("#search-results ul.search li")
    results.first.wait_for(state="attached", timeout=30_000)
    titles = results.locator("a").all_inner_texts()
    assert titles, "search for cross-correlation found nothing"
    assert any(link for link in results.locator("a").evaluate_all("links => links.map(a => a.href)")), titles
    assert not record.problems(), record.problems()


@pytest.mark.parametrize("name", SCREENSHOT_PAGES)
def test_screenshot(visit: Any, name: str) -> None:
    """Screenshots of key pages, saved for a human look at `_build/screenshots/NAME.png`."""
    path, selectors = SCREENSHOT_PAGES[name]
    record = visit(path)
    page = record.page
    for selector in selectors or ():
        element = page.locator(selector).first
        if element.count():
            element.scroll_into_view_if_needed()
            page.wait_for_timeout(300)
            break
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}.png"
    png = page.screenshot(path=str(target))
    assert png.startswith(b"\x89PNG") and target.stat().st_size > 10_000
    assert not record.problems(), record.problems()
