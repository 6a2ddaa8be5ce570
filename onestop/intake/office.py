"""``onestop office show`` and ``onestop office set``: the office-wide settings of an office database as a
supervisor sees and changes them, each new value checked like the config's before every desk takes it.

What the settings are, and how a desk takes them when it connects, is onestop/store/settings.py.
"""

from __future__ import annotations

import os
from pathlib import Path

from onestop.common.errors import ConfigError, InvalidInput
from onestop.store.settings import KEYS, absolute_root, desk_value, encode, refuse_agency, settings, stamp


def is_office(cfg) -> bool:
    from onestop import store

    return store.backend(cfg) == "postgresql"


def show(cfg, db) -> list[dict]:
    """Each office setting: key, the office's value, this desk's (when it sets another), when set."""
    from onestop.store import office as store

    values = settings(db)
    times = store.setting_times(db)
    out = []
    for key in KEYS:
        if key not in values:
            continue
        mine = desk_value(cfg, key, explicit=True)
        row = {"key": key, "value": values[key], "updated_at": times.get(key, ""),
               "desk": mine if mine is not None and mine != values[key] else None}
        out.append(row)
    return out


def parse_value(cfg, key: str, text: str):
    """The value ``office set KEY TEXT`` stores, checked like the config's (InvalidInput otherwise)."""
    from onestop.domain import codes

    if key not in KEYS:
        raise InvalidInput(
            f"'{key}' không phải thiết lập chung của văn phòng. Các thiết lập: {', '.join(KEYS)}.",
            f"'{key}' is not an office-wide setting. The settings: {', '.join(KEYS)}.")
    text = text.strip() if key != "calendar" else text
    if key == "agency.code" and not codes.valid_agency_code(text):
        raise InvalidInput(f"Mã định danh cơ quan '{text}' không hợp lệ.", f"The agency identifier '{text}' is invalid.")
    if key == "counter.code_rule" and text not in ("tt01-2018", "tt04-2025"):
        raise InvalidInput("Quy tắc mã: tt01-2018 hoặc tt04-2025.", "The code rule: tt01-2018 or tt04-2025.")
    if key == "counter.timezone":
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(text)
        except Exception as e:  # noqa: BLE001
            raise InvalidInput(f"Múi giờ '{text}' không hợp lệ.", f"The time zone '{text}' is invalid.") from e
    if key in ("counter.sessions", "counter.cutoff"):
        from onestop.common.config import _parse_hhmm, parse_sessions

        parts = [s.strip() for s in text.split(",") if s.strip()] if key == "counter.sessions" else [text]
        if key == "counter.sessions" and not parts:
            raise InvalidInput("Cần ít nhất một buổi làm việc, ví dụ 07:00-11:30,13:30-17:00.",
                               "Give at least one session, e.g. 07:00-11:30,13:30-17:00.")
        try:
            parse_sessions(parts) if key == "counter.sessions" else _parse_hhmm(text, "counter.cutoff")
        except ConfigError as e:  # the value typed here, not a config file: exit 4
            raise InvalidInput(e.vi, e.en) from None
        return parts if key == "counter.sessions" else text
    if key == "calendar":
        from onestop.intake.calendar_source import read_decisions

        path = Path(text)
        read_decisions(path)  # a bad file is refused here, not at every desk's next receipt
        return path.read_text(encoding="utf-8")
    if key == "archive.root":
        if not Path(os.path.expanduser(text)).is_absolute():
            raise InvalidInput(
                f"Thư mục lưu trữ chung '{text}' phải là đường dẫn tuyệt đối, giống nhau trên mọi quầy "
                "(ví dụ /srv/onestop-archive).",
                f"The shared archive folder '{text}' must be an absolute path, the same on every desk "
                "(e.g. /srv/onestop-archive).")
        return absolute_root(cfg, text)
    return text


def set_value(cfg, db, key: str, text: str) -> dict:
    """Change one office setting for every desk; returns key, old and new value."""
    from onestop.store import transaction
    from onestop.store import office as store

    value = parse_value(cfg, key, text)
    old = settings(db)
    if not store.may_change_settings(db):
        from onestop.common.errors import DatabaseAuth

        raise DatabaseAuth(
            f"Người dùng CSDL của quầy này ({getattr(db, 'url', '')}) không được đổi thiết lập chung của văn phòng: "
            "chỉ người sở hữu CSDL hoặc vai trò giám sát (onestop_supervisor) được chạy 'onestop office set' "
            "(docs/office.md mục 1.3). Không có gì thay đổi.",
            f"This desk's database user ({getattr(db, 'url', '')}) may not change the office settings: only the "
            "database owner or the supervisor role (onestop_supervisor) runs 'onestop office set' (docs/office.md "
            "section 1.3). Nothing was changed.")
    mine = desk_value(cfg, "agency.code", explicit=True)
    if key != "agency.code" and mine and old.get("agency.code") and mine != old["agency.code"]:
        # ``office show`` stays open to such a desk (how it is put right), changing the office does not.
        refuse_agency(cfg, db, {"key": "agency.code", "office": old["agency.code"], "desk": mine})
    if key == "agency.code" and old.get("agency.code") != value and store.latest_agency(db) is not None:
        raise InvalidInput(
            f"CSDL văn phòng đã có hồ sơ của cơ quan '{old.get('agency.code')}': không đổi mã cơ quan (mã hồ sơ "
            "đã cấp mang mã này). Một cơ quan khác dùng một CSDL riêng (docs/office.md).",
            f"The office database already holds dossiers of agency '{old.get('agency.code')}': its agency code "
            "is not changed (the codes issued carry it). Another agency uses a database of its own (docs/office.md).")
    with transaction(db):
        store.replace_settings(db, encode({key: value}), stamp(cfg))
        if key == "agency.code" and store.office_facts(db):
            # The database's recorded agency (onestop/store/home.py checks it before issuing a code) follows;
            # none recorded yet: the first receipt records the office's.
            store.record_office(db, {"agency": value})
    return {"key": key, "old": old.get(key), "new": value}
