"""Intake at the counter: the procedure catalog, receiving and changing dossiers, the forms (Mẫu 01-05),
the office settings and the home's code high-water mark. Imports domain, common, store (and archive
for the digitization look-ups)."""
