"""Intake at the counter: the procedure catalog, receiving and changing dossiers, the forms (Mẫu 01-05),
the calendar's sources, ``office show/set``. Imports common, domain and store only (the code high-water
mark and the office settings a desk takes at connect are the store's: onestop/store/home.py, settings.py).

Where things are: ``catalog.py`` procedures (import, search, one read per receive); ``receiving.py``
a receive (checks, the code and book number with the insert, Mẫu 02/03 without a code);
``changes.py`` moves, the reschedule, corrections; ``lookup.py`` finding and showing dossiers;
``form_files.py`` where printed forms are written (Mẫu 01 receipt, Mẫu 05 slip); ``forms/`` drawing
the forms, one module per form; ``applicants.py`` the applicant's checks and the officer's name;
``due_dates.py`` the working-day calendar and appointment dates; ``clock.py`` now and typed times;
``dossiers.py`` one import for all of the dossier service; ``office.py`` showing and setting an
office's shared settings; ``calendar_source.py`` the calendar's sources (holidays, calendar.toml)."""
