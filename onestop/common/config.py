"""Configuration and the data home.

Resolution order:
- config dir: ``ONESTOP_CONFIG_DIR``, else the ``config/`` folder of the checkout, else ``/etc/onestop``;
- data home: ``ONESTOP_HOME``, else ``[paths] data_dir`` of the config, else ``~/.local/share/onestop``;
- ``<home>/onestop.toml``, when present, is merged over ``<config dir>/onestop.toml`` so one machine can
  override the agency settings without touching the shared file;
- in an office (PostgreSQL), the office-wide settings (agency, code rule, calendar, archive root:
  ``onestop.store.settings.KEYS``) come from the office database and replace this desk's values once the store
  is open (``Config.use_office``); the desk's own values stay in ``local``.
"""

from __future__ import annotations

import os
import sys
import tomllib
from dataclasses import dataclass, field
from datetime import time
from functools import cached_property
from pathlib import Path

from onestop.common.errors import ConfigError

REPO_CONFIG = Path(__file__).resolve().parents[2] / "config"


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        return {}
    except IsADirectoryError as e:
        raise ConfigError(f"{path} là một thư mục, không phải tệp cấu hình. Đổi tên hoặc xóa thư mục đó.",
                          f"{path} is a folder, not a config file. Rename or remove that folder.") from e
    except UnicodeDecodeError as e:  # tomllib reads UTF-8 only (a file saved as UTF-16 by a Windows editor)
        raise ConfigError(
            f"Tệp cấu hình {path} không phải UTF-8 ({e.reason}). Lưu lại tệp với bảng mã UTF-8 rồi chạy lại.",
            f"Config file {path} is not UTF-8 ({e.reason}). Save it again as UTF-8 and run again.") from e
    except (tomllib.TOMLDecodeError, OSError) as e:
        raise ConfigError(
            f"Tệp cấu hình {path} không đọc được ({e}). Hãy sửa tệp rồi chạy lại.",
            f"Config file {path} cannot be read ({e}). Fix the file and run again.",
        ) from e


# Every setting onestop reads, by section, with its kind (checked at load, so a wrong value stops
# the command with exit 8 naming the setting instead of failing somewhere later).
_TEXT, _INT, _NUM, _LIST = "text", "int", "number", "list"
SETTINGS: dict[str, dict[str, str]] = {
    "agency": {k: _TEXT for k in ("code", "name", "parent", "unit_title", "place", "system_name", "head_title",
                                  "head_name", "processing_unit")},
    "counter": {"officer": _TEXT, "unit": _TEXT, "timezone": "timezone", "sessions": "sessions", "cutoff": "hhmm",
                "code_rule": "code_rule", "owner_code": _TEXT, "duplicate_window": _NUM, "desk": _TEXT},
    "paths": {"data_dir": _TEXT, "catalog": _TEXT, "calendar": _TEXT},
    "scan": {"min_dpi": _INT, "inbox": _TEXT, "dpi": _INT, "max_pixels": _INT, "ocr_timeout": _NUM,
             "rotate_threshold": _NUM, "settle_seconds": _NUM, "device": _TEXT, "mode": _TEXT, "source": _TEXT},
    "results": {"electronic": _LIST, "signed_required": _LIST},
    # docs/signing.md: a PKCS#12 file or a PKCS#11 token; this desk's own (never an office setting)
    "signing": {"pkcs12": _TEXT, "password_file": _TEXT, "pkcs11_lib": _TEXT, "token_label": _TEXT,
                "key_label": _TEXT, "tsa_url": _TEXT, "tsa_timeout": _NUM, "trust_roots": _LIST, "crls": _LIST},
    "sync": {"url": "sync_url", "spool": _TEXT, "batch_size": _INT, "dstcode": _TEXT, "username": _TEXT,
             "timeout": _NUM, "retries": _INT, "backoff": _NUM, "ca_file": _TEXT, "session_error_codes": _LIST,
             "upload_workers": _INT, "spool_ack_days": _NUM, "payment_codes": "payment_codes"},
    "database": {"url": _TEXT, "idle_timeout": _NUM, "lock_timeout": _NUM, "lock_wait": _NUM},
    "archive": {"root": _TEXT},
    "fees": {"collect": _TEXT},  # docs/fees.md
    "reuse": {"valid_days": "days_table", "results": "code_lists"},  # docs/reuse.md
    "online": {"pull": "bool", "helper_idle": _NUM},  # docs/online.md
    "report": {"online_payment_target": _NUM, "reuse_target": "share", "online_target": _NUM,
               "digitization_target": "share", "results_sync_target": "share"},
}
CODE_RULES = ("tt01-2018", "tt04-2025")


def _closest(word: str, known) -> str:
    import difflib

    found = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return found[0] if found else ""


def check_settings(data: dict, sources: list[tuple[Path, dict]]) -> list[tuple[str, str]]:
    """Check every known setting's type and value (ConfigError naming it and its file); the unknown
    ones are returned as warnings, with the closest known name (``cuttoff`` -> ``cutoff``)."""
    def file_of(section: str, key: str | None = None) -> str:
        for path, d in reversed(sources):  # the later file wins the merge
            if section in d and (key is None or (isinstance(d[section], dict) and key in d[section])):
                return str(path)
        return "onestop.toml"

    warnings = []
    for section, values in data.items():
        known = SETTINGS.get(section)
        if known is None:
            where, near = file_of(section), _closest(section, SETTINGS)
            warnings.append((f"mục [{section}] trong {where} không được dùng" + (f" (có phải [{near}]?)" if near else ""),
                             f"section [{section}] in {where} is not used" + (f" (did you mean [{near}]?)" if near else "")))
            continue
        if not isinstance(values, dict):
            where = file_of(section)
            raise ConfigError(f"'{section}' trong {where} phải là một mục [{section}].",
                              f"'{section}' in {where} must be a section [{section}].")
        for key, value in values.items():
            kind = known.get(key)
            if kind is None:
                where, near = file_of(section, key), _closest(key, known)
                warnings.append(
                    (f"[{section}] {key} trong {where} không được dùng" + (f" (có phải '{near}'?)" if near else ""),
                     f"[{section}] {key} in {where} is not used" + (f" (did you mean '{near}'?)" if near else "")))
                continue
            _check_value(section, key, kind, value, lambda s=section, k=key: file_of(s, k))
    return warnings


def _check_value(section: str, key: str, kind: str, value, where) -> None:
    """``where()``: the file that set it, looked up only for a message."""
    name = f"[{section}] {key}"

    def bad(vi: str, en: str):
        raise ConfigError(f"{name} = {value!r} trong {where()} không hợp lệ: {vi}.",
                          f"{name} = {value!r} in {where()} is invalid: {en}.")

    if kind in (_TEXT, "timezone", "hhmm", "code_rule", "sync_url") and not isinstance(value, str):
        bad("cần một chuỗi trong ngoặc kép", "expected a string in double quotes")
    if kind == _INT and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        bad("cần một số nguyên không âm, không có ngoặc kép", "expected a whole number >= 0, without quotes")
    if kind == _NUM and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
        bad("cần một số không âm, không có ngoặc kép", "expected a number >= 0, without quotes")
    if kind == "bool" and not isinstance(value, bool):
        bad("cần true hoặc false, không có ngoặc kép", "expected true or false, without quotes")
    if kind == _LIST and not isinstance(value, list):
        bad("cần một danh sách [ ... ]", "expected a list [ ... ]")
    if kind == "days_table" and not (isinstance(value, dict) and all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value.values())):
        bad('cần một bảng { "MÃ" = số ngày, ... }', 'expected a table { "CODE" = days, ... }')
    if kind == "code_lists" and not (isinstance(value, dict) and all(
            isinstance(v, list) and all(isinstance(x, str) for x in v) for v in value.values())):
        bad('cần một bảng { "MÃ-THÀNH-PHẦN" = ["MÃ-KẾT-QUẢ", ...] }', 'expected a table { "COMPONENT" = ["RESULT", ...] }')
    if kind == "payment_codes" and not (isinstance(value, dict) and all(
            k in ("tien-mat", "chuyen-khoan", "truc-tuyen") and isinstance(v, str) for k, v in value.items())):
        bad('cần một bảng { tien-mat = "1", chuyen-khoan = "2", truc-tuyen = "3" }',
            'expected a table { tien-mat = "1", chuyen-khoan = "2", truc-tuyen = "3" }')
    if kind == "share" and (isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1):
        bad("cần một tỷ lệ từ 0 đến 1, vd. 0.8", "expected a share from 0 to 1, e.g. 0.8")
    if kind == "sessions":
        parse_sessions(value)
    elif kind == "hhmm":
        _parse_hhmm(value, name)
    elif kind == "code_rule" and value not in CODE_RULES:
        bad(f"quy tắc mã là {' hoặc '.join(CODE_RULES)}", f"the code rule is {' or '.join(CODE_RULES)}")
    elif kind == "timezone":
        check_timezone(value, name)
    elif kind == "sync_url" and value:
        check_sync_url(value, name)


def check_timezone(value: str, name: str = "[counter] timezone") -> None:
    """ConfigError unless ``value`` is an IANA time zone this machine knows (Asia/Ho_Chi_Minh)."""
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(value)
    except Exception as e:  # noqa: BLE001 - ValueError, ZoneInfoNotFoundError, IsADirectoryError…
        raise ConfigError(
            f"Múi giờ '{value}' ({name}) không hợp lệ: dùng tên IANA, ví dụ Asia/Ho_Chi_Minh "
            "(gói tzdata phải được cài).",
            f"The time zone '{value}' ({name}) is invalid: use an IANA name, e.g. Asia/Ho_Chi_Minh "
            "(the tzdata package must be installed).") from e


def check_sync_url(url: str, name: str = "[sync] url") -> str:
    """``url`` if it is an http(s) address with a host; ConfigError otherwise (not exit 75 forever)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url.strip())
        ok = parts.scheme in ("https", "http") and bool(parts.hostname)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        ok = False
    if not ok:
        raise ConfigError(
            f"Địa chỉ hệ thống của Bộ '{url}' ({name} / ONESTOP_SYNC_URL) không hợp lệ: cần dạng "
            "https://máy/đường-dẫn (IPv6 trong [ ]).",
            f"The ministry system address '{url}' ({name} / ONESTOP_SYNC_URL) is invalid: expected "
            "https://host/path (IPv6 in [ ]).")
    return url


def _parse_hhmm(s: str, where: str = "") -> time:
    try:
        h, m = s.strip().split(":")
        return time(int(h), int(m))
    except (ValueError, AttributeError) as e:
        at = f" ({where})" if where else ""
        raise ConfigError(
            f"Giờ '{s}'{at} trong cấu hình không hợp lệ (cần dạng HH:MM).",
            f"Time '{s}'{at} in the config is invalid (expected HH:MM).",
        ) from e


def parse_sessions(raw) -> tuple[tuple[time, time], ...]:
    """``[counter] sessions`` (a list of "HH:MM-HH:MM") as (start, end) pairs: each session starts before
    it ends, and they come in order without overlap (ConfigError naming the wrong one otherwise)."""
    example = '["07:00-11:30", "13:30-17:00"]'
    if isinstance(raw, str) or not isinstance(raw, (list, tuple)) or not raw:
        raise ConfigError(
            f"[counter] sessions phải là danh sách các buổi làm việc, ví dụ sessions = {example} (đang là {raw!r}).",
            f"[counter] sessions must be a list of working sessions, e.g. sessions = {example} (it is {raw!r}).")
    out: list[tuple[time, time]] = []
    for s in raw:
        a, sep, b = str(s).partition("-")
        if not sep:
            raise ConfigError(f"Buổi làm việc '{s}' ([counter] sessions) cần dạng HH:MM-HH:MM.",
                              f"The session '{s}' ([counter] sessions) must read HH:MM-HH:MM.")
        start, end = _parse_hhmm(a, "[counter] sessions"), _parse_hhmm(b, "[counter] sessions")
        if start >= end:
            raise ConfigError(
                f"Buổi làm việc '{s}' ([counter] sessions) kết thúc trước khi bắt đầu: mỗi buổi nằm trong một ngày, "
                "giờ bắt đầu trước giờ kết thúc (ví dụ 07:00-11:30).",
                f"The session '{s}' ([counter] sessions) ends before it starts: each session lies within one day, "
                "its start before its end (e.g. 07:00-11:30).")
        if out and start < out[-1][1]:
            raise ConfigError(
                f"Buổi làm việc '{s}' ([counter] sessions) bắt đầu trước khi buổi trước kết thúc: liệt kê các buổi theo "
                "thứ tự, không chồng nhau.",
                f"The session '{s}' ([counter] sessions) starts before the previous one ends: list the sessions in "
                "order, without overlap.")
        out.append((start, end))
    return tuple(out)


@dataclass
class Config:
    """The merged settings plus the resolved folders."""

    data: dict
    config_dir: Path
    home: Path
    overrides: dict = field(default_factory=dict)
    # This desk's own merged settings, kept when the office's replace some of them (use_office).
    local: dict | None = None
    office_calendar: Path | None = None

    def get(self, dotted: str, default=None):
        node = self.data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def use_office(self, values: dict, calendar: Path | None = None) -> None:
        """Replace the office-wide settings (dotted key -> value) by the office database's values;
        ``calendar``: the office calendar, written where this desk can read it."""
        if self.local is None:
            self.local = self.data
        nested: dict = {}
        for dotted, value in values.items():
            *path, last = dotted.split(".")
            node = nested
            for part in path:
                node = node.setdefault(part, {})
            node[last] = value
        self.data = _merge(self.local, nested)
        self.office_calendar = calendar
        for cached in ("sessions", "cutoff"):
            self.__dict__.pop(cached, None)

    @property
    def in_office(self) -> bool:
        """Whether the office database's settings are in force (an office desk, store open)."""
        return self.local is not None

    def get_local(self, dotted: str, default=None):
        """This desk's own value of a setting (its config files), whatever the office says."""
        node = self.data if self.local is None else self.local
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    # agency / counter
    @property
    def agency_code(self) -> str:
        return str(self.get("agency.code", "")).strip()

    @property
    def agency_name(self) -> str:
        return self.get("agency.name", "")

    @property
    def officer(self) -> str:
        return self.overrides.get("officer") or os.environ.get("ONESTOP_OFFICER") or self.get("counter.officer", "")

    @property
    def unit(self) -> str:
        return self.get("counter.unit", "Bộ phận Tiếp nhận và Trả kết quả")

    @property
    def timezone(self) -> str:
        return self.get("counter.timezone", "Asia/Ho_Chi_Minh")

    @cached_property
    def sessions(self) -> tuple[tuple[time, time], ...]:
        return parse_sessions(self.get("counter.sessions", ["07:00-11:30", "13:30-17:00"]))

    @cached_property
    def cutoff(self) -> time:
        return _parse_hhmm(self.get("counter.cutoff", "15:00"), "[counter] cutoff")

    @property
    def code_rule(self) -> str:
        return self.get("counter.code_rule", "tt01-2018")

    # files
    def _config_file(self, key: str, default: str) -> Path:
        p = Path(self.get(f"paths.{key}", default))
        return p if p.is_absolute() else self.config_dir / p

    @property
    def catalog_file(self) -> Path:
        return self._config_file("catalog", "procedures.sample.json")

    @property
    def calendar_file(self) -> Path:
        """The working calendar's decisions: the office's in an office, else this desk's file."""
        return self.office_calendar or self.local_calendar_file

    @property
    def local_calendar_file(self) -> Path:
        return self._config_file("calendar", "calendar.toml")

    @property
    def db_path(self) -> Path:
        return self.home / "onestop.db"

    @property
    def forms_dir(self) -> Path:
        return self.home / "forms"

    @property
    def archive_dir(self) -> Path:
        """``[archive] root`` (an office's shared folder, seen by every desk; relative to the data home),
        else ``archive/`` in the data home."""
        root = str(self.get("archive.root", "") or "").strip()
        return self.home / os.path.expanduser(root) if root else self.home / "archive"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"


def config_dir() -> Path:
    env = os.environ.get("ONESTOP_CONFIG_DIR")
    if env:
        return Path(env)
    if REPO_CONFIG.is_dir():
        return REPO_CONFIG
    return Path("/etc/onestop")


def load(**overrides) -> Config:
    """Load the merged configuration and resolve the data home (no files are created)."""
    cdir = config_dir()
    data = shared = _read_toml(cdir / "onestop.toml")
    env_home = os.environ.get("ONESTOP_HOME")
    if env_home:
        home = Path(env_home)
    elif data.get("paths", {}).get("data_dir"):
        home = Path(os.path.expanduser(data["paths"]["data_dir"]))
    else:
        xdg = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
        home = Path(xdg) / "onestop"
    local = _read_toml(home / "onestop.toml")
    if local:
        data = _merge(data, local)
    sources = [(cdir / "onestop.toml", shared), (home / "onestop.toml", local)]
    for vi, en in check_settings(data, sources):
        from onestop.common.i18n import t

        sys.stderr.write(f"onestop: {t('cảnh báo', 'warning')}: {t(vi, en)}\n")
    return Config(data=data, config_dir=cdir, home=home, overrides={k: v for k, v in overrides.items() if v})
