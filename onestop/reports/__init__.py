"""Supervisors' figures: the backlog and the period report, charts, the tracking book (Mẫu 06).
Imports domain, common, store, intake, archive."""
