"""Console entry point, kept import-light.

``onestop receive`` (and ``online accept/refuse``) starts warming the PDF engine in a helper process
(onestop/intake/prerender.py) before the CLI framework is even imported, so the receipt (or Mẫu 02/03)
is ready as soon as the code is;
``onestop scan`` starts loading its OCR engines (onestop/archive/ocr.py) the same way.
"""

from __future__ import annotations

import sys

_ROOT_OPTIONS_WITH_VALUE = {"--lang", "--officer"}


def command_name(argv: list[str]) -> str | None:
    """The top-level command named in ``argv`` (None for ``--help``, ``--version`` or nothing)."""
    skip = False
    for a in argv:
        if skip:
            skip = False
        elif a in _ROOT_OPTIONS_WITH_VALUE:
            skip = True
        elif a in ("-h", "--help", "--version"):
            return None
        elif not a.startswith("-"):
            return a
    return None


def main() -> None:
    argv = sys.argv[1:]
    if argv[:1] == ["__complete"]:  # asked by the shell at each Tab (onestop/cli/completer.py)
        from onestop.cli.completer import main as complete

        sys.exit(complete(argv[1:]))
    command = command_name(argv) if "--help" not in argv and "-h" not in argv else None
    if command == "receive" or (command == "online" and ("accept" in argv or "refuse" in argv)):  # Mẫu 01/02/03
        from onestop.intake import prerender

        prerender.start_early()
        if command == "online" and "accept" in argv:  # the archive helper, forked as the command starts (onestop/sync/portal_early.py)
            from onestop.sync import portal_early

            portal_early.allow()
    elif command == "online" and ("list" in argv or "show" in argv):  # a warm archive helper for the accept after
        from onestop.sync import portal_early

        portal_early.allow_prewarm()
    elif command == "scan":
        from onestop.archive import ocr  # the OCR engines load while the CLI does (onestop/archive/ocr_worker.py)

        ocr.start_early()
    from onestop.cli import main as cli_main

    cli_main(command_name(argv))  # handed down: the CLI imports nothing from here (no circle)
