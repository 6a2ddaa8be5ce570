"""Intake at the counter: the procedure catalog, receiving and changing dossiers, the forms (Mẫu 01-05),
the calendar's sources, ``office show/set``. Imports domain, common and store (the code high-water
mark and the office settings a desk takes at connect are the store's: onestop/store/home.py,
settings.py)."""
