"""Charts for supervisor output: inline SVG for the HTML report, rich bars for the terminal.

No network, no JavaScript: the SVG is text inside the page, so it prints and archives as is.
"""

from __future__ import annotations

import math
from html import escape

PALETTE = ["#2e7d32", "#1565c0", "#c62828", "#f9a825", "#6a1b9a", "#00838f", "#5d4037", "#455a64"]


def bar_svg(items: list[tuple[str, float]], *, title: str = "", width: int = 640, bar_h: int = 22,
            color: str = "#1565c0", highlight: dict[str, float] | None = None, css_class: str = "chart bar") -> str:
    """A horizontal bar chart: one bar per ``(label, value)``; ``highlight[label]`` is drawn in red
    over the start of its bar (e.g. the overdue part of a backlog)."""
    highlight = highlight or {}
    label_w, pad, top = 170, 8, (28 if title else 8)
    height = top + len(items) * (bar_h + pad) + pad
    vmax = max([v for _, v in items] + [1])
    scale = (width - label_w - 60) / vmax
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">']
    if title:
        parts.append(f'<text x="4" y="18" font-size="14" font-weight="bold">{escape(title)}</text>')
    for i, (label, v) in enumerate(items):
        y = top + i * (bar_h + pad)
        w = max(v * scale, 0)
        parts.append(f'<text x="{label_w - 6}" y="{y + bar_h * 0.7:.1f}" font-size="12" text-anchor="end">{escape(str(label))}</text>')
        parts.append(f'<rect class="bar" data-label="{escape(str(label))}" data-value="{v}" x="{label_w}" y="{y}" '
                     f'width="{w:.1f}" height="{bar_h}" fill="{color}"/>')
        h = highlight.get(label, 0)
        if h:
            parts.append(f'<rect class="bar-highlight" x="{label_w}" y="{y}" width="{h * scale:.1f}" height="{bar_h}" fill="#c62828"/>')
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + bar_h * 0.7:.1f}" font-size="12">{_num(v)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def pie_svg(items: list[tuple[str, float]], *, title: str = "", size: int = 220, colors: list[str] | None = None,
            css_class: str = "chart pie") -> str:
    """A pie chart with a legend; zero slices are left out, an empty chart says so."""
    colors = colors or PALETTE
    total = sum(v for _, v in items)
    r, cx, cy = size / 2 - 10, size / 2, size / 2 + (24 if title else 0)
    legend_x = size + 10
    height = size + (24 if title else 0) + 10
    width = size + 220
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">']
    if title:
        parts.append(f'<text x="4" y="18" font-size="14" font-weight="bold">{escape(title)}</text>')
    if not total:
        parts.append(f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="#eeeeee"/>'
                     f'<text x="{cx}" y="{cy}" font-size="12" text-anchor="middle">0</text>')
    angle = -math.pi / 2
    for i, (label, v) in enumerate(items):
        color = colors[i % len(colors)]
        ly = (24 if title else 0) + 20 + i * 22
        share = round(v / total * 100, 1) if total else 0
        # Written as on Vietnamese paper: "42,9%", "100%".
        pct = (f"{share:.0f}" if share == int(share) else f"{share:.1f}".replace(".", ",")) + "%"
        parts.append(f'<rect x="{legend_x}" y="{ly - 11}" width="14" height="14" fill="{color}"/>'
                     f'<text x="{legend_x + 20}" y="{ly}" font-size="12">{escape(str(label))}: {_num(v)} ({pct})</text>')
        if not v or not total:
            continue
        sweep = 2 * math.pi * v / total
        if v == total:
            parts.append(f'<circle class="slice" data-label="{escape(str(label))}" data-value="{v}" cx="{cx}" cy="{cy}" r="{r}" fill="{color}"/>')
            continue
        x1, y1 = cx + r * math.cos(angle), cy + r * math.sin(angle)
        angle += sweep
        x2, y2 = cx + r * math.cos(angle), cy + r * math.sin(angle)
        large = 1 if sweep > math.pi else 0
        parts.append(f'<path class="slice" data-label="{escape(str(label))}" data-value="{v}" '
                     f'd="M{cx:.1f},{cy:.1f} L{x1:.1f},{y1:.1f} A{r:.1f},{r:.1f} 0 {large} 1 {x2:.1f},{y2:.1f} Z" fill="{color}"/>')
    parts.append("</svg>")
    return "".join(parts)


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.2f}"


def rich_bars(items: list[tuple[str, float, float]], title: str = "", width: int = 40):
    """A terminal bar chart (rich): ``(label, value, highlighted part)`` per line, highlight in red."""
    from rich.table import Table
    from rich.text import Text

    vmax = max([v for _, v, _ in items] + [1])
    tb = Table(title=title or None, show_header=False, box=None, pad_edge=False)
    tb.add_column(justify="right")
    tb.add_column()
    for label, v, hi in items:
        full = round(v / vmax * width)
        red = min(round(hi / vmax * width), full) if hi else 0
        bar = Text("█" * red, style="red") + Text("█" * (full - red), style="cyan") + Text(f" {_num(v)}")
        tb.add_row(str(label), bar)
    return tb
