"""Bar charts as inline SVG for the class report: text that stays sharp, costs no plotting library, loads nothing.

Labels come from the course (grade ids, section titles) but are escaped all the same.
"""

from __future__ import annotations

import html

ROW = 22  # pixels per bar
WIDTH = 640  # pixels of the whole chart
CHAR = 7.2  # pixels per character of a 12 px label, a generous average
MAX_LABEL = 48  # characters of a label shown (longer ones are cut with an ellipsis)
COLOUR = "#2e7d32"


def bars_svg(labels: list[str], values: list[float], *, xlabel: str) -> str:
    """Horizontal bars of ``values`` (fractions 0..1, shown as 0..100 %) named by ``labels``, as SVG markup."""
    shown = [label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…" for label in labels]
    left = int(min(WIDTH / 2, max((len(s) for s in shown), default=0) * CHAR + 12))
    plot = WIDTH - left - 48
    height = ROW * len(shown) + 48
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-label="{html.escape(xlabel)}" font-family="system-ui, sans-serif" font-size="12">'
    ]
    for tick in range(0, 101, 20):
        x = left + plot * tick / 100
        parts.append(f'<line x1="{x:.1f}" y1="4" x2="{x:.1f}" y2="{height - 40}" stroke="#ddd"/>')
        parts.append(f'<text x="{x:.1f}" y="{height - 26}" text-anchor="middle">{tick}</text>')
    for i, (label, value) in enumerate(zip(shown, values, strict=True)):
        y = 6 + ROW * i
        fraction = min(max(float(value), 0.0), 1.0)
        parts.append(
            f'<text x="{left - 6}" y="{y + ROW / 2 + 1:.1f}" text-anchor="end" dominant-baseline="middle">'
            f"{html.escape(label)}</text>"
        )
        parts.append(
            f'<rect x="{left}" y="{y + 2}" width="{plot * fraction:.1f}" height="{ROW - 6}" fill="{COLOUR}">'
            f"<title>{html.escape(label)}: {100 * fraction:.0f}%</title></rect>"
        )
    parts.append(f'<text x="{left + plot / 2:.1f}" y="{height - 8}" text-anchor="middle">{html.escape(xlabel)}</text>')
    parts.append("</svg>")
    return "".join(parts)
