"""Intake at the counter: the procedure catalog, receiving and changing dossiers, the forms (Mẫu 01-05),
the office settings and the home's code high-water mark. Imports common, domain and store only.

Where things are: ``catalog.py`` procedures (import, search, one read per receive); ``receiving.py``
a receive (checks, the code and book number with the insert, Mẫu 02/03 without a code);
``changes.py`` moves, the reschedule, corrections; ``lookup.py`` finding and showing dossiers;
``form_files.py`` where printed forms are written (Mẫu 01 receipt, Mẫu 05 slip); ``forms.py`` drawing
the forms; ``applicants.py`` the applicant's checks and the officer's name; ``due_dates.py`` the
working-day calendar and appointment dates; ``clock.py`` now and typed times; ``dossiers.py`` one
import for all of the dossier service; ``home.py`` the code high-water mark; ``office.py`` an
office's shared settings."""
