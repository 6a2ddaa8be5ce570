"""A desk whose cable is pulled just after its receive numbered a dossier (tests/test_office_timeouts.py).

    python tests/dead_desk.py

Reads its data home, database URL, clock and limits from the environment like the CLI, then runs the
real ``receive`` and, right after the numbering statement (the day's counter row now locked by its
transaction), prints "numbered CODE" and stops itself with SIGSTOP: the process is frozen, its socket
stays open and its server session sits "idle in transaction" holding the counter row, as a desk that
dropped off the network does. The test kills it at the end.
"""

from __future__ import annotations

import os
import signal
import sys

from onestop.intake import catalog, dossiers
from onestop.common import config
from onestop.common.errors import OnestopError
from onestop.store import codes as code_store
from onestop.store import connect


def main() -> int:
    cfg = config.load()
    db = connect(cfg)
    catalog.ensure_loaded(db, cfg.catalog_file)
    number = code_store.number_dossier

    def number_then_freeze(*args, **kw):
        seq, book, code = number(*args, **kw)
        print(f"numbered {code}", flush=True)
        os.kill(os.getpid(), signal.SIGSTOP)
        return seq, book, code

    code_store.number_dossier = number_then_freeze
    dossiers.receive(db, cfg, dossiers.ReceiveRequest(
        procedure_code="1.003584", applicant=dossiers.Applicant(name="Người Mất Mạng", id_number="001085012345")),
        render=False)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except OnestopError as e:
        print(f"onestop: {e}", file=sys.stderr)
        sys.exit(e.exit_code)
