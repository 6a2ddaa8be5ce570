"""The electronic archive: paper scanned into searchable PDF/A files, checked, OCRed and searched.

Where things are:
- scan.py      ``onestop scan``: one component (or result) of a dossier from files, the inbox or a
               SANE scanner, in its crash-safe order (claim, pages, review, write, commit).
- pages.py     each page decoded, turned upright, deskewed and OCRed in parallel; the pages in one PDF.
- files.py     the write-once archive files: their names, writing a new one, the commit of a file with
               its rows (races between scans), moving the archive folder (``relocate``).
- claims.py    the scan inbox, the claims scans take on its files, work folders, clean-up after a kill.
- check.py     ``onestop check``: the archive against the database, with advice per problem.
- imaging.py, prepare.py, quality.py   page images: probing, decoding, degraded copies, readability.
- ocr.py, ocr_worker.py                tesseract and its long-lived worker processes.
- pdfwriter.py, pdfa.py                writing the PDF bytes, PDF/A-2b, signed PDFs.
- digitization.py, docnumbers.py       hard-to-read pages and document numbers read from the text.
- results.py, search.py                result papers as pseudo-components; full-text search.

May import common, domain, store and intake (dossier look-ups and events); nothing above (reports,
sync, samples, cli).
"""
