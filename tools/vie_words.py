"""Make the Vietnamese word (syllable) list shipped in onestop/data/vie-words.txt.

Why: a page whose OCR words are mostly not Vietnamese syllables was read badly (blurred, too faint,
a photo), even when tesseract reports a fair confidence. The list is every lower-case word of
tesseract's own ``vie`` dictionary (tessdata, Apache-2.0: the engine onestop already runs) plus the
words of the procedure catalog shipped in config/, NFC. About 4,500 words, 30 KB.

Run once after a tesseract data update:  .venv/bin/python tools/vie_words.py
(needs ``combine_tessdata`` and ``dawg2wordlist`` from the tesseract-ocr package).
"""

import glob
import json
import re
import subprocess
import tempfile
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DST = ROOT / "onestop" / "data" / "vie-words.txt"
WORD = re.compile(r"[^\W\d_]+")


def tesseract_words() -> set[str]:
    [data] = glob.glob("/usr/share/tesseract-ocr/*/tessdata/vie.traineddata")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["combine_tessdata", "-u", data, f"{tmp}/vie."], check=True, capture_output=True)
        subprocess.run(["dawg2wordlist", f"{tmp}/vie.lstm-unicharset", f"{tmp}/vie.lstm-word-dawg", f"{tmp}/w.txt"],
                       check=True, capture_output=True)
        return {w.strip() for w in Path(f"{tmp}/w.txt").read_text("utf-8").splitlines()}


def catalog_words() -> set[str]:
    data = json.loads((ROOT / "config" / "procedures.sample.json").read_text("utf-8"))
    out: set[str] = set()

    def walk(v, key=""):
        if isinstance(v, dict):
            for k, x in v.items():
                walk(x, k)
        elif isinstance(v, list):
            for x in v:
                walk(x, key)
        elif isinstance(v, str) and key.upper().startswith("TEN"):  # names (TenTTHC, TenGiayTo…), not keys or codes
            out.update(WORD.findall(v))
    walk(data)
    return out


words = {unicodedata.normalize("NFC", w).lower() for w in tesseract_words() | catalog_words()}
words = sorted(w for w in words if WORD.fullmatch(w))
DST.write_text("\n".join(words) + "\n", "utf-8")
print(f"{DST}: {len(words)} words")
