"""The electronic archive: scan, image checks, OCR (tesseract), document numbers, PDF/A writing,
results, search. Imports domain, common, store and intake's dossier look-ups."""
