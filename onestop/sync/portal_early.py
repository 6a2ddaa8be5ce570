"""The rest of a take made ready while the take is stored (P14): ``online accept`` forks a helper
at the entry point (onestop/entry.py, before anything else runs) that loads the archive's modules and
the HTTP client, connects and logs in on the other core, then waits. Only once the take is committed
does the command tell it to go (``Teller.go``): the helper opens its own store connection, stores
the dossier's files in the archive and sends the acknowledgements due (sync/online_take.py
``finish``) while the command writes Mẫu 01, and answers what it did (``Teller.answer``); whatever it
did not finish, the command does itself (both are idempotent). Nothing is sent before the commit: a
command that fails or is killed closes the pipe and the helper leaves doing nothing; the take is
then finished by ``online accept`` again, the acknowledgement by the next pull or sync.
"""

from __future__ import annotations

import json
import os
import threading

_early: "Teller | None" = None


def start_early() -> None:
    global _early
    try:
        _early = Teller()
    except OSError:
        _early = None  # no fork: the command tells the portal itself


def take_early() -> "Teller | None":
    global _early
    t, _early = _early, None
    return t


class Teller:
    def __init__(self):
        go_r, self._go = os.pipe()
        self._answer, ans_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the helper keeps only its two pipe ends (no other helper's pipe held open)
            keep = sorted((go_r, ans_w))
            os.closerange(3, keep[0])
            os.closerange(keep[0] + 1, keep[1])
            os.closerange(keep[1] + 1, 1024)
            _helper(go_r, ans_w)
        os.close(go_r)
        os.close(ans_w)

    def go(self, payload: dict) -> None:
        """The take is committed: the helper may archive the files of ``payload["dvc"]`` and tell the portal."""
        try:
            os.write(self._go, json.dumps(payload).encode())
            os.close(self._go)
        except OSError:
            pass  # the helper is gone: the command does it all itself

    def answer(self) -> dict:
        """What the helper did: {"files", "portal"} (either may be missing: the command does that part)."""
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
        if isinstance(res.get("portal"), dict):
            p = res["portal"]
            res["portal"] = {"sent": p.get("sent", 0), "refused": [tuple(x) for x in p.get("refused", [])],
                             "unreachable": p.get("unreachable", "")}
        return res

    def close(self) -> None:
        """Nothing to send (the take failed): the helper leaves without sending."""
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


class EarlyLogin:
    """The portal's transport made and logged in on a thread of the command, started once the take is
    committed: it runs while the command only waits (for the receipt from its helper, for the files
    from the other), so the acknowledgement goes as soon as the files are stored. ``connect`` hands
    it over once (a failed login is tried again by the call that needs the session, as without it)."""

    def __init__(self, connect):
        self._connect = connect
        self._tr = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="onestop-portal-login", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._tr = self._connect()
        except BaseException as e:  # noqa: BLE001 - raised again by connect(), where it was before
            self._error = e
            return
        try:
            self._tr.login()
            from onestop.sync import payloads, portal  # noqa: F401  (what sending the acknowledgement loads)
        except BaseException:  # noqa: BLE001, S110 - send_acks logs in again and says what fails
            pass

    def connect(self):
        """The logged-in transport the first time, a new one after (each is closed by its user)."""
        self._thread.join()
        tr, self._tr = self._tr, None
        if tr is not None:
            return tr
        if self._error is not None:
            e, self._error = self._error, None
            raise e
        return self._connect()

    def close(self) -> None:
        """Not used after all (the command failed): wait for the thread, close what it made."""
        self._thread.join()
        if self._tr is not None:
            self._tr.close()
            self._tr = None


def _helper(go_r: int, ans_w: int) -> None:
    res: dict = {}
    try:
        # Warm: what archiving a citizen's PDF loads (archive/scan.py's path, pypdf), loaded meanwhile.
        # No HTTP here: the command logs in on its own once the take is stored, while this helper
        # archives and the receipt is drawn (online_take.accept), so this start-up stays short.
        from onestop import store
        from onestop.archive import imaging, scan  # noqa: F401
        from onestop.common import config
        from onestop.intake import dossiers  # noqa: F401
        from onestop.sync.online_take import finish

        try:
            import pypdf  # noqa: F401  (what the archive reads a citizen's PDF with)
        except ImportError:
            pass
        chunks = []
        while True:
            b = os.read(go_r, 65536)
            if not b:
                break
            chunks.append(b)
        if chunks:  # told: the take is committed
            payload = json.loads(b"".join(chunks))
            cfg = config.load(officer=payload.get("officer") or None)
            res = finish(store.connect(cfg), cfg, payload["dvc"], send=False)
    except BaseException as e:  # noqa: BLE001 - the command does what is left and reports it
        res = {"error": f"{type(e).__name__}: {e}"[:300]}
    finally:
        try:
            os.write(ans_w, json.dumps(res, default=str).encode())
        finally:
            os._exit(0)
