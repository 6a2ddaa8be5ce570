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


def _helper(go_r: int, ans_w: int) -> None:
    res: dict = {}
    try:
        from onestop.archive import scan  # noqa: F401  (warm: the archive's modules, loaded meanwhile)
        from onestop.archive import imaging  # noqa: F401
        from onestop.common import config
        from onestop.sync import http_transport
        from onestop.sync.transport import LoginFailed, Temporary

        try:
            import pypdf  # noqa: F401  (what the archive reads a citizen's PDF with)
        except ImportError:
            pass
        tr = None
        try:
            tr = http_transport(config.load())
            tr.retries = min(tr.retries, 1)  # a citizen waits: what is not answered goes with the next pull/sync
            tr.login()
        except (LoginFailed, Temporary, OSError, Exception):  # noqa: BLE001 - send_acks says what fails
            pass
        chunks = []
        while True:
            b = os.read(go_r, 65536)
            if not b:
                break
            chunks.append(b)
        if chunks:  # told: the take is committed
            from onestop import store
            from onestop.sync.online_take import finish

            payload = json.loads(b"".join(chunks))
            cfg = config.load(officer=payload.get("officer") or None)
            res = finish(store.connect(cfg), cfg, payload["dvc"], payload.get("send", True),
                         (lambda: tr) if tr is not None else None)
    except BaseException as e:  # noqa: BLE001 - the command does what is left and reports it
        res = {"error": f"{type(e).__name__}: {e}"[:300]}
    finally:
        try:
            os.write(ans_w, json.dumps(res, default=str).encode())
        finally:
            os._exit(0)
