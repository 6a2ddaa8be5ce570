"""Overlap the receipt's PDF engine start-up with the rest of ``onestop receive``.

Loading reportlab and the fonts costs about as much as everything else the command does, and a
citizen is waiting. A forked helper process loads them while the parent validates the request and
allocates the code; the parent then hands it the dossier and waits for the file. Any trouble with
the helper (no fork, it died, it failed) falls back to rendering in-process, so the receipt never
depends on it and errors keep their normal messages. The fallback is not silent: ``outcome`` says
who rendered and why, `receive --debug` prints it, and the helper sends its error back.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import sys

_IDLE_LIMIT_S = 120  # a helper whose parent never sends a job nor closes the pipe exits by itself
_RENDER_LIMIT_S = 20  # a helper that does not answer by then is killed; the parent renders itself


def _read_all(fd: int, timeout: float | None) -> bytes:
    chunks = []
    while True:
        if timeout is not None and not select.select([fd], [], [], timeout)[0]:
            return b""
        b = os.read(fd, 1 << 16)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


_early: "Renderer | None" = None


def start_early() -> None:
    """Fork the helper now, for the command to pick up with ``take_early`` (see onestop/entry.py)."""
    global _early
    _early = Renderer.start()


def take_early() -> "Renderer | None":
    """The helper started by ``start_early``, if any (each is taken once)."""
    global _early
    r, _early = _early, None
    return r


class Renderer:
    """Render forms in a pre-warmed child process when possible."""

    def __init__(self):
        self.pid: int | None = None
        self._jobs = self._results = -1
        # Who rendered the last form: "helper", or "in-process (<why>)"; "" before any render.
        self.outcome = ""
        self._no_helper = ""

    @classmethod
    def start(cls) -> "Renderer":
        """Fork the helper; returns an in-process renderer where fork is unavailable."""
        self = cls()
        if not hasattr(os, "fork") or os.environ.get("ONESTOP_NO_PRERENDER"):
            self._no_helper = "helper disabled (ONESTOP_NO_PRERENDER)" if hasattr(os, "fork") else "no fork"
            return self
        jobs_r, jobs_w = os.pipe()
        res_r, res_w = os.pipe()
        try:
            pid = os.fork()
        except OSError as e:
            for fd in (jobs_r, jobs_w, res_r, res_w):
                os.close(fd)
            self._no_helper = f"fork failed: {e}"
            return self
        if pid == 0:  # the helper
            status = 0
            try:
                os.close(jobs_w)
                os.close(res_r)
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and reaps us
                from onestop.intake import forms

                forms.warm_up()
                data = _read_all(jobs_r, _IDLE_LIMIT_S)
                if data:
                    name, args, kw = pickle.loads(data)
                    getattr(forms, name)(*args, **kw)
                    os.write(res_w, b"ok")
            except BaseException as e:  # noqa: BLE001 - reported to the parent, which renders in-process
                status = 1
                try:
                    os.write(res_w, f"error: {type(e).__name__}: {e}".encode("utf-8", "replace")[:2000])
                except OSError:
                    pass
            finally:
                os._exit(status)
        os.close(jobs_r)
        os.close(res_w)
        self.pid, self._jobs, self._results = pid, jobs_w, res_r
        return self

    def render(self, name: str, *args, **kw):
        """Call ``onestop.intake.forms.<name>(*args, **kw)``, in the helper if it is there; returns its result
        path (``args[-1]``)."""
        why = self._no_helper or "helper already used"
        if self.pid is not None:
            try:
                os.write(self._jobs, pickle.dumps((name, args, kw)))
                os.close(self._jobs)
                self._jobs = -1
                answer = _read_all(self._results, _RENDER_LIMIT_S)
            except OSError as e:
                answer = f"error: {e}".encode()
            ok = answer == b"ok"
            if not ok:
                why = "helper failed: " + (answer.decode("utf-8", "replace") or "no answer (died or timed out)")
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.close()
            if ok:
                self._report("helper")
                return args[-1]
        from onestop.intake import forms

        result = getattr(forms, name)(*args, **kw)
        self._report(f"in-process ({why})")
        return result

    def _report(self, outcome: str) -> None:
        self.outcome = outcome
        # `receive --debug` prints the outcome; a process that logs (the sync, a library user)
        # gets it in its log too. Importing logging only for this would cost every receive ~1 ms.
        if "logging" in sys.modules:
            sys.modules["logging"].getLogger("onestop.intake.prerender").debug("receipt rendered by %s", outcome)

    def __enter__(self) -> "Renderer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Release the helper (idempotent)."""
        for attr in ("_jobs", "_results"):
            fd = getattr(self, attr)
            if fd >= 0:
                os.close(fd)
                setattr(self, attr, -1)
        if self.pid is not None:
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
            self.pid = None
