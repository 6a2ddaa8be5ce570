"""Ctrl-C that is never lost.

Python turns SIGINT into ``KeyboardInterrupt`` at the next bytecode of the main thread. When that
bytecode belongs to a callback Python runs for itself (a weakref callback of the import system's
module locks, a ``__del__``), the exception is printed as "Exception ignored" and dropped: the officer
pressed Ctrl-C and the command runs on to the end. ``install`` records every Ctrl-C as well as raising
it, and long commands call ``check`` at their safe points (between pages, before a commit), which
raises it again if it was dropped.
"""

from __future__ import annotations

import signal

_requested = False


def _on_sigint(signum, frame):  # noqa: ARG001 - the signal module's signature
    global _requested
    _requested = True
    raise KeyboardInterrupt


def install() -> None:
    """Take over SIGINT in the main thread (the CLI does, at start); a no-op where Ctrl-C is ignored."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_sigint)


def check() -> None:
    """Raise ``KeyboardInterrupt`` if Ctrl-C was pressed, even when Python dropped it where it landed."""
    if _requested:
        raise KeyboardInterrupt
