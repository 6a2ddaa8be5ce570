"""The archive helper of ``online accept`` (P14): the take's files stored on the other core.

``online accept`` hands the dossier's files to a helper process that has the archive's modules
(pypdf, archive/scan.py's path) loaded: the command tells it to go once the take is committed
(``Teller.go``), the helper opens its own store connection and stores the files (sync/online_take.py
``finish``) while the command writes Mẫu 01 and, on a thread (sync/portal.py ``EarlyLogin``), logs
in to the portal; the helper answers what it stored (``Teller.answer``) and the command then sends
the acknowledgement. Whatever the helper did not finish, the command does itself (both are
idempotent). Nothing is sent before the commit and the files: a command that fails or is killed
closes its end and the helper stores nothing; the take is then finished by ``online accept`` again,
the acknowledgement by the next pull or sync.

Which helper:
- **Warm.** An officer takes the online queue one dossier after another, so the helper of one
  accept stays for the next: after its answer it forks a detached copy of itself that waits
  ``[online] helper_idle`` seconds (default 120; 0: none) on a Unix socket of the abstract namespace
  named after the user and the code (``_address``), then leaves. The next accept of the same user
  and the same onestop code connects to it (both ends check the other's uid, SO_PEERCRED) and
  sends the job with its whole environment and folder, applied for that job only: the same data
  home, database, clock and settings as a fresh helper would see; nothing of a job is kept (its
  store connection is closed after it). A busy or silent helper is not waited for (150 ms), one of
  another code version is told to leave.
- **Before the first.** ``online list`` and ``online show`` (the officer looks at the queue before
  taking from it) leave a warm helper the same way (``prewarm``).
- **Cold.** Otherwise the command forks one as it starts, after the modules both need are imported
  and before the command opens the database (a process must not inherit an open SQLite
  connection), which loads the archive's modules meanwhile. Only under the console entry point
  (``allow``): an in-process run (the CliRunner tests, a library caller) may hold a connection.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import sys

_allowed = False
IDLE_DEFAULT = 120.0  # seconds a warm helper waits for the next accept
IDLE_MAX = 3600.0  # never longer than an hour, whatever is set ("inf" included)
_HELLO_WAIT = 0.15  # an idle warm helper answers in well under 1 ms (woken on a loaded machine: a few ms); one that does not is busy with another accept


def allow() -> None:
    """Called by the console entry point (onestop/entry.py) for ``online accept``: the command may
    use a helper process."""
    global _allowed
    _allowed = True


_prewarm_allowed = False


def allow_prewarm() -> None:
    """Called by the console entry point for ``online list`` and ``online show``: the officer looks at
    the queue before taking from it, so the command may leave a warm helper for that accept."""
    global _prewarm_allowed
    _prewarm_allowed = True


def prewarm() -> None:
    """Leave a warm helper (detached) for the accept that usually follows, unless one is there already
    or ``helper_idle`` is 0. Called as the command starts, before it opens the database: nothing it
    opens later is inherited."""
    global _prewarm_allowed
    if not _prewarm_allowed or _switched_off():
        return
    _prewarm_allowed = False
    stamp = _stamp()
    there = _connect_warm(stamp)
    if there is not None:
        there.close()  # one is waiting already (it takes the closed connection as no job)
        return
    try:
        pid = os.fork()
    except OSError:
        return
    if pid == 0:  # a go-between, so that the command has no child left behind: the helper is its child
        try:
            _detach(lambda: _warm_from_cold(stamp))
        finally:
            os._exit(0)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _warm_from_cold(stamp: str) -> None:
    idle = _idle({})
    if idle <= 0:
        return
    _import_pypdf()
    from onestop.archive import digitization, docnumbers, imaging, scan  # noqa: F401
    from onestop.intake import dossiers  # noqa: F401
    from onestop.sync.online_take import finish  # noqa: F401

    _serve(stamp, idle)


def start() -> "Teller | None":
    """A warm helper, else one forked now; None when not allowed (the command archives itself)."""
    global _allowed
    if not _allowed:
        return None
    _allowed = False
    # What the command imports next anyway and the helper needs too: imported once, before the fork.
    from onestop import store  # noqa: F401
    from onestop.archive import files  # noqa: F401  (the queue files' SHA-256 check)
    from onestop.common import config  # noqa: F401
    from onestop.intake import catalog, receiving  # noqa: F401
    from onestop.store import online, sqlite  # noqa: F401

    stamp = _stamp()
    warm = _connect_warm(stamp)
    if warm is not None:
        return Teller(warm, None)
    try:
        a, b = socket.socketpair()
        pid = os.fork()
    except OSError:
        return None
    if pid == 0:  # the helper keeps only its end of the pair
        import gc

        gc.freeze()  # what the command had loaded is never collected here: no page copied for it
        a.close()
        keep = b.fileno()
        os.closerange(3, keep)
        os.closerange(keep + 1, 1024)
        _helper(b, stamp)
    b.close()
    return Teller(a, pid)


class Teller:
    """The command's end of one job: ``go`` once the take is committed, then ``answer``."""

    def __init__(self, sock: socket.socket, pid: int | None):
        self._sock = sock
        self.pid = pid  # None: a warm helper (not this command's child)
        self.kind = "warm" if pid is None else "forked"
        self.outcome = ""  # for --debug: who stored the files

    @property
    def warm(self) -> bool:
        return self.kind == "warm"

    def go(self, payload: dict) -> None:
        """The take is committed: the helper may archive the files of ``payload["dvc"]``."""
        from onestop.common.i18n import lang

        job = dict(payload, env=dict(os.environ), cwd=os.getcwd(), lang=lang())
        try:
            self._sock.sendall(json.dumps(job).encode())
            self._sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the helper is gone: the command does it all itself

    def answer(self) -> dict:
        """What the helper did: {"files"} (missing: the command stores them itself)."""
        try:
            res = json.loads(_read_all(self._sock) or b"{}")
        except (OSError, ValueError):
            res = {}
        finally:
            self._reap()
        self.outcome = (f"{self.kind} helper" if res.get("files") else
                        f"in-process ({self.kind} helper: {res.get('error') or 'no answer'})")
        return res

    def close(self) -> None:
        """Nothing to do (the take failed), or done: the helper stores nothing more for this command."""
        self._reap()

    def _reap(self) -> None:
        try:
            self._sock.close()
        except OSError:
            pass
        if self.pid is not None:
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
            self.pid = None


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        b = sock.recv(65536)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


# ---------------------------------------------------------------- which helper

def _stamp() -> str:
    """This code: the interpreter, its import path and every onestop module's size and time. A
    helper of another version (an upgrade, another checkout) is never handed a job."""
    import hashlib

    h = hashlib.sha256(f"{sys.executable}\0{sys.version}\0{os.pathsep.join(sys.path)}".encode())
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    stack = [root]
    while stack:
        d = stack.pop()
        try:
            entries = sorted(os.scandir(d), key=lambda e: e.name)
        except OSError:
            continue
        for e in entries:
            if e.is_dir(follow_symlinks=False) and e.name != "__pycache__":
                stack.append(e.path)
            elif e.name.endswith(".py"):
                st = e.stat()
                h.update(f"{e.path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _address(stamp: str) -> str:
    """The warm helper's socket: abstract (no file to leave behind), one per user and code version."""
    return f"\0onestop-accept-helper-{os.getuid()}-{stamp[:20]}"


def _same_user(sock: socket.socket) -> bool:
    """Is the process at the other end of ``sock`` this user's (SO_PEERCRED)? An abstract socket
    name can be taken by anyone on the machine: a job (its environment holds the portal's password)
    goes only to, and comes only from, this user's own processes."""
    try:
        _pid, uid, _gid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                              struct.calcsize("3i")))
    except (OSError, AttributeError):
        return False
    return uid == os.getuid()


def _switched_off() -> bool:
    """ONESTOP_HELPER_IDLE=0: no warm helper is looked for or left (read without loading the settings)."""
    return os.environ.get("ONESTOP_HELPER_IDLE", "").strip() in ("0", "0.0")


def _connect_warm(stamp: str) -> socket.socket | None:
    """A warm helper ready for this job, or None (none there, busy, another user's)."""
    if _switched_off():
        return None
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(_HELLO_WAIT)
        s.connect(_address(stamp))
        if not _same_user(s):
            raise OSError("not this user's helper")
        s.sendall(json.dumps({"stamp": stamp}).encode() + b"\n")
        if s.recv(3) != b"ok\n":
            raise OSError("helper not ready")
        s.settimeout(None)
        return s
    except OSError:  # none listening (the usual case: ECONNREFUSED at once), busy, gone
        s.close()
        return None


# ---------------------------------------------------------------- the helper's side

def _helper(sock: socket.socket, stamp: str) -> None:
    """The forked helper: load, wait for the job, do it, answer; then leave a warm copy behind."""
    res: dict = {}
    job: dict = {}
    try:
        # Warm: what archiving a citizen's PDF loads (archive/scan.py's path, pypdf), loaded meanwhile.
        # No HTTP here: the command logs in on its own once the take is stored.
        _import_pypdf()
        from onestop.archive import digitization, docnumbers, imaging, scan  # noqa: F401
        from onestop.intake import dossiers  # noqa: F401
        from onestop.sync.online_take import finish  # noqa: F401

        data = _read_all(sock)
        if data:  # told: the take is committed
            job = json.loads(data)
            res = _job(job, apply_env=False)
    except BaseException as e:  # noqa: BLE001 - the command does what is left and reports it
        res = {"error": f"{type(e).__name__}: {e}"[:300]}
    _answer(sock, res)
    sock.close()
    idle = _idle(job) if job and "error" not in res else 0
    if idle > 0:
        _stay(stamp, idle)
    os._exit(0)


def _job(job: dict, *, apply_env: bool) -> dict:
    """``_do``, any failure answered as {"error"}: the command then does what is left and reports it."""
    try:
        return _do(job, apply_env=apply_env)
    except BaseException as e:  # noqa: BLE001
        return {"error": f"{type(e).__name__}: {e}"[:300]}


def _answer(sock: socket.socket, res: dict) -> None:
    try:
        sock.sendall(json.dumps(res, default=str).encode())
    except OSError:
        pass  # the command is gone: what was stored stays, the next accept finishes the rest


def _do(job: dict, *, apply_env: bool) -> dict:
    """One job: the dossier's files archived with the command's environment, folder and language
    (a warm helper applies them first, logs to that data home's sync log as the command does, and
    puts its own back after)."""
    from onestop import store
    from onestop.common import config, i18n
    from onestop.sync.online_take import finish

    saved = (dict(os.environ), os.getcwd(), i18n.lang()) if apply_env else None
    handler = None
    try:
        if apply_env:
            os.environ.clear()
            os.environ.update(job.get("env") or {})
            os.chdir(job.get("cwd") or "/")
            i18n.set_lang(job.get("lang"))
        cfg = config.load(officer=job.get("officer") or None)
        if apply_env:
            from onestop import sync

            handler = sync._setup_log(cfg)
        db = store.connect(cfg)
        try:
            return finish(db, cfg, job["dvc"], tell=bool(job.get("tell")))
        finally:  # nothing of a job stays open in a helper that waits for the next one
            if hasattr(type(db), "close"):
                db.close()  # the office's PostgreSQL store
            else:
                db.conn.close()  # SQLite's thin Database (its close would load sqlite-utils first)
    finally:
        if handler is not None:
            from onestop import sync

            sync.log.removeHandler(handler)
            handler.close()
        if saved is not None:
            os.environ.clear()
            os.environ.update(saved[0])
            os.chdir(saved[1])
            i18n.set_lang(saved[2])


def _idle(job: dict) -> float:
    """How long a warm helper waits for the next accept: ONESTOP_HELPER_IDLE, else ``[online]
    helper_idle``, else IDLE_DEFAULT seconds; at most IDLE_MAX, 0 for what is not a number >= 0."""
    import math

    env = os.environ.get("ONESTOP_HELPER_IDLE", "").strip()
    try:
        if env:
            idle = float(env)
        else:
            from onestop.common import config

            idle = float(config.load().get("online.helper_idle", IDLE_DEFAULT))
    except Exception:  # noqa: BLE001 - a setting it cannot read: no warm helper
        return 0.0
    return 0.0 if math.isnan(idle) or idle <= 0 else min(IDLE_MAX, idle)


def _stay(stamp: str, idle: float) -> None:
    """Fork the warm copy and return (the helper itself leaves then; the command reaps it)."""
    _detach(lambda: _serve(stamp, idle))


def _detach(then) -> None:
    """Fork a process that runs ``then()`` on its own (its own session, no terminal, nothing of its
    parent's open files or output: a command's caller reading its output to the end is not held)
    and leaves; the parent returns at once."""
    try:
        if os.fork() != 0:
            return
    except OSError:
        return
    try:
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.close(null)
        os.closerange(3, 1024)
        os.chdir("/")
        import gc
        import signal

        gc.freeze()
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        then()
    finally:
        os._exit(0)


def _serve(stamp: str, idle: float) -> None:
    """Wait for accepts of the same user and code, one at a time, until ``idle`` seconds pass without one."""
    import time

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(_address(stamp))
    except OSError:
        return  # another warm helper of this code is there already
    listener.listen(4)
    try:  # a warm helper also tells the portal (online_take.accept): its HTTP client loaded once, now
        from onestop.store import payload_data  # noqa: F401
        from onestop.sync import payloads, portal  # noqa: F401
        from onestop.sync.transport import _import_httpx, tls_context  # noqa: F401

        _import_httpx()
    except Exception:  # noqa: BLE001, S110 - loaded at the first job instead
        pass
    deadline = time.monotonic() + idle
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        listener.settimeout(left)
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            return
        except OSError:
            continue
        with conn:
            if not _same_user(conn):
                continue
            try:
                conn.settimeout(5)
                hello = json.loads(_readline(conn) or b"{}")
                if not hello:
                    continue  # a command that gave up waiting while this helper was busy
                if hello.get("stamp") != stamp:
                    conn.sendall(b"no\n")
                    return  # another version of the code asks: this one is out of date, it leaves
                conn.sendall(b"ok\n")
                # The job comes once the take is committed (a database lock may hold the command a while).
                conn.settimeout(600)
                data = _read_all(conn)
            except (OSError, ValueError):
                continue
            try:
                res = _job(json.loads(data), apply_env=True) if data else {}
            except ValueError:
                res = {}
            _answer(conn, res)
        deadline = time.monotonic() + idle


def _readline(conn: socket.socket) -> bytes:
    buf = b""
    while not buf.endswith(b"\n") and len(buf) < 4096:
        b = conn.recv(1)
        if not b:
            break
        buf += b
    return buf


def _import_pypdf() -> None:
    """pypdf (what the archive reads a citizen's PDF with) without its ``cryptography`` provider:
    loading it is ~25 ms of the helper's start-up, and this helper only reads PDFs that the archive
    refuses when encrypted. pypdf then uses its own fallback provider; a PDF that would need the
    real one (AES-256) fails here and the command, with the usual pypdf, stores it itself (the
    same refusal as at ``scan``)."""
    name = "pypdf._crypt_providers._cryptography"
    if "pypdf" in sys.modules or name in sys.modules:
        return
    sys.modules[name] = None  # type: ignore[assignment]  # its import fails: pypdf's fallback is used
    try:
        import pypdf  # noqa: F401
    except ImportError:
        pass
    finally:
        del sys.modules[name]
