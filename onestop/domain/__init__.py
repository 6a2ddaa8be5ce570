"""The pure domain core: dossier codes (codes.py), working days (workdays.py), statuses (states.py),
applicant ID numbers (identifiers.py), phone numbers (phones.py), the chip card's QR line
(chip_qr.py), masking of ID and phone numbers (masking.py), names (names.py). No store, no HTTP,
no CLI, no clock: the time and the settings are passed in. Imports only onestop.common."""
