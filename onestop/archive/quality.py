"""Per-page recognition quality: was this page read well enough to keep, or should it be scanned again?

Three signs of a page read badly (calibrated on tests/degraded.py pages, blurred and faded copies of
them; figures in BENCHMARKS.md P12):

- ``low_confidence``: tesseract's mean word confidence (its TSV) below ``MIN_CONFIDENCE``; a page
  read at ~5% character errors scores about 89, the prepared photocopies and stamped pages 95-96;
- ``unknown_words``: fewer than ``MIN_DICTIONARY`` of the words are Vietnamese words (the shipped
  list ``data/vie-words.txt``: tesseract's own ``vie`` dictionary plus the catalog's words, built by
  tools/vie_words.py). Blur turns "TỈNH" into "TÌNH", which is still a word, but also into many
  that are not; the readable copies score ≥ 0.98. Abbreviations (BKHCN, QĐ: no vowel) are not counted;
- ``empty``: fewer than ``MIN_WORDS`` words read at all (a blank, faded or wrong-side page).

Pure: text and confidence in, verdict out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

MIN_CONFIDENCE = 90.0
MIN_DICTIONARY = 0.95
MIN_WORDS = 3
SHARE_MIN_WORDS = 12   # the dictionary share means little on fewer words (a heading, a signature block)

_WORD = re.compile(r"[^\W\d_]+")
_VOWELS = set("aăâeêioôơuưyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ")


@dataclass
class PageQuality:
    confidence: float | None
    words: int
    dictionary: float | None           # share of the counted words found in the word list
    reasons: list[str] = field(default_factory=list)

    @property
    def needs_rescan(self) -> bool:
        return bool(self.reasons)

    def public(self) -> dict:
        return {"confidence": self.confidence, "words": self.words, "dictionary": self.dictionary,
                "reasons": self.reasons, "needs_rescan": self.needs_rescan}


@lru_cache(maxsize=1)
def vocabulary() -> frozenset[str]:
    """The shipped Vietnamese word list (lower case, NFC)."""
    path = Path(__file__).resolve().parents[1] / "data" / "vie-words.txt"
    return frozenset(path.read_text("utf-8").split())


def _abbreviation(w: str) -> bool:
    return len(w) >= 2 and w.isupper() and not (set(w.lower()) & _VOWELS)


def assess(text: str, confidence: float | None) -> PageQuality:
    """The verdict on one OCRed page (``confidence``: tesseract's mean word confidence, None if no word)."""
    words = _WORD.findall(text or "")
    counted = [w.lower() for w in words if not _abbreviation(w)]
    vocab = vocabulary()
    share = round(sum(w in vocab for w in counted) / len(counted), 3) if counted else None
    q = PageQuality(confidence=confidence, words=len(words), dictionary=share)
    if len(words) < MIN_WORDS:
        q.reasons.append("empty")
        return q
    if confidence is not None and confidence < MIN_CONFIDENCE:
        q.reasons.append("low_confidence")
    if share is not None and len(counted) >= SHARE_MIN_WORDS and share < MIN_DICTIONARY:
        q.reasons.append("unknown_words")
    return q
