"""The rest of a take made ready while the take is stored (P14).

``online accept`` forks a helper as its command starts (before the command opens the database: a
process must not inherit an open SQLite connection), which loads the archive's modules (pypdf,
archive/scan.py's path) on the other core, then waits. Only once the take is committed does the
command tell it to go (``Teller.go``): the helper opens its own store connection and stores the
dossier's files in the archive (sync/online_take.py ``finish``) while the command writes Mẫu 01 and,
on a thread (sync/portal.py ``EarlyLogin``), logs in to the portal; the helper answers what it stored
(``Teller.answer``) and the command then sends the acknowledgement. Whatever the helper did not
finish, the command does itself (both are idempotent). Nothing is sent before the commit and the
files: a command that fails or is killed closes the pipe and the helper leaves doing nothing; the
take is then finished by ``online accept`` again, the acknowledgement by the next pull or sync.
"""

from __future__ import annotations

import json
import os


_allowed = False


def allow() -> None:
    """Called by the console entry point (onestop/entry.py) for ``online accept``: the command may
    fork the helper. A command run in-process (tests, a library caller) never forks one: that process
    may hold a database connection, which a forked child must not inherit."""
    global _allowed
    _allowed = True


def start() -> "Teller | None":
    """Fork the helper when allowed (None otherwise, or where fork fails: the command archives the
    files itself)."""
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
    try:
        return Teller()
    except OSError:
        return None


class Teller:
    def __init__(self):
        go_r, self._go = os.pipe()
        self._answer, ans_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the helper keeps only its two pipe ends (no other helper's pipe held open)
            import gc

            gc.freeze()  # what the command had loaded is never collected here: no page copied for it
            keep = sorted((go_r, ans_w))
            os.closerange(3, keep[0])
            os.closerange(keep[0] + 1, keep[1])
            os.closerange(keep[1] + 1, 1024)
            _helper(go_r, ans_w)
        os.close(go_r)
        os.close(ans_w)

    def go(self, payload: dict) -> None:
        """The take is committed: the helper may archive the files of ``payload["dvc"]``."""
        try:
            os.write(self._go, json.dumps(payload).encode())
            os.close(self._go)
        except OSError:
            pass  # the helper is gone: the command does it all itself

    def answer(self) -> dict:
        """What the helper did: {"files"} (missing: the command stores them itself)."""
        try:
            chunks = []
            while True:
                b = os.read(self._answer, 65536)
                if not b:
                    break
                chunks.append(b)
            res = json.loads(b"".join(chunks) or b"{}")
        except (OSError, ValueError):
            res = {}
        finally:
            self._reap()
        return res

    def close(self) -> None:
        """Nothing to do (the take failed): the helper leaves without storing anything."""
        try:
            os.close(self._go)
        except OSError:
            pass
        self._reap()

    def _reap(self) -> None:
        try:
            os.close(self._answer)
        except OSError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


def _helper(go_r: int, ans_w: int) -> None:
    res: dict = {}
    try:
        # Warm: what archiving a citizen's PDF loads (archive/scan.py's path, pypdf), loaded meanwhile.
        # No HTTP here: the command logs in on its own once the take is stored, while this helper
        # archives and the receipt is drawn (online_take.accept), so this start-up stays short.
        _import_pypdf()
        from onestop import store
        from onestop.archive import imaging, scan  # noqa: F401
        from onestop.common import config
        from onestop.intake import dossiers  # noqa: F401
        from onestop.sync.online_take import finish

        chunks = []
        while True:
            b = os.read(go_r, 65536)
            if not b:
                break
            chunks.append(b)
        if chunks:  # told: the take is committed
            payload = json.loads(b"".join(chunks))
            cfg = config.load(officer=payload.get("officer") or None)
            res = finish(store.connect(cfg), cfg, payload["dvc"])
    except BaseException as e:  # noqa: BLE001 - the command does what is left and reports it
        res = {"error": f"{type(e).__name__}: {e}"[:300]}
    finally:
        try:
            os.write(ans_w, json.dumps(res, default=str).encode())
        finally:
            os._exit(0)


def _import_pypdf() -> None:
    """pypdf (what the archive reads a citizen's PDF with) without its ``cryptography`` provider:
    loading it is ~25 ms of the helper's start-up, and this helper only reads PDFs that the archive
    refuses when encrypted. pypdf then uses its own fallback provider; a PDF that would need the
    real one (AES-256) fails here and the command, with the usual pypdf, stores it itself (the
    same refusal as at ``scan``)."""
    import sys

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
