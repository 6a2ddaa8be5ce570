"""HTTP transport to the ministry system: login, session, retries, uploads.

Only this module talks HTTP. It knows the contract's envelope (login / service / upload), not
the outbox: the caller decides what may be resent. Temporary failures (timeouts, dropped
connections, HTTP 5xx) are retried with exponential backoff and jitter by ``request``; what is
left after the last retry is raised as ``Temporary``. The password and the session token are
never logged.
"""

from __future__ import annotations

import logging
import random
import time
from pathlib import Path

log = logging.getLogger("onestop.sync")

SESSION_WORDS = ("phiên", "session", "token", "đăng nhập lại")


class Temporary(Exception):
    """The server could not be reached or answered 5xx: the request may or may not have been applied."""


class Rejected(Exception):
    """HTTP 4xx or a non-zero error_code for the whole request: permanent until the data is fixed."""

    def __init__(self, message: str, code=None):
        super().__init__(message)
        self.message = message
        self.code = code


class LoginFailed(Exception):
    """The server refused the login: permanent until the user name or password is fixed."""


class CertificateUntrusted(LoginFailed):
    """The server's TLS certificate is not trusted here: permanent until its CA is installed or set as
    ``[sync] ca_file`` (never retried: trying again cannot help, and it is not a line that is down)."""


def refused_login(e) -> errors.ConfigError:
    """The ministry's server refused this machine (a LoginFailed from transport.py): the password, or
    its TLS certificate not trusted here. Exit 8 (configuration): retrying cannot help. Logged."""
    from onestop.common import errors

    if isinstance(e, CertificateUntrusted):
        log.error("TLS certificate not trusted: %s", e)
        return errors.ConfigError(
            f"Chứng chỉ TLS của máy chủ không được tin cậy trên máy này ({e}). Cài chứng thư CA của máy chủ vào kho "
            f"của hệ thống (update-ca-certificates) hoặc khai [sync] ca_file (docs/sync.md); không gửi gì qua kết "
            f"nối chưa xác thực.",
            f"The server's TLS certificate is not trusted on this machine ({e}). Install its CA in the system's "
            f"store (update-ca-certificates) or set [sync] ca_file (docs/sync.md); nothing is sent over an "
            f"unverified connection.")
    log.error("login refused: %s", e)
    return errors.ConfigError(
        f"Hệ thống của Bộ từ chối đăng nhập ({e}). Kiểm tra ONESTOP_SYNC_USER / ONESTOP_SYNC_PASSWORD.",
        f"The ministry system refused the login ({e}). Check ONESTOP_SYNC_USER / ONESTOP_SYNC_PASSWORD.")


def failure(e: Exception) -> Exception:
    """What an httpx transport error means: ``CertificateUntrusted`` when the certificate check
    failed, else ``Temporary`` (retried)."""
    import ssl

    x: BaseException | None = e
    while x is not None:
        if isinstance(x, ssl.SSLCertVerificationError):
            return CertificateUntrusted(str(x.verify_message or x))
        x = x.__cause__ or x.__context__
    return Temporary(f"{type(e).__name__}: {e}")


def backoff_delay(attempt: int, base: float, cap: float = 30.0) -> float:
    """Exponential backoff with full jitter (attempt 0 → up to ``base`` seconds)."""
    return random.uniform(base / 2, min(cap, base * (2 ** attempt)))


def _import_httpx():
    """httpx without its command-line client: ``import httpx`` also loads ``httpx._main`` (rich, click,
    pygments: ~40 ms, a third of the import) whenever those happen to be installed, as typer brings
    them; httpx falls back to a stub ``main`` when that module cannot be imported, and nothing here
    runs the ``httpx`` command."""
    import sys

    if "httpx" not in sys.modules and "httpx._main" not in sys.modules:
        sys.modules["httpx._main"] = None  # type: ignore[assignment]  # import of it fails: httpx's stub
        try:
            import httpx
        finally:
            del sys.modules["httpx._main"]
        return httpx
    import httpx

    return httpx


def tls_context(ca_file: str = ""):
    """The TLS context the ministry's certificate is verified with.

    ``[sync] ca_file`` (a PEM file or a hashed folder) when set. Otherwise the system's trust store,
    which is where an office's technician installs a CA (``update-ca-certificates``): its hashed
    folder (``SSL_CERT_DIR``, else OpenSSL's default, /etc/ssl/certs on Debian) is read one
    certificate at a time during the handshake, where parsing the whole bundle took ~25-45 ms of
    every sync, pull and accept before the first byte. Only where no hashed folder exists is a bundle
    file loaded (``SSL_CERT_FILE``, the system's bundle, else certifi's, as httpx does)."""
    import os
    import ssl

    if ca_file:
        p = Path(ca_file).expanduser()
        return ssl.create_default_context(**({"capath": str(p)} if p.is_dir() else {"cafile": str(p)}))
    paths = ssl.get_default_verify_paths()
    folder = os.environ.get("SSL_CERT_DIR") or paths.capath or paths.openssl_capath
    if folder and _hashed(folder):
        return ssl.create_default_context(capath=folder)
    bundle = os.environ.get("SSL_CERT_FILE") or paths.cafile
    if bundle and Path(bundle).is_file():
        return ssl.create_default_context(cafile=bundle)
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _hashed(folder: str) -> bool:
    """Does ``folder`` hold OpenSSL's subject-hash links (``1a2b3c4d.0``, made by c_rehash)?"""
    import os
    import re

    try:
        with os.scandir(folder) as it:
            return any(re.fullmatch(r"[0-9a-f]{8}\.\d+", e.name) for e in it)
    except OSError:
        return False


class HttpTransport:
    """``POST {base}/login|service|upload`` with a session, the ``dstcode`` header and TLS verified."""

    kind = "url"

    def __init__(self, url: str, *, username: str, password: str, agency: str, dstcode: str = "",
                 timeout: float = 30.0, retries: int = 5, backoff: float = 1.0, ca_file: str = "",
                 session_codes=(-2, 401, -401)):
        httpx = _import_httpx()

        self.base = url.rstrip("/")
        self.username = username
        self._password = password
        self.agency = agency
        self.retries = max(0, int(retries))
        self.backoff = float(backoff)
        self.session_codes = {int(c) for c in session_codes}
        self.session: str | None = None
        headers = {"User-Agent": "onestop-sync/1"}
        if dstcode:
            headers["dstcode"] = dstcode
        self.client = httpx.Client(
            headers=headers, timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            verify=tls_context(ca_file), limits=httpx.Limits(max_keepalive_connections=2, max_connections=4))
        self._httpx = httpx

    def __repr__(self) -> str:  # never show the password
        return f"HttpTransport({self.base!r}, user={self.username!r})"

    def describe(self) -> str:
        return self.base

    def close(self) -> None:
        self.client.close()

    # -- one attempt

    def _post(self, path: str, **kw) -> dict:
        httpx = self._httpx
        try:
            r = self.client.post(f"{self.base}/{path}", **kw)
        except (httpx.TimeoutException, httpx.TransportError) as e:
            raise failure(e) from None
        if r.status_code >= 500:
            raise Temporary(f"HTTP {r.status_code}")
        if r.status_code == 401:
            return {"error_code": 401, "_http": 401, "message": "HTTP 401"}
        if r.status_code >= 400:
            raise Rejected(f"HTTP {r.status_code}: {r.text[:200]}", r.status_code)
        try:
            body = r.json()
        except ValueError:
            raise Temporary(f"câu trả lời không phải JSON (HTTP {r.status_code})") from None
        if not isinstance(body, dict):
            raise Temporary("câu trả lời không đúng định dạng")
        return body

    def _session_error(self, body: dict) -> bool:
        code = body.get("error_code", 0)
        if body.get("_http") == 401:
            return True
        if code in (0, "0", None) or body.get("results"):
            return False
        try:
            if int(code) in self.session_codes:
                return True
        except (TypeError, ValueError):
            pass
        msg = str(body.get("message", "")).lower()
        return any(w in msg for w in SESSION_WORDS)

    def login(self) -> None:
        body = self._post("login", json={"username": self.username, "password": self._password})
        if str(body.get("error_code", 1)) != "0" or not body.get("session"):
            raise LoginFailed(str(body.get("message") or "đăng nhập không thành công"))
        self.session = body["session"]
        log.info("login ok (user %s)", self.username)

    def _with_session(self, path: str, make_kw) -> dict:
        """One attempt, logging in first if needed and once more on an expired session."""
        for again in (False, True):
            if self.session is None:
                self.login()
            body = self._post(path, **make_kw(self.session))
            if not self._session_error(body):
                return body
            log.info("session expired, logging in again")
            self.session = None
        raise Temporary("phiên làm việc bị từ chối sau khi đăng nhập lại")

    # -- the contract

    def service_once(self, service: str, data: list, *, updating: bool = False) -> dict:
        """One attempt at ``POST /service`` (the caller decides whether a retry is safe)."""
        def kw(session):
            return {"json": {"session": session, "madonvi": self.agency, "service": service,
                             "isUpdating": "True" if updating else "False", "data": data}}
        return self._with_session("service", kw)

    def service(self, service: str, data: list, *, updating: bool = False) -> dict:
        """``POST /service`` retried on temporary failures (for idempotent calls)."""
        return self.retrying(lambda: self.service_once(service, data, updating=updating))

    def upload(self, path: Path, sha256: str, code: str) -> dict:
        """Upload a file (idempotent: the server keeps files by SHA-256). Thread-safe."""
        def once():
            with open(path, "rb") as f:
                def kw(session):
                    f.seek(0)
                    return {"files": {"file": (Path(path).name, f, "application/pdf")},
                            "data": {"sha256": sha256, "MaHoSo": code, "session": session, "madonvi": self.agency}}
                return self._with_session("upload", kw)
        return self.retrying(once)

    def lookup(self, codes: list[str]) -> dict[str, dict] | None:
        """``TraCuuHoSo``: what the server holds for each code (absent = unknown to the server)."""
        body = self.service("TraCuuHoSo", [{"MaHoSo": c} for c in codes])
        if str(body.get("error_code", 0)) != "0":
            raise Rejected(str(body.get("message", "TraCuuHoSo")), body.get("error_code"))
        return {str(it.get("MaHoSo")): it for it in (body.get("result") or []) if isinstance(it, dict)}

    def retrying(self, fn):
        for attempt in range(self.retries + 1):
            try:
                return fn()
            except Temporary as e:
                if attempt >= self.retries:
                    raise
                delay = backoff_delay(attempt, self.backoff)
                log.warning("temporary failure (%s), retry %d in %.1fs", e, attempt + 1, delay)
                time.sleep(delay)

    def pause(self, attempt: int) -> None:
        time.sleep(backoff_delay(attempt, self.backoff))


def from_config(cfg, url: str | None = None) -> "HttpTransport":
    """The transport to ``url`` (else ONESTOP_SYNC_URL, else ``[sync] url``) with the login and settings
    of the configuration; ConfigError (exit 8) without a usable URL."""
    import os

    from onestop.common import errors

    url = url or os.environ.get("ONESTOP_SYNC_URL") or cfg.get("sync.url", "")
    if not url:
        raise errors.ConfigError(
            "Chưa cấu hình địa chỉ hệ thống của Bộ ([sync] url hoặc ONESTOP_SYNC_URL).",
            "No ministry system address configured ([sync] url or ONESTOP_SYNC_URL).")
    from onestop.common.config import check_sync_url

    check_sync_url(url)
    if url.startswith("http://") and not url.startswith(("http://127.0.0.1", "http://localhost")):
        log.warning("sync url is not HTTPS")
    return HttpTransport(
        url, username=os.environ.get("ONESTOP_SYNC_USER") or cfg.get("sync.username", ""),
        password=os.environ.get("ONESTOP_SYNC_PASSWORD") or "", agency=cfg.agency_code,
        dstcode=cfg.get("sync.dstcode", ""), timeout=float(cfg.get("sync.timeout", 30)),
        retries=int(cfg.get("sync.retries", 5)), backoff=float(cfg.get("sync.backoff", 1.0)),
        ca_file=cfg.get("sync.ca_file", ""), session_codes=cfg.get("sync.session_error_codes", [-2, 401, -401]))
