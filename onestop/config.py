"""Configuration and the data home.

Resolution order:
- config dir: ``ONESTOP_CONFIG_DIR``, else the ``config/`` folder of the checkout, else ``/etc/onestop``;
- data home: ``ONESTOP_HOME``, else ``[paths] data_dir`` of the config, else ``~/.local/share/onestop``;
- ``<home>/onestop.toml``, when present, is merged over ``<config dir>/onestop.toml`` so one machine can
  override the agency settings without touching the shared file;
- in an office (PostgreSQL), the office-wide settings (agency, code rule, calendar, archive root:
  ``onestop.office.KEYS``) come from the office database and replace this desk's values once the store
  is open (``Config.use_office``); the desk's own values stay in ``local``.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import time
from functools import cached_property
from pathlib import Path

from onestop.errors import ConfigError

REPO_CONFIG = Path(__file__).resolve().parent.parent / "config"


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
    except (tomllib.TOMLDecodeError, OSError) as e:
        raise ConfigError(
            f"Tệp cấu hình {path} không đọc được ({e}). Hãy sửa tệp rồi chạy lại.",
            f"Config file {path} cannot be read ({e}). Fix the file and run again.",
        ) from e


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
    data = _read_toml(cdir / "onestop.toml")
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
    return Config(data=data, config_dir=cdir, home=home, overrides={k: v for k, v in overrides.items() if v})
