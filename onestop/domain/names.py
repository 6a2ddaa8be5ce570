"""Applicant names: signs that a name was typed without its diacritics or through a
half-working input method (raw Telex/VNI keys). Pure; the counter asks the officer to confirm.
"""

from __future__ import annotations

import re
import unicodedata

# Vietnamese syllables (written without marks) never end in these letters; Telex tone keys
# (s f r x j) and the breve/horn key (w) left unconverted do.
_TELEX_END = re.compile(r"[aeiouy][sfrxjw]$|[sfrxjwz]$")
# Telex vowel keys doubled or followed by w: "ee" -> ê, "aw" -> ă, "uw" -> ư, "dd" -> đ.
_TELEX_INNER = re.compile(r"aa|ee|dd|aw|ow|uw|uow")
# VNI: a tone or vowel digit right after a letter ("Nguye64n").
_VNI = re.compile(r"[a-z][1-9]")


def name_warning(name: str) -> str | None:
    """Why ``name`` looks mistyped: "telex", "vni", "no_diacritics", or None when it looks right.

    Only a warning: foreign and company names may legitimately lack marks, so the officer confirms.
    """
    text = unicodedata.normalize("NFC", name or "").strip()
    words = [w for w in re.split(r"[\s,.\-]+", text) if w]
    if not words:
        return None
    if any(_VNI.search(w.lower()) for w in words):
        return "vni"
    ascii_words = [w.lower() for w in words if w.isascii() and w.isalpha()]
    if any(_TELEX_END.search(w) or _TELEX_INNER.search(w) for w in ascii_words if len(w) > 1):
        return "telex"
    if any(c.isalpha() for c in text) and text.isascii():
        return "no_diacritics"
    return None


def warning_text(kind: str, name: str) -> tuple[str, str]:
    """The (vi, en) sentence the officer reads for a :func:`name_warning` kind."""
    if kind == "vni":
        return (f"Họ tên '{name}' có chữ số lẫn trong chữ: có thể bộ gõ VNI chưa chuyển dấu.",
                f"The name '{name}' has digits inside words: the VNI input method may not have converted it.")
    if kind == "telex":
        return (f"Họ tên '{name}' trông như gõ Telex chưa chuyển dấu (vd. 'Nguyeenx' thay vì 'Nguyễn').",
                f"The name '{name}' looks like raw Telex keys (e.g. 'Nguyeenx' for 'Nguyễn').")
    return (f"Họ tên '{name}' không có dấu: giấy tờ ghi tên có dấu thì phải nhập đúng dấu.",
            f"The name '{name}' has no diacritics: type it as written on the ID card.")
