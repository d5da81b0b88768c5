"""The digest's picture: the period's topics as bars, each split by the people who answered about it.

Rendered with matplotlib's object API on the Agg canvas (no pyplot, no global state, no display, no
network); 800×450 px, legible at chat size. Only glyphs the bundled font has are drawn, so a name in
another script never makes matplotlib warn about missing glyphs: those characters become "?".
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from functools import lru_cache

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont
from matplotlib.ft2font import FT2Font
from matplotlib.ticker import MaxNLocator

from ..core.digest import TopicRow

WIDTH_PX, HEIGHT_PX, DPI = 800, 450, 100
FONT = "DejaVu Sans"
MAX_PEOPLE = 5
COLORS = ("#2f81f7", "#f2a93b", "#3fb950", "#db61a2", "#8957e5")
OTHERS_COLOR = "#c9d1d9"


@lru_cache(maxsize=1)
def _glyphs() -> frozenset[int]:
    path = findfont(FontProperties(family=FONT), fallback_to_default=False)
    return frozenset(FT2Font(path).get_charmap())


def drawable(text: str, limit: int = 24) -> str:
    """The text with characters the font cannot draw replaced, shortened for a label."""
    glyphs = _glyphs()
    s = "".join(c if ord(c) in glyphs else "?" for c in text)
    s = s if len(s) <= limit else s[: limit - 1] + "\u2026"
    return s.replace("$", "\\$")  # a literal dollar, never mathtext


def render_topics(topics: Sequence[TopicRow], names: Mapping[str, str], title: str) -> bytes:
    """A PNG: one horizontal bar per topic (posts that used it), coloured by who answered with it."""
    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    totals: dict[str, int] = {}
    for t in topics:
        for user, n in t.answerers:
            totals[user] = totals.get(user, 0) + n
    people = [u for u, _ in sorted(totals.items(), key=lambda x: (-x[1], x[0]))][:MAX_PEOPLE]
    rows = list(reversed(topics))  # best topic on top
    labels = [drawable(t.word) for t in rows]
    y = list(range(len(rows)))
    left = [0.0] * len(rows)
    for color, user in zip(COLORS, people):
        widths = [float(dict(t.answerers).get(user, 0)) for t in rows]
        ax.barh(y, widths, left=left, color=color, label=drawable(names.get(user, user)), height=0.6)
        left = [a + b for a, b in zip(left, widths)]
    rest = [max(0.0, t.posts - lf) for t, lf in zip(rows, left)]
    ax.barh(y, rest, left=left, color=OTHERS_COLOR, label="other posts", height=0.6)
    ax.set_yticks(y, labels, fontsize=13, fontfamily=FONT)
    ax.set_xlabel("posts in the period (coloured: answers by)", fontsize=11, fontfamily=FONT)
    ax.set_title(drawable(title, 60), fontsize=15, fontfamily=FONT, loc="left")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.spines[["top", "right"]].set_visible(False)
    if topics:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, prop={"family": FONT, "size": 11})
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


__all__ = ["HEIGHT_PX", "WIDTH_PX", "drawable", "render_topics"]
