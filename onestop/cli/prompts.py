"""Questions at the counter: each answer is checked where it is typed and asked again when wrong.

Yes/no questions show their choices ([c/k] in Vietnamese, [y/n] in English) and accept both;
a number must be in range; the chip ID card's QR line, scanned at any question, fills the
applicant (``on_qr``) instead of becoming an answer.
"""

from __future__ import annotations

import re
from typing import Callable

import click

from onestop.common.i18n import t

YES = {"c", "co", "có", "y", "yes", "ok", "dong y", "đồng ý"}
NO = {"k", "khong", "không", "n", "no"}

# What a hand scanner types for the chip card: 12 digits, then '|'-separated fields.
_QR_LINE = re.compile(r"^\s*\d{12}\s*\|.*\|")


def looks_like_qr(text: str) -> bool:
    return bool(_QR_LINE.match(text or "")) and text.count("|") >= 5


def say(text: str) -> None:
    click.echo(text, err=True)


class Prompter:
    """Reads answers on stderr/stdin. ``on_qr(card) -> dict`` records a scanned QR and returns
    the fields it filled ({"name": …, "id": …}); a question about one of them takes that value."""

    def __init__(self, on_qr: Callable | None = None):
        self.on_qr = on_qr

    def _read(self, text: str, default: str | None, field: str | None = None) -> str:
        from onestop.domain.chip_qr import InvalidId, parse_chip_qr

        while True:
            value = click.prompt(text, default=default if default is not None else "",
                                 show_default=bool(default), err=True, prompt_suffix=": ")
            if not looks_like_qr(value):
                return value
            try:
                card = parse_chip_qr(value)
            except InvalidId as e:
                say(t(e.message_vi, e.message_en))
                continue
            filled = self.on_qr(card) if self.on_qr else {}
            say(t(f"Đã đọc QR CCCD: {card.name}, số {card.cccd}.", f"Chip ID QR read: {card.name}, number {card.cccd}."))
            if field and field in filled:
                return filled[field]

    def text(self, text: str, *, default: str | None = None, check: Callable[[str], str] | None = None,
             field: str | None = None, required: bool = False) -> str:
        """A free answer; ``check(value)`` returns the stored form or raises OnestopError (asked again)."""
        from onestop.common.errors import OnestopError

        while True:
            value = self._read(text, default, field)
            if required and not value.strip():
                say(t("Cần nhập thông tin này.", "This is required."))
                continue
            if check is None:
                return value
            try:
                return check(value)
            except OnestopError as e:
                say(e.message + t(" Nhập lại.", " Try again."))

    def yes_no(self, text: str, default: bool | None = None) -> bool:
        from onestop.common.text import fold

        yes, no = t("c", "y"), t("k", "n")
        choices = f"[{yes.upper()}/{no}]" if default is True else f"[{yes}/{no.upper()}]" if default is False else f"[{yes}/{no}]"
        while True:
            answer = self._read(f"{text} {choices}", None).strip()
            if not answer and default is not None:
                return default
            word = fold(answer)
            if answer.lower() in YES or word in YES:
                return True
            if answer.lower() in NO or word in NO:
                return False
            say(t("Trả lời c (có) hoặc k (không).", "Answer y (yes) or n (no)."))

    def number(self, text: str, low: int, high: int, *, default: int | None = None) -> int:
        """A whole number in ``[low, high]`` (a pick-list choice, a page count)."""
        while True:
            answer = self._read(text, None if default is None else str(default)).strip()
            if answer.isdigit() and low <= int(answer) <= high:
                return int(answer)
            say(t(f"Nhập một số từ {low} đến {high}.", f"Enter a number from {low} to {high}."))
