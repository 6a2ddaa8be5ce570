"""Drive `python -m onestop` through a real pseudo-terminal, as an officer types at the counter."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Terminal:
    """One command on a pty: ``expect`` text, ``send`` a line, ``wait`` for the exit code."""

    def __init__(self, *args: str, env: dict | None = None, cwd: str | None = None):
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen([sys.executable, "-m", "onestop", *args], stdin=slave, stdout=slave,
                                     stderr=slave, env={**os.environ, **(env or {}), "COLUMNS": "200"},
                                     cwd=cwd, close_fds=True)
        os.close(slave)
        self.seen = ""  # everything the screen showed so far
        self._pos = 0

    def _pump(self, timeout: float) -> bool:
        r, _, _ = select.select([self.master], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(self.master, 65536)
        except OSError:  # the child closed the terminal
            return False
        if not data:
            return False
        self.seen += _ANSI.sub("", data.decode("utf-8", "replace")).replace("\r", "")
        return True

    def expect(self, text: str, timeout: float = 30) -> str:
        """Read until ``text`` appears after the last match; return what was shown in between."""
        deadline = time.monotonic() + timeout
        while True:
            i = self.seen.find(text, self._pos)
            if i >= 0:
                chunk = self.seen[self._pos:i + len(text)]
                self._pos = i + len(text)
                return chunk
            if time.monotonic() > deadline or (not self._pump(0.2) and self.proc.poll() is not None
                                               and not self._pump(0.2)):
                raise AssertionError(f"never saw {text!r} after:\n{self.seen[:self._pos]}\n--- then:\n{self.seen[self._pos:]}")

    def send(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode("utf-8"))

    def wait(self, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._pump(0.1)
        while self._pump(0.1):
            pass
        code = self.proc.wait(timeout=max(1, deadline - time.monotonic()))
        os.close(self.master)
        return code

    def rest(self) -> str:
        return self.seen[self._pos:]
