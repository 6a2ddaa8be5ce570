"""The pure domain core: dossier codes, working days, statuses, identifiers, names. No store, no HTTP,
no CLI, no clock: the time and the settings are passed in. Imports only onestop.common."""
