"""The page and the flow: A5 geometry, word wrapping, type densities, and ``_Flow``, which
places content top-down into per-page lists of drawing operations (played by ``pdf``).

Coordinates run top-down from the page top.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from onestop.intake.forms.fonts import BOLD, REGULAR, _width
from onestop.intake.forms.values import _DOTS

PAGE_W, PAGE_H = 419.53, 595.28  # A5 portrait, points (reportlab.lib.pagesizes.A5)
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 34.0, 28.0, 24.0, 30.0
CONTENT_W = PAGE_W - MARGIN_L - MARGIN_R
BODY = 8.5  # body font size; DejaVu Sans is wide, 8.5 pt reads like 10 pt Times
LEAD = 11.5

Run = tuple[str, str]  # (text, font)


def wrap_runs(
    runs: list[Run], size: float, width: float, rest_width: float | None = None
) -> list[list[Run]]:
    """Greedy word wrap of mixed-font text into lines no wider than ``width``.

    Lines after the first may be narrower (``rest_width``, for a hanging indent). Words
    longer than a line are cut between characters so nothing runs off the page.
    """
    first_width = width
    rest_width = width if rest_width is None else rest_width
    words: list[tuple[str, str, bool]] = []  # (word, font, space before)
    space_pending = False
    for text, font in runs:
        pieces = text.split(" ")
        for i, piece in enumerate(pieces):
            if i > 0:
                space_pending = True
            if piece:
                words.append((piece, font, space_pending))
                space_pending = False
    lines: list[list[Run]] = []
    line: list[Run] = []
    used = 0.0
    for word, font, space in words:
        width = rest_width if lines else first_width
        gap = _width(" ", font, size) if (space and line) else 0.0
        w = _width(word, font, size)
        if line and used + gap + w > width:
            lines.append(line)
            line, used, gap = [], 0.0, 0.0
        if not line and w > width:
            # An unbreakable token wider than the line: cut it.
            chunk = ""
            for ch in word:
                if chunk and _width(chunk + ch, font, size) > width:
                    lines.append([(chunk, font)])
                    chunk, width = "", rest_width
                chunk += ch
            word, w = chunk, _width(chunk, font, size)
        text = (" " if gap else "") + word
        if line and line[-1][1] == font:
            line[-1] = (line[-1][0] + text, font)
        else:
            line.append((text, font))
        used += gap + w
    if line or not lines:
        lines.append(line)
    return lines


def _line_width(line: list[Run], size: float) -> float:
    return sum(_width(text, font, size) for text, font in line)


def wrap_balanced(text: str, font: str, size: float, width: float) -> list[list[Run]]:
    """Wrap into as few lines as ``wrap_runs`` but of even length (no orphan last word),
    as agency names are set in official headers."""
    lines = wrap_runs([(text, font)], size, width)
    if len(lines) < 2:
        return lines
    lo, hi = width / len(lines), width
    for _ in range(8):
        mid = (lo + hi) / 2
        if len(wrap_runs([(text, font)], size, mid)) > len(lines):
            lo = mid
        else:
            hi = mid
    return wrap_runs([(text, font)], size, hi)


@dataclass(frozen=True)
class _Density:
    """Type sizes and spacing of a layout; the receipt takes the first that fits one page."""

    body: float = BODY
    lead: float = LEAD
    table_size: float = 7.8
    table_lead: float = 10.0
    table_pad: float = 3.0
    sign_space: float = 38.0  # room left for a handwritten signature


DENSITIES = (
    _Density(),
    _Density(lead=10.4, table_size=7.5, table_lead=9.2, table_pad=1.8, sign_space=30.0),
    _Density(body=8.0, lead=9.6, table_size=7.2, table_lead=8.6, table_pad=1.2, sign_space=26.0),
)


class _Flow:
    """Places content top-down onto pages; ``pages`` holds drawing ops per page.

    ``on_new_page(flow, continued)`` draws the page header and leaves ``y`` below it.
    """

    def __init__(self, on_new_page: Callable[["_Flow", bool], None], density: "_Density | None" = None):
        self.d = density or DENSITIES[0]
        self.pages: list[list[tuple]] = []
        self.y = 0.0
        self.bottom = PAGE_H - MARGIN_B
        self._on_new_page = on_new_page
        self.new_page(continued=False)

    @property
    def ops(self) -> list[tuple]:
        return self.pages[-1]

    def new_page(self, continued: bool = True) -> None:
        self.pages.append([])
        self.y = MARGIN_T
        self._on_new_page(self, continued)

    def room(self) -> float:
        return self.bottom - self.y

    def ensure(self, height: float) -> None:
        if self.y + height > self.bottom:
            self.new_page()

    def text_at(self, x: float, y: float, line: list[Run], size: float) -> None:
        """Draw one line; ``y`` is the baseline measured from the top."""
        for text, font in line:
            self.ops.append(("text", x, y, font, size, text))
            x += _width(text, font, size)

    def para(
        self,
        runs: list[Run] | str,
        *,
        size: float | None = None,
        lead: float | None = None,
        x: float = MARGIN_L,
        width: float = CONTENT_W,
        indent: float = 0.0,
        align: str = "left",
        space_after: float = 0.0,
    ) -> None:
        """A wrapped paragraph; continuation lines are indented by ``indent``."""
        if isinstance(runs, str):
            runs = [(runs, REGULAR)]
        size = self.d.body if size is None else size
        lead = self.d.lead if lead is None else lead
        lines = wrap_runs(runs, size, width, width - indent)
        for i, line in enumerate(lines):
            self.ensure(lead)
            self.y += lead
            lx = x + (indent if i else 0.0)
            lw = width - (indent if i else 0.0)
            if align == "center":
                lx += (lw - _line_width(line, size)) / 2
            elif align == "right":
                lx += lw - _line_width(line, size)
            self.text_at(lx, self.y - lead * 0.25, line, size)
        self.y += space_after

    def field(self, label: str, value: str, *, bold: bool = False, **kw: Any) -> None:
        """``Label: value`` with a hanging indent; value in bold when asked."""
        self.para([(label + " ", REGULAR), (value or _DOTS, BOLD if bold else REGULAR)], **kw)

    def gap(self, height: float) -> None:
        self.y += height
