"""Dossier codes (mã số hồ sơ): pure formatting and parsing, no I/O.

TT 01/2018/TT-VPCP Art. 19: ``<agency code>-<YYMMDD>-<XXXX>``; the sequence is 1-based per agency
per day, zero-padded to 4 and growing past 9999 (never truncated). TT 04/2025 adds a variant for
national centralised services with two digits of the system owner's code before the sequence.
Rules are versioned with the date they took effect so a dossier keeps the rule it was issued under.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class CodeRule:
    name: str
    effective_from: date
    owner_digits: bool  # the TT 04/2025 "AA" prefix before the sequence
    description: str


RULES: dict[str, CodeRule] = {
    "tt01-2018": CodeRule("tt01-2018", date(2018, 8, 21), False, "<agency>-<YYMMDD>-<XXXX>"),
    "tt04-2025": CodeRule("tt04-2025", date(2026, 1, 25), True, "<agency>-<YYMMDD>-<AA><XXXX>"),
}

# The agency identifier's layout changed in 2025 (QĐ 20/2020, amended): validate loosely —
# dot-separated groups of letters and digits, e.g. 000.00.01.H56, 000.A0.01.H26, 000.713.18.G12.
_AGENCY = re.compile(r"^[0-9A-Z]{1,6}(\.[0-9A-Z]{1,6}){1,5}$")
_CODE = re.compile(r"^(?P<agency>.+)-(?P<day>\d{6})-(?P<seq>\d{4,})$")


def valid_agency_code(agency: str) -> bool:
    """Loose check of an electronic agency identifier (mã định danh điện tử)."""
    return bool(_AGENCY.match(agency or ""))


def format_code(agency: str, day: date, seq: int, rule: str = "tt01-2018", owner: str = "") -> str:
    """Build the dossier code for the ``seq``-th dossier of ``agency`` on ``day``."""
    if seq < 1:
        raise ValueError("sequence numbers start at 1")
    return code_prefix(agency, day, rule, owner) + f"{seq:04d}"


def code_prefix(agency: str, day: date, rule: str = "tt01-2018", owner: str = "") -> str:
    """Everything of a code before its sequence number, which follows zero-padded to 4 digits (more
    when it grows past 9999): the office store builds the code from these in its allocating statement."""
    r = RULES[rule]
    prefix = ""
    if r.owner_digits:
        if not re.fullmatch(r"\d{2}", owner or ""):
            raise ValueError("rule tt04-2025 needs a 2-digit system owner code")
        prefix = owner
    return f"{agency}-{day:%y%m%d}-{prefix}"


@dataclass(frozen=True)
class ParsedCode:
    agency: str
    day: date
    seq: int


def parse_code(code: str, rule: str = "tt01-2018") -> ParsedCode:
    """Split a dossier code into agency, day and sequence; ValueError if malformed."""
    m = _CODE.match((code or "").strip())
    if not m:
        raise ValueError(f"not a dossier code: {code!r}")
    d = m["day"]
    day = date(2000 + int(d[:2]), int(d[2:4]), int(d[4:6]))
    seq = m["seq"]
    if RULES[rule].owner_digits:
        seq = seq[2:]
    return ParsedCode(m["agency"], day, int(seq))
