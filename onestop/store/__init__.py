"""Where the data lives: SQLite in the data home (default) or the office's PostgreSQL server.

The only place SQL is written (tests/test_sql_home.py). Imports ``onestop.common`` and
``onestop.domain`` only (tests/test_layers.py); the parts above call it, never the reverse.

``connect(cfg)`` opens the store: ``ONESTOP_DATABASE_URL`` (or ``[database] url``) set to
``postgresql://…`` picks the office server (``postgres.PgStore``, psycopg loaded by ``pgdriver`` only
then: PERFORMANCE.md P11), nothing set keeps the one-desk SQLite file (``sqlite.Database``). Both have
the same API (``execute``, ``query``, ``transaction()``, ``dialect``, the error classes); the SQL is
written once with ``?`` placeholders (``paramstyle``), the few dialect differences side by side.
One module per kind of row, named after it: ``codes`` (where a code is allocated), ``dossiers``,
``catalog``, ``calendar``, ``archive``, ``digitization``, ``results``, ``search`` (+ ``pg_search``),
``outbox``, ``payload_data``, ``sync_runs``, ``reports``, ``book``, ``access_log``, ``office``; beside
them the guard of the codes already printed (``home``), the office-wide settings a desk takes when it
connects (``settings``), the schemas (``sqlite_schema``, ``pg_schema``), moving a desk into an office
database (``migrate``) and the benchmark loader (``generate``).

The modules of the store never import this package module (it imports them): they call
``db.transaction()`` themselves. Every command runs on PostgreSQL (``COMMANDS_ON_POSTGRESQL``, kept as
the switch the tests turn; ``refuse_office_mode`` would stop a command not wired there rather than
silently write a local file).
"""

from __future__ import annotations

import os
import weakref

from onestop.common.errors import ConfigError

ENV = "ONESTOP_DATABASE_URL"

# The one switch: True once every command module keeps its SQL in onestop/store/ and runs on
# PostgreSQL (the store refactor, issue 9 stage 1; `make test`'s PostgreSQL run then covers the whole
# suite). Off, a command refuses an office URL (exit 2) rather than use this desk's SQLite file.
COMMANDS_ON_POSTGRESQL = True
_SCHEMES = ("postgresql://", "postgres://")


def database_url(cfg) -> str | None:
    """The office database URL from the environment or the config, or None for SQLite."""
    url = (os.environ.get(ENV) or str(cfg.get("database.url", "") or "")).strip()
    if not url or url.lower() in ("sqlite", "sqlite:"):
        return None
    return check_url(url)


def check_url(url: str) -> str:
    """``url`` if it is a PostgreSQL URL that can be read; ConfigError (without the password) otherwise.

    Checked before any driver sees it: libpq's own messages about a malformed URL quote the URL or
    the password (an unencoded ``@`` or ``%`` in it, an unclosed ``[`` of an IPv6 address)."""
    from urllib.parse import unquote_to_bytes, urlsplit

    from onestop.store.redact import redact_url

    if url.lower().startswith(_SCHEMES):
        authority = url.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0]
        userinfo = authority.rpartition("@")[0]
        problem = None
        if authority.count("@") > 1:
            problem = ("mật khẩu hoặc tên người dùng chứa '@' chưa mã hóa (viết %40)",
                       "the password or user name holds an unencoded '@' (write it as %40)")
        elif "%" in userinfo and any(not _is_pct(userinfo, i) for i, c in enumerate(userinfo) if c == "%"):
            problem = ("mật khẩu hoặc tên người dùng chứa '%' chưa mã hóa (viết %25)",
                       "the password or user name holds an unencoded '%' (write it as %25)")
        else:
            try:
                parts = urlsplit(url)
                if "," not in authority:  # libpq's several hosts (h1:5432,h2:5432) are not one port
                    parts.port  # noqa: B018 - raises ValueError for a port that is not a number
                unquote_to_bytes(userinfo).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                problem = ("địa chỉ máy hoặc cổng không đọc được (địa chỉ IPv6 phải nằm trong [ ], cổng là số)",
                           "the host or port cannot be read (an IPv6 address goes in [ ], the port is a number)")
        if problem is None:
            return url
        raise ConfigError(
            f"Địa chỉ cơ sở dữ liệu '{redact_url(url)}' không hợp lệ: {problem[0]}. Tốt nhất để mật khẩu trong "
            f"~/.pgpass (quyền 0600), không để trong địa chỉ ({ENV} hoặc [database] url). Xem docs/office.md.",
            f"The database URL '{redact_url(url)}' is invalid: {problem[1]}. Best keep the password in ~/.pgpass "
            f"(mode 0600), not in the URL ({ENV} or [database] url). See docs/office.md.")
    raise ConfigError(
        f"Địa chỉ cơ sở dữ liệu '{redact_url(url)}' không hợp lệ: cần dạng postgresql://người_dùng@máy:5432/tên_csdl "
        f"(biến {ENV} hoặc [database] url). Xem docs/office.md.",
        f"The database URL '{redact_url(url)}' is invalid: expected postgresql://user@host:5432/dbname "
        f"({ENV} or [database] url). See docs/office.md.",
    )


def _is_pct(text: str, i: int) -> bool:
    """Whether the ``%`` at ``text[i]`` starts a percent-encoded byte (%XX)."""
    return len(text) >= i + 3 and all(c in "0123456789abcdefABCDEF" for c in text[i + 1:i + 3])


def backend(cfg) -> str:
    """``"postgresql"`` or ``"sqlite"``."""
    return "postgresql" if database_url(cfg) else "sqlite"


def connect(cfg, *, migrate: bool = True):
    """Open the configured store: ``onestop.store.sqlite.Database`` for SQLite, ``postgres.PgStore`` for an office
    (then ``cfg`` takes the office-wide settings from it: onestop/store/settings.py)."""
    url = database_url(cfg)
    if url is None:
        from onestop.store.sqlite import connect as sqlite_connect

        return sqlite_connect(cfg.db_path, migrate=migrate)
    from onestop.store import postgres, settings

    # The files this desk still writes (forms, logs, scans) hold personal data: owner-only, as
    # onestop.store.sqlite.connect sets for a SQLite home.
    os.umask(0o077)
    pg = postgres.connect(url, migrate=migrate, desk=desk_name(cfg), officer=cfg.officer, limits=session_limits(cfg))
    try:
        settings.apply(cfg, pg)  # the office-wide settings (agency, code rule, calendar, archive) replace the desk's
        _after_restore(cfg, pg)
    except BaseException:
        pg.close()
        raise
    _OFFICE_STORES.add(pg)
    return pg


def session_limits(cfg) -> dict:
    """The office session's idle and lock timeouts and how long ``receive`` waits for a held counter
    (seconds): ``[database] idle_timeout / lock_timeout / lock_wait``, the environment over them
    (onestop/store/postgres.py ``LIMITS``)."""
    from onestop.store import postgres

    return postgres.env_limits({k: cfg.get(f"database.{k}") for k in postgres.LIMITS})


def _after_restore(cfg, pg) -> None:
    """Report this desk's codes to a restore of the office database (onestop/store/home.py), and say so when
    this desk is the one that noticed the restore."""
    import sys

    from onestop.common.i18n import t
    from onestop.store import home

    started = home.after_connect(cfg, pg)
    if started is None:
        return
    lifted = "; ".join(f"{r['table']} {r['key']}: {r['from']} → {r['to']}" for r in started["lifted"]) or "-"
    waiting = ", ".join(started["waiting"]) or "-"
    sys.stderr.write("onestop: " + t(
        f"cảnh báo: cơ sở dữ liệu văn phòng {pg.url} là một bản khôi phục (khác CSDL đã cấp mã trước đây). Đã nâng "
        f"bộ đếm: {lifted}. Chưa cấp mã mới cho đến khi các quầy báo mã đã in: {waiting} (docs/office.md mục 6).",
        f"warning: the office database {pg.url} is a restored one (not the database that issued the codes "
        f"so far). Counters lifted: {lifted}. No new code is issued until these desks report the codes they "
        f"printed: {waiting} (docs/office.md section 6).") + "\n")


# The office connections this process opened, for ``close_office_stores`` (weak: a closed, dropped
# store is not kept alive).
_OFFICE_STORES: "weakref.WeakSet" = weakref.WeakSet()


def close_office_stores() -> bool:
    """Close every office connection still open (the CLI's fast exit, onestop/cli/__init__.py);
    whether this process opened any."""
    opened = bool(_OFFICE_STORES)
    for pg in list(_OFFICE_STORES):
        try:
            pg.close()
        except Exception:  # noqa: BLE001 - at exit; the server ends the session when the socket closes
            pass
    _OFFICE_STORES.clear()
    return opened


def transaction(db, *, immediate: bool = True):
    """A write transaction on either backend (``with transaction(db):``).

    SQLite: IMMEDIATE takes the write lock up front, so two counters allocating a sequence number
    serialise here instead of failing at commit. PostgreSQL: the store's own ``transaction()``.
    Both store classes have the method (``Database.transaction`` in onestop/store/sqlite.py,
    ``PgStore.transaction``); the store's own modules call it on ``db`` directly, so that none of
    them imports this package module (which imports them: no circle).
    """
    return db.transaction(immediate=immediate)


def desk_name(cfg) -> str:
    """How this desk is listed in ``onestop db status``: ``[counter] desk``, or the host name
    (onestop/store/home.py, where a restore's waiting list needs it too)."""
    from onestop.store.home import desk_name as name

    return name(cfg)


def refuse_office_mode(cfg) -> None:
    """Stop a command that is not wired to PostgreSQL yet when an office URL is set.

    Silently using this desk's SQLite file while the officer believes the office database is in use
    would issue codes that another desk issues too: refusing is the safe answer until issue 9 lands.
    """
    url = database_url(cfg)
    if url is None or COMMANDS_ON_POSTGRESQL:
        return
    from onestop.store.redact import redact_url

    raise ConfigError(
        f"Đã đặt cơ sở dữ liệu văn phòng ({redact_url(url)}) nhưng lệnh này chưa hỗ trợ PostgreSQL trong phiên bản này. "
        f"Bỏ {ENV} / [database] url để làm việc trên tệp SQLite của máy này. Xem docs/office.md.",
        f"An office database is set ({redact_url(url)}) but this command does not support PostgreSQL in this version "
        f"yet. Unset {ENV} / [database] url to work on this desk's SQLite file. See docs/office.md.",
    )
