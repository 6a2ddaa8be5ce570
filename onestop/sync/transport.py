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
    pass


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
            verify=ca_file or True, limits=httpx.Limits(max_keepalive_connections=2, max_connections=4))
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
            raise Temporary(f"{type(e).__name__}: {e}") from None
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
