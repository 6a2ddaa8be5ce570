"""Options and helpers shared by the command modules."""

from __future__ import annotations

import typer

JSON = typer.Option(False, "--json", help="In JSON ra stdout (tên trường ổn định, xem docs/output.md).")
CSV = typer.Option(False, "--csv", help="In CSV ra stdout.")


def fmt(json_: bool, csv_: bool) -> str:
    return "json" if json_ else "csv" if csv_ else "table"


def context():
    """The configuration and an open, migrated database."""
    from onestop import config
    from onestop.cli import state
    from onestop.db import connect

    from onestop.store import refuse_office_mode

    cfg = config.load(officer=state.get("officer"))
    refuse_office_mode(cfg)  # not wired to PostgreSQL yet: never fall back to a local file silently
    db = connect(cfg.db_path)
    return cfg, db


def context_with_catalog():
    from onestop import catalog

    cfg, db = context()
    catalog.ensure_loaded(db, cfg.catalog_file)
    return cfg, db
