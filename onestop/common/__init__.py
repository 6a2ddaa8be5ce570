"""Shared helpers every part may import: settings (config), the error type and exit codes (errors),
vi/en text (i18n), crash-safe files (files), text folding (text), dates, table/JSON/CSV output and
Excel workbooks, a Ctrl-C that is never lost (interrupt). Imports nothing else of onestop."""
