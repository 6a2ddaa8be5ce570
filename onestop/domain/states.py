"""The dossier state machine (TrangThaiHoSo codes of the national portal): pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

STATUS_NAMES_VI = {
    "1": "Mới đăng ký",
    "2": "Được tiếp nhận",
    "3": "Không được tiếp nhận",
    "4": "Đang xử lý",
    "5": "Yêu cầu bổ sung giấy tờ",
    "6": "Yêu cầu thực hiện nghĩa vụ tài chính",
    "7": "Công dân yêu cầu rút hồ sơ",
    "8": "Dừng xử lý",
    "9": "Đã xử lý xong",
    "10": "Đã trả kết quả",
}
STATUS_NAMES_EN = {
    "1": "Submitted online",
    "2": "Received",
    "3": "Refused",
    "4": "In processing",
    "5": "Papers requested",
    "6": "Fees due",
    "7": "Withdrawn",
    "8": "Stopped",
    "9": "Result ready",
    "10": "Result returned",
}

# Allowed moves. 5 -> 4 is "the requested papers arrived" (the clock restarts); 6 -> 4 "fees paid".
TRANSITIONS: dict[str, frozenset[str]] = {
    "1": frozenset({"2", "3"}),
    "2": frozenset({"4", "5", "6", "7", "8", "9"}),
    "4": frozenset({"5", "6", "7", "8", "9"}),
    "5": frozenset({"4", "7", "8"}),
    "6": frozenset({"4", "7", "8", "9"}),
    "9": frozenset({"10"}),
    "3": frozenset(),
    "7": frozenset(),
    "8": frozenset(),
    "10": frozenset(),
}

# Statuses where processing has ended (for the on-time figure: end = first of these).
FINISHED = frozenset({"3", "7", "8", "9", "10"})
OPEN = frozenset({"2", "4", "5", "6"})

# Words an officer may type instead of a number (folded, no diacritics).
ALIASES = {
    "handover": "4", "xu-ly": "4", "xuly": "4", "process": "4", "chuyen": "4",
    "request": "5", "bo-sung": "5", "bosung": "5", "papers": "5",
    "fees": "6", "phi": "6", "nghia-vu": "6",
    "withdraw": "7", "rut": "7",
    "stop": "8", "dung": "8",
    "done": "9", "xong": "9", "ready": "9",
    "return": "10", "tra": "10", "returned": "10",
}

# Moves that cannot be undone (no move leads out of them, or only to the next end state): the CLI
# asks for confirmation at a terminal before making them.
IRREVERSIBLE = frozenset({"3", "7", "8", "9", "10"})

# Vietnamese phrases an officer types (folded, words joined by "-"): the status names themselves
# and the short forms heard at the counter ("da xu ly", "tra ket qua", "bo sung").
PHRASES = {
    "duoc-tiep-nhan": "2", "tiep-nhan": "2",
    "khong-duoc-tiep-nhan": "3", "tu-choi": "3",
    "dang-xu-ly": "4", "chuyen-xu-ly": "4", "nhan-du-bo-sung": "4",
    "yeu-cau-bo-sung": "5", "yeu-cau-bo-sung-giay-to": "5",
    "yeu-cau-thuc-hien-nghia-vu-tai-chinh": "6", "nghia-vu-tai-chinh": "6", "nop-phi": "6",
    "cong-dan-yeu-cau-rut-ho-so": "7", "rut-ho-so": "7",
    "dung-xu-ly": "8",
    "da-xu-ly": "9", "da-xu-ly-xong": "9", "xu-ly-xong": "9", "co-ket-qua": "9",
    "da-tra-ket-qua": "10", "tra-ket-qua": "10",
}

# What help and errors list for each target of `move` (vi word, en word).
MOVE_WORDS = {
    "4": ("dang xu ly", "handover"), "5": ("bo sung", "request"), "6": ("nghia vu tai chinh", "fees"),
    "7": ("rut ho so", "withdraw"), "8": ("dung xu ly", "stop"), "9": ("da xu ly", "done"),
    "10": ("tra ket qua", "return"),
}

ACTIONS_VI = {
    "4": "Chuyển hồ sơ đến cơ quan giải quyết",
    "5": "Yêu cầu bổ sung, hoàn thiện hồ sơ",
    "6": "Yêu cầu thực hiện nghĩa vụ tài chính",
    "7": "Công dân rút hồ sơ",
    "8": "Dừng xử lý hồ sơ",
    "9": "Đã xử lý xong",
    "10": "Trả kết quả cho công dân",
}


def status_name(code: str, lang: str = "vi") -> str:
    return (STATUS_NAMES_EN if lang == "en" else STATUS_NAMES_VI).get(str(code), str(code))


def resolve_status(word: str) -> str | None:
    """A status code from a number or an alias ("4", "handover", "bo-sung"); None if unknown."""
    from onestop.common.text import fold

    w = "-".join(fold(word).replace("-", " ").replace("_", " ").split())
    if w in STATUS_NAMES_VI:
        return w
    return ALIASES.get(w) or PHRASES.get(w) or ALIASES.get(w.replace("-", ""))


def move_words(lang: str = "vi") -> str:
    """The targets of `move` as "4 dang xu ly, 5 bo sung, …" for help texts and errors."""
    i = 1 if lang == "en" else 0
    return ", ".join(f"{k} {v[i]}" for k, v in MOVE_WORDS.items())


def allowed_moves(current: str, lang: str = "vi") -> str:
    """The moves allowed from ``current`` as `move` takes them ("4 dang xu ly, 5 bo sung, …");
    '' for a final status."""
    i = 1 if lang == "en" else 0
    targets = sorted(TRANSITIONS.get(current, frozenset()), key=int)
    return ", ".join(f"{k} {MOVE_WORDS[k][i]}" if k in MOVE_WORDS else f"{k} {status_name(k, lang)}" for k in targets)


def label(code: str, lang: str = "vi") -> str:
    """A status as the officer reads it: "Đang xử lý (4)"."""
    return f"{status_name(code, lang)} ({code})"


# Vietnamese words for a status as officers say them (folded, spaces); see ``parse_status``.
STATUS_WORDS_VI = {
    "moi dang ky": "1", "dang ky": "1",
    "tiep nhan": "2", "da tiep nhan": "2", "duoc tiep nhan": "2",
    "tu choi": "3", "khong tiep nhan": "3", "khong duoc tiep nhan": "3",
    "dang xu ly": "4", "chuyen xu ly": "4",
    "bo sung": "5", "yeu cau bo sung": "5", "cho bo sung": "5",
    "nghia vu tai chinh": "6", "cho nop phi": "6", "nop phi": "6",
    "rut ho so": "7", "rut": "7",
    "dung xu ly": "8", "dung": "8",
    "da xu ly": "9", "xu ly xong": "9", "da xu ly xong": "9", "co ket qua": "9",
    "tra ket qua": "10", "da tra ket qua": "10", "da tra": "10",
}


def parse_status(text: str) -> str | None:
    """A status code from what a person typed: a code ("5"), its name in Vietnamese with or without
    diacritics ("Yêu cầu bổ sung giấy tờ", "bo sung"), in English ("papers requested"), or an alias
    ("request"); None when unknown or ambiguous."""
    from onestop.common.text import fold

    w = " ".join(fold(text or "").replace("-", " ").replace("_", " ").split())
    if not w:
        return None
    if w in STATUS_NAMES_VI:
        return w
    for names in (STATUS_NAMES_VI, STATUS_NAMES_EN):
        for code, name in names.items():
            if fold(name) == w:
                return code
    if w in STATUS_WORDS_VI:
        return STATUS_WORDS_VI[w]
    alias = ALIASES.get(w.replace(" ", "-")) or ALIASES.get(w.replace(" ", ""))
    if alias:
        return alias
    # A unique part of one name ("nghia vu" → 6); several matches are ambiguous.
    hits = {code for names in (STATUS_NAMES_VI, STATUS_NAMES_EN) for code, name in names.items()
            if f" {w} " in f" {fold(name)} "}
    return hits.pop() if len(hits) == 1 else None


def status_choices(lang: str = "vi") -> str:
    """'2 Được tiếp nhận, 3 …' for help and error messages."""
    names = STATUS_NAMES_EN if lang == "en" else STATUS_NAMES_VI
    return ", ".join(f"{k} {v}" for k, v in names.items())


@dataclass(frozen=True)
class Move:
    from_status: str
    to_status: str
    papers_arrived: bool  # 5 -> 4: the time limit restarts from this day


def check_move(current: str, target: str) -> Move:
    """Validate a status change; ValueError naming both statuses when it is not allowed."""
    if target not in TRANSITIONS.get(current, frozenset()):
        raise ValueError(f"{current}->{target}")
    return Move(current, target, papers_arrived=(current == "5" and target == "4"))


def can_reschedule(status: str, rescheduled: int, now_iso: str, due_iso: str) -> str | None:
    """Why a reschedule (Mẫu 04) is refused, or None when allowed.

    Allowed once, while the dossier is open, and notified at least one day before it falls due
    (TT 01/2018 Art. 19; here: ``now`` at least 24 h before ``due``). ISO strings must share an offset.
    """
    from datetime import datetime, timedelta

    if status not in OPEN:
        return "finished"
    if rescheduled:
        return "already"
    if datetime.fromisoformat(due_iso) - datetime.fromisoformat(now_iso) < timedelta(days=1):
        return "too_late"
    return None
