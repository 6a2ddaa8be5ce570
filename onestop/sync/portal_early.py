"""The portal made ready while a take is stored (P14): ``online accept`` forks a helper at the entry
point (onestop/entry.py, before anything else runs) that loads the HTTP client, opens the
connection and logs in on the other core, then waits. Only once the take and its files are committed
does the command tell it to go (``Teller.tell``): the helper opens its own store connection and
sends the acknowledgements due (sync/portal.py ``send_acks``), and answers what the portal said.
Nothing is sent before the commit: a command that fails or is killed closes the pipe and the helper
leaves without sending; the acknowledgement then waits for the next pull or sync.
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

    def tell(self) -> dict:
        """The commit is done: let the helper send, and return its answer (sent, refused, unreachable)."""
        try:
            os.write(self._go, b"go")
            os.close(self._go)
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
        return {"sent": res.get("sent", 0), "refused": [tuple(x) for x in res.get("refused", [])],
                "unreachable": res.get("unreachable", "" if res else "helper")}

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
    res: dict = {"sent": 0, "refused": [], "unreachable": ""}
    try:
        from onestop.common import config
        from onestop.sync import http_transport
        from onestop.sync.transport import LoginFailed, Temporary

        cfg = config.load()
        tr = http_transport(cfg)
        try:
            tr.login()
        except (LoginFailed, Temporary, OSError):
            pass  # send_acks logs in again and reports what fails
        if os.read(go_r, 2) == b"go":
            from onestop import store
            from onestop.sync.portal import send_acks

            res = send_acks(store.connect(cfg), cfg, tr)
    except BaseException as e:  # noqa: BLE001 - the command reports it; the ack waits for the next pull/sync
        res["unreachable"] = f"{type(e).__name__}: {e}"[:200]
    finally:
        try:
            os.write(ans_w, json.dumps(res).encode())
        finally:
            os._exit(0)
