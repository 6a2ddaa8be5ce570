"""Office-wide settings: what every desk of an office must agree on (issue 9).

In an office (PostgreSQL), the facts that decide a dossier code or an appointment date, and where the
archive lives, are kept in the office database (``office_settings``), not in each desk's config: the
agency (code, name and the titles printed on forms), the code rule, the working hours, the cutoff, the
time zone, the calendar's official decisions (the text of calendar.toml) and the shared archive root.
The catalog is the ``procedures`` table, shared already. The first desk that connects writes its
values (``db migrate-to`` writes the moved desk's); ``onestop office set`` changes one later. Every
desk reads them at each command (one query) and uses them over its own config. A desk whose config
says otherwise is warned (once a day), naming the setting; one configured for another agency is refused (exit 14).
The officer, printer, scanner inbox, temp folders and the database URL stay per desk.

On SQLite nothing of this runs: the desk's config is the office's.

Part of the store: ``onestop.store.connect`` applies the settings as a desk opens the office database,
and ``db migrate-to`` publishes the moved desk's. The rows are ``onestop.store.office``'s; changing one
setting (``onestop office set``, its value checked) is onestop/intake/office.py.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from onestop.common.errors import ConfigError

# The office-wide settings, in the order ``office show`` lists them. The value published by the first
# desk: its config's value, else the default (None: not published unless the desk sets it).
KEYS: dict[str, object] = {
    "agency.code": "",
    "agency.name": "",
    "agency.parent": None,
    "agency.unit_title": None,
    "agency.place": None,
    "agency.system_name": None,
    "agency.head_title": None,
    "agency.head_name": None,
    "agency.processing_unit": None,
    "counter.code_rule": "tt01-2018",
    "counter.owner_code": "",
    "counter.timezone": "Asia/Ho_Chi_Minh",
    "counter.sessions": ["07:00-11:30", "13:30-17:00"],
    "counter.cutoff": "15:00",
    "calendar": "",       # the text of calendar.toml ([[off]], [[work]], [[not_off]])
    "archive.root": "",   # absolute path of the shared archive folder
}
WARNED = "office-warned.json"  # which disagreements this desk was warned about today (_not_yet_warned)
CALENDAR_COPY = "office-calendar.toml"  # the office calendar, written in the data home for this desk to read


# ---------------------------------------------------------------- this desk's values

def _read_calendar(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def absolute_root(cfg, raw: str) -> str:
    p = Path(os.path.expanduser(raw))
    return str((p if p.is_absolute() else cfg.home / p).resolve())


def desk_value(cfg, key: str, *, explicit: bool):
    """This desk's own value of ``key`` (its config files); with ``explicit``, None where the desk
    does not set it (a default is no disagreement)."""
    if key == "calendar":
        text = _read_calendar(cfg.local_calendar_file)
        return text if text is not None or explicit else ""
    if key == "archive.root":
        raw = str(cfg.get_local("archive.root", "") or "").strip()
        if raw:
            return absolute_root(cfg, raw)
        return None if explicit else str((cfg.home / "archive").resolve())
    value = cfg.get_local(key)
    if value is None and not explicit:
        value = KEYS[key]
    if isinstance(value, str):
        value = value.strip() if key == "agency.code" else value
    return value


def desk_values(cfg) -> dict:
    """What a first desk publishes: its values of every office setting it has (JSON-ready)."""
    out = {}
    for key in KEYS:
        v = desk_value(cfg, key, explicit=False)
        if v is not None:
            out[key] = v
    return out


# ---------------------------------------------------------------- reading the office's

def encode(values: dict) -> dict:
    return {k: json.dumps(v, ensure_ascii=False) for k, v in values.items()}


def _decode(stored: dict) -> dict:
    out = {}
    for k, v in stored.items():
        if k in KEYS:
            try:
                out[k] = json.loads(v)
            except ValueError:
                continue  # written by hand: ignored rather than stop every desk
    return out


def stamp(cfg) -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    try:
        tz = ZoneInfo(cfg.timezone)
    except Exception:  # noqa: BLE001 - a stamp, not a decision
        tz = None
    return datetime.now(tz).isoformat(timespec="seconds")


def settings(db) -> dict:
    """The office settings in force (key -> value); {} on a database no desk has set up yet."""
    from onestop.store import office as store

    return _decode(store.office_settings(db))


def apply(cfg, db, *, strict: bool = True) -> list[dict]:
    """Make ``cfg`` use the office's settings (called when a desk opens the office database).

    The first desk publishes its own. Returns the disagreements (warned on stderr); a desk whose
    ``[agency] code`` is another agency's is refused (ConfigError), since it is pointed at the wrong
    office database or set up for another office (HomeMismatch, unless not ``strict``: ``onestop office`` itself,
    which is how the office is put right)."""
    from onestop.store import office as store

    stored = store.office_settings(db)
    if not stored:
        try:
            stored = store.publish_if_empty(db, encode(desk_values(cfg)), stamp(cfg))
        except db.Error:  # e.g. a role that may not write office_settings: this desk's own, until the owner's
            stored = {}
        if not stored:
            return []
    values = _decode(stored)
    differ = disagreements(cfg, values)
    for d in differ:
        if d["key"] == "agency.code" and strict:
            refuse_agency(cfg, db, d)
    calendar = None
    if "calendar" in values:
        calendar = _calendar_copy(cfg, str(values["calendar"]))
    cfg.use_office({k: v for k, v in values.items() if k != "calendar"}, calendar)
    for d in _not_yet_warned(cfg, differ):
        _warn(d)
    return differ


def _not_yet_warned(cfg, differ: list[dict]) -> list[dict]:
    """The disagreements this desk has not been warned about today: an officer who receives all day is
    told once a day, not at every command (``onestop office show`` lists them at any time). A new or
    changed disagreement is told at once. Kept in the data home (``WARNED``)."""
    import time

    if not differ:
        return []
    path = cfg.home / WARNED
    today = time.strftime("%Y-%m-%d")
    keys = {json.dumps(d, ensure_ascii=False, sort_keys=True, default=str): d for d in differ}
    try:
        seen = json.loads(path.read_text("utf-8"))
        told = set(seen["told"]) if seen.get("day") == today else set()
    except (OSError, ValueError, KeyError, TypeError):
        told = set()
    fresh = [d for k, d in keys.items() if k not in told]
    if fresh:
        try:
            from onestop.common.files import write_atomic

            write_atomic(path, json.dumps({"day": today, "told": sorted(told | set(keys))}, ensure_ascii=False)
                         .encode("utf-8"), durable=False)
        except OSError:
            pass  # a read-only home: warned at every command, as before
    return fresh


def refuse_agency(cfg, db, d: dict) -> None:
    """A desk set up for another agency: refused as a database of another office is (exit 14)."""
    from onestop.domain import codes
    from onestop.common.errors import HomeMismatch

    if not codes.valid_agency_code(str(d["desk"])):
        raise ConfigError(  # as on SQLite: the desk's own value is wrong, whatever the office says
            f"Mã định danh cơ quan '{d['desk']}' trong cấu hình ([agency] code) không hợp lệ.",
            f"The agency identifier '{d['desk']}' in the config ([agency] code) is invalid.")
    where = getattr(db, "url", "")
    raise HomeMismatch(
        f"Cơ sở dữ liệu văn phòng {where} thuộc cơ quan '{d['office']}', còn cấu hình của quầy này ([agency] code) là "
        f"'{d['desk']}': không làm gì để tránh cấp mã của cơ quan khác. Kiểm tra ONESTOP_DATABASE_URL / [database] "
        "url (đúng CSDL của văn phòng này?), rồi sửa hoặc bỏ [agency] code trong cấu hình của quầy (docs/office.md).",
        f"The office database {where} belongs to agency '{d['office']}' but this desk's config ([agency] code) says "
        f"'{d['desk']}': nothing is done, codes of another agency could be issued. Check ONESTOP_DATABASE_URL / "
        "[database] url (this office's database?), then fix or remove [agency] code in the desk's config "
        "(docs/office.md).")


def disagreements(cfg, values: dict) -> list[dict]:
    """The office settings this desk's config sets to something else: key, office, desk."""
    out = []
    for key, office_value in values.items():
        mine = desk_value(cfg, key, explicit=True)
        if mine is None:
            continue
        if key == "counter.sessions" and isinstance(mine, list):
            mine = [str(s).strip() for s in mine]
            office_value = [str(s).strip() for s in office_value] if isinstance(office_value, list) else office_value
        if mine != office_value:
            out.append({"key": key, "office": office_value, "desk": mine})
    return out


def _shown(key: str, value) -> str:
    if key == "calendar":
        return "(tệp lịch khác / another calendar file)"
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else f"'{value}'"


def _warn(d: dict) -> None:
    from onestop.common.i18n import t

    key = d["key"]
    where = "calendar.toml" if key == "calendar" else f"[{key.split('.')[0]}] {key.split('.', 1)[1]}"
    sys.stderr.write("onestop: " + t(
        f"cảnh báo: {where} của quầy này ({_shown(key, d['desk'])}) khác giá trị chung của văn phòng "
        f"({_shown(key, d['office'])}); dùng giá trị của văn phòng. Bỏ nó khỏi cấu hình của quầy, hoặc đổi cho cả "
        f"văn phòng: onestop office set {key} …",
        f"warning: this desk's {where} ({_shown(key, d['desk'])}) differs from the office's "
        f"({_shown(key, d['office'])}); the office's is used. Remove it from the desk's config, or change it for "
        f"the whole office: onestop office set {key} …") + "\n")


def _calendar_copy(cfg, text: str) -> Path:
    """The office calendar as a file in the data home (rewritten only when it changed), so the
    calendar code and its per-year cache read it like a desk's own calendar.toml."""
    path = cfg.home / CALENDAR_COPY
    if _read_calendar(path) != text:
        from onestop.common.files import write_atomic

        os.makedirs(cfg.home, mode=0o700, exist_ok=True)
        write_atomic(path, text.encode("utf-8"), durable=False)
    return path


def publish(cfg, db) -> dict:
    """Write this desk's values as the office settings (``db migrate-to``: the moved desk is the
    office's origin); the caller holds the transaction. Returns what was written."""
    from onestop.store import office as store

    values = desk_values(cfg)
    store.replace_settings(db, encode(values), stamp(cfg))
    return values
