"""An answer's markdown as the review page shows it: sanitised HTML, its math as MathML.

Raw HTML in an answer is shown as text (markdown-it with ``html`` off), links
keep only safe schemes (markdown-it's own check), and ``$...$``/``$$...$$`` become
MathML written here, by the same converter as the feedback pages: the page
runs no script of the answer's and loads nothing to typeset it.
"""

from __future__ import annotations

import functools
from typing import Any

from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

from ..feedback import MAX_MATH, math_html

MAX_ANSWER = 50_000  # characters of one answer rendered; a longer one is cut with a note


@functools.cache
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.use(dollarmath_plugin, allow_space=True, double_inline=True)
    md.enable("table")
    return md


def render(text: str) -> str:
    """``text`` (markdown with TeX math) as safe HTML."""
    cut = len(text) > MAX_ANSWER
    source = text[:MAX_ANSWER] + ("\n\n*(answer cut: too long to show here)*" if cut else "")
    md = _parser()
    budget = [MAX_MATH]

    def inline(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        return math_html(tokens[idx].content, display=False, budget=budget)

    def block(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        return "<p>" + math_html(tokens[idx].content, display=True, budget=budget) + "</p>\n"

    renderer = md.renderer
    saved = {name: renderer.rules.get(name) for name in ("math_inline", "math_inline_double", "math_block")}
    renderer.rules["math_inline"] = inline.__get__(renderer)
    renderer.rules["math_inline_double"] = block.__get__(renderer)
    renderer.rules["math_block"] = block.__get__(renderer)
    try:
        return md.render(source)
    finally:
        for name, rule in saved.items():
            if rule is not None:
                renderer.rules[name] = rule
