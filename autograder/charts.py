"""Charts for the class report, with no plotting library: bars as inline SVG, the score histogram as a PNG.

Labels come from the course (grade ids, section titles) but are escaped all the same.
"""

from __future__ import annotations

import html
import io
import math
from pathlib import Path
from typing import Any

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


HIST_SIZE = (600, 350)  # pixels of scores.png
HIST_PLOT = (72, 35, 582, 297)  # the plot area: left, top, right, bottom
HIST_COLOUR = (31, 78, 121)  # #1f4e79
HIST_GRID = (221, 221, 221)


def _font(size: int) -> Any:
    """DejaVu Sans (shipped with matplotlib, found without importing it), else Pillow's own font."""
    from importlib.util import find_spec

    from PIL import ImageFont

    spec = find_spec("matplotlib")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
        if path.is_file():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


def _step(span: float, most: int) -> float:
    """A round tick step (1, 2, 2.5 or 5 times a power of ten) giving at most ``most`` intervals over ``span``."""
    span = max(span, 1e-9)
    power = 10 ** math.floor(math.log10(span / most))
    return next(power * m for m in (1, 2, 2.5, 5, 10) if span / (power * m) <= most)


def histogram_counts(scores: list[float], top: float, bins: int) -> list[int]:
    """Scores per bin of [0, top] cut in ``bins`` (the last bin holds ``top``; scores outside are left out)."""
    counts = [0] * bins
    for score in scores:
        if 0 <= score <= top:
            counts[min(int(score / top * bins), bins - 1)] += 1
    return counts


def histogram_png(scores: list[float], *, top: float, bins: int, title: str, xlabel: str, ylabel: str) -> bytes:
    """A histogram of ``scores`` over [0, top] as PNG bytes: bars, axes, round ticks (whole counts on y), labels.

    Drawn with Pillow in a few milliseconds (a plotting library spends ten
    times as long on the same picture, once per run and once per review).
    """
    from PIL import Image, ImageDraw

    image = Image.new("RGB", HIST_SIZE, "white")
    draw = ImageDraw.Draw(image)
    small, large = _font(13), _font(15)
    left, upper, right, lower = HIST_PLOT
    counts = histogram_counts(scores, top, bins)
    ystep = max(1, math.ceil(_step(max(counts, default=0) or 1, 6)))
    ymax = (max(counts, default=0) // ystep + 1) * ystep  # a round count above the tallest bar

    def x_at(value: float) -> float:
        return left + (right - left) * value / top

    def y_at(count: float) -> float:
        return lower - (lower - upper) * count / ymax

    for tick in range(0, ymax + 1, ystep):
        y = round(y_at(tick))
        if tick:
            draw.line([(left, y), (right, y)], fill=HIST_GRID)
        draw.line([(left - 5, y), (left, y)], fill="black")
        draw.text((left - 8, y), str(tick), fill="black", font=small, anchor="rm")
    for i, count in enumerate(counts):
        if count:
            x0, x1 = x_at(top * i / bins), x_at(top * (i + 1) / bins)
            draw.rectangle([round(x0), round(y_at(count)), round(x1) - 1, lower], fill=HIST_COLOUR, outline="white")
    xstep = _step(top, 10)
    for k in range(int(top / xstep + 1e-9) + 1):
        value = k * xstep
        x = round(x_at(value))
        draw.line([(x, lower), (x, lower + 5)], fill="black")
        draw.text((x, lower + 8), f"{value:g}", fill="black", font=small, anchor="mt")
    draw.rectangle([left, upper, right, lower], outline="black")
    draw.text(((left + right) / 2, upper - 10), title, fill="black", font=large, anchor="ms")
    draw.text(((left + right) / 2, HIST_SIZE[1] - 8), xlabel, fill="black", font=small, anchor="ms")
    label = Image.new("RGB", (lower - upper, 20), "white")
    ImageDraw.Draw(label).text(((lower - upper) / 2, 10), ylabel, fill="black", font=small, anchor="mm")
    image.paste(label.rotate(90, expand=True), (8, upper))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()
