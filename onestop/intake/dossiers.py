"""The dossier service's public surface: one import for the callers outside intake.

Every change is one IMMEDIATE transaction that writes the dossier, an appended event (who, when,
unit, what, resulting status) and the outbox rows the nightly sync sends. History is never edited.
The work lives in modules named for what they do:

- ``receiving.py``   receive, receive_many, refuse: checks, the code and book number, the insert
- ``changes.py``     move, reschedule, amend, lock_for_change (the row as the officer saw it)
- ``lookup.py``      resolve_code, resolve_for_change, show, list_dossiers
- ``form_files.py``  where printed forms are written; the receipt (Mẫu 01) and the slip (Mẫu 05)
- ``applicants.py``  the applicant's checks, the officer's name
- ``due_dates.py``   the working-day calendar and the appointment date
- ``clock.py``       now, iso, parse_when

New code may import from those modules directly; this one only re-exports.
"""

from __future__ import annotations

from onestop.intake.applicants import Applicant, check_applicant_field, form_officer, officer_name
from onestop.intake.changes import AMENDABLE, amend, check_move, check_reschedule, lock_for_change, move, reschedule
from onestop.intake.clock import iso, now, parse_when, tz
from onestop.intake.due_dates import calendar_for, check_working_time, compute_due
from onestop.intake.form_files import control_slip_rows, form_version, render_control_slip, reprint_receipt
from onestop.intake.lookup import (LIST_COLUMNS, list_dossiers, mask_history, matching_dossiers, resolve_code,
                                   resolve_for_change, show)
from onestop.intake.receiving import (CHANNELS, MAX_PAGES, MAX_SETS, ReceiveRequest, receive, receive_many,
                                      recent_duplicates, refuse, select_case)
from onestop.store import dossiers as _store

__all__ = [
    "AMENDABLE", "Applicant", "CHANNELS", "LIST_COLUMNS", "MAX_PAGES", "MAX_SETS", "ReceiveRequest", "amend",
    "calendar_for", "check_applicant_field", "check_move", "check_reschedule", "check_working_time", "compute_due",
    "control_slip_rows", "form_officer", "form_version", "iso", "list_dossiers", "lock_for_change", "mask_history",
    "matching_dossiers", "move", "now", "officer_name", "parse_when", "receive", "receive_many", "recent_duplicates",
    "refuse", "render_control_slip", "reprint_receipt", "reschedule", "resolve_code", "resolve_for_change",
    "select_case", "show", "tz",
]


def _event(db, dossier_id, at, officer, unit, action, note, status_from, status_to, data=None) -> int:
    """Append an event (onestop/store/dossiers.py ``add_event``); kept under this name for archive/files.py."""
    return _store.add_event(db, dossier_id, at, officer, unit, action, note, status_from, status_to, data)


def _outbox(db, dossier_id, kind, ref_id, stamp) -> None:
    """Queue a sync entry (onestop/store/dossiers.py ``queue_outbox``); kept under this name for archive/files.py."""
    _store.queue_outbox(db, dossier_id, kind, ref_id, stamp)
