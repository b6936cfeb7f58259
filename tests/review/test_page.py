"""The review page in headless Chromium, offline: grade one question for a class by keyboard, reload,
the grades persist; an answer's script stays inert; no serious or critical accessibility violation."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from autograder.review.carry import Class
from tests.browser_support import axe_script
from tests.review.conftest import QUESTION, graded_class
from tests.test_browser import AXE_FAILING_IMPACTS, CHROMIUM_ARGS, _missing_browser, chromium_executable

CLASS_SIZE = 30  # the bench class


def _serve(out: Path) -> str:
    import asyncio

    from autograder.review.server import make_app

    started: dict[str, str] = {}
    ready = threading.Event()

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        server = make_app(Class(out)).listen(0, address="127.0.0.1")
        port = next(iter(server._sockets.values())).getsockname()[1]
        started["url"] = f"http://127.0.0.1:{port}/"
        ready.set()
        loop.run_forever()

    threading.Thread(target=run, daemon=True).start()
    assert ready.wait(30)
    return started["url"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_executable()
    if executable is None:
        _missing_browser("Chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, tmp_path: Path) -> Iterator[tuple[Any, str, Path, list[str]]]:
    out = graded_class(tmp_path / "graded", CLASS_SIZE)
    url = _serve(out)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    elsewhere: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith(url):
            r.continue_()
        else:
            elsewhere.append(r.request.url)
            r.abort("blockedbyclient")

    context.route("**/*", route)
    yield context.new_page(), url, out, elsewhere
    context.close()


def test_grade_a_question_by_keyboard_and_reload(page: tuple[Any, str, Path, list[str]]) -> None:
    """Every answer graded with keys 1-3 and j; after a reload the page and grades.csv keep the grades."""
    tab, url, out, elsewhere = page
    tab.goto(f"{url}q/{QUESTION}")
    assert tab.locator("#progress").inner_text() == f"graded 0 of {CLASS_SIZE}"
    started = time.monotonic()
    for i in range(CLASS_SIZE):
        keys = ["1", "2", "3"] if i % 2 == 0 else ["1"]
        for key in keys:
            tab.keyboard.press(key)
        tab.keyboard.press("j")
    deadline = time.monotonic() + 120
    while tab.locator("#progress").get_attribute("data-done") != str(CLASS_SIZE) and time.monotonic() < deadline:
        time.sleep(0.05)  # polled from here: the page's CSP refuses the string evaluation wait_for_function uses
    seconds = time.monotonic() - started
    print(f"\ngraded {CLASS_SIZE} answers by keyboard in {seconds:.1f} s (saves included)")
    (Path(os.environ.get("REVIEW_TIMING", out)) / "timing.txt").write_text(f"{seconds:.2f}\n")
    tab.reload()
    assert tab.locator("#progress").inner_text() == f"graded {CLASS_SIZE} of {CLASS_SIZE}"
    assert tab.locator("article.answer.graded").count() == CLASS_SIZE
    assert tab.locator("#a-0 .points").inner_text() == "3" and tab.locator("#a-1 .points").inner_text() == "1"
    grades = (out / "grades.csv").read_text()
    assert "needs manual grading" not in grades
    assert not elsewhere, elsewhere


def test_a_script_in_an_answer_stays_inert(page: tuple[Any, str, Path, list[str]]) -> None:
    """An answer with <script> and an onerror handler shows as text; nothing of it runs; its math is MathML."""
    tab, url, _, elsewhere = page
    errors: list[str] = []
    tab.on("dialog", lambda d: (errors.append(d.message), d.dismiss()))
    tab.goto(f"{url}q/{QUESTION}")
    answer = tab.locator("#a-1 .text")
    assert "<script>" in answer.inner_text()
    assert answer.locator("script, img").count() == 0
    assert tab.evaluate("() => window.pwned === undefined") and "pwned" not in tab.title()
    assert tab.locator("#a-0 .text math").count() >= 1
    assert not errors and not elsewhere


def test_page_is_accessible(page: tuple[Any, str, Path, list[str]]) -> None:
    """axe-core finds no serious or critical violation on the question page."""
    tab, url, _, _ = page
    try:
        axe = axe_script()
    except RuntimeError as error:
        pytest.skip(str(error))
    tab.goto(f"{url}q/{QUESTION}")
    tab.evaluate(axe.read_text(encoding="utf-8"))  # evaluated, not injected: the page's CSP forbids inline script
    violations = tab.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations.map(
            v => ({id: v.id, impact: v.impact, help: v.help, n: v.nodes.length}))"""
    )
    failing = [v for v in violations if v["impact"] in AXE_FAILING_IMPACTS]
    assert not failing, failing
