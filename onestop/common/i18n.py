"""User-facing language: Vietnamese by default, English on request.

Messages are written inline as ``t("Vietnamese", "English")`` pairs, so the two texts stay
side by side in the code and a missing translation is impossible.
"""

import os

_lang = None


def set_lang(lang: str | None) -> None:
    """Set the language for this process ("vi" or "en")."""
    global _lang
    _lang = (lang or "").lower()[:2] or None


def lang() -> str:
    """The active language: --lang, else ONESTOP_LANG, else Vietnamese."""
    if _lang in ("vi", "en"):
        return _lang
    env = os.environ.get("ONESTOP_LANG", "").lower()[:2]
    return "en" if env == "en" else "vi"


def t(vi: str, en: str) -> str:
    """Pick the text for the active language."""
    return en if lang() == "en" else vi
