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
