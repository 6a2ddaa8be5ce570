"""Text normalisation: NFC for storage, diacritic folding for search."""

import re
import unicodedata

_SPACES = re.compile(r"\s+")
# đ/Đ have no Unicode decomposition, so NFD + dropping marks leaves them: fold by hand.
_D = str.maketrans({"đ": "d", "Đ": "d"})


def nfc(s: str | None) -> str:
    """NFC-normalise and collapse runs of white space; names keep their diacritics."""
    if not s:
        return ""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", s)).strip()


def fold(s: str | None) -> str:
    """Lower-case, strip diacritics (and đ→d) for matching what officers type."""
    if not s:
        return ""
    s = unicodedata.normalize("NFD", s.translate(_D))
    s = "".join(c for c in s if not unicodedata.combining(c))
    return _SPACES.sub(" ", s.lower()).strip()


def tokens(s: str | None) -> list[str]:
    """Folded alphanumeric tokens."""
    # "KH&CN" is one word to an officer: glue ampersand abbreviations before splitting.
    return re.findall(r"[0-9a-z.]+", re.sub(r"(?<=\w)&(?=\w)", "", fold(s)))


def _hidden(ch: str) -> bool:
    """Characters a terminal or a printed form would not show as themselves: controls (C0, DEL,
    C1: escape sequences, bells), format characters (zero-width spaces, bidi overrides, BOM) and
    lone surrogates (undecodable bytes in a command-line argument)."""
    return unicodedata.category(ch) in ("Cc", "Cf", "Cs")


def clean_field(s: str | None, label_vi: str, label_en: str) -> str:
    """A person's or a paper's text field for storage: NFC, white space collapsed (tabs and line
    breaks become spaces), zero-width and other format characters dropped. Other control
    characters are refused (InvalidInput): their meaning is not certain, and stored raw they
    would print terminal escape codes."""
    if not s:
        return ""
    s = unicodedata.normalize("NFC", s)
    bad = sorted({ch for ch in s if unicodedata.category(ch) in ("Cc", "Cs") and not ch.isspace()})
    if bad:
        from onestop.common.errors import InvalidInput

        codes = ", ".join(f"U+{ord(c):04X}" for c in bad)
        raise InvalidInput(f"{label_vi} chứa ký tự điều khiển không in được ({codes}). Nhập lại bằng chữ thường.",
                           f"{label_en} holds control characters that cannot be printed ({codes}). Type it again.")
    s = "".join(" " if ch.isspace() else ch for ch in s if ch.isspace() or not _hidden(ch))
    return _SPACES.sub(" ", s).strip()


def printable(s):
    """Text safe to show on a terminal: hidden characters of rows stored before they were refused
    become U+FFFD (so an escape sequence is shown, not run). Other values pass unchanged."""
    if not isinstance(s, str) or s.isprintable():  # the fast path: C code, no hidden character
        return s
    return "".join("\ufffd" if _hidden(ch) and ch not in "\t\n" else ch for ch in s)
