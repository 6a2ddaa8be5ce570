"""Supervisors' figures: the backlog and the period report, charts, the tracking book (Mẫu 06).
Imports domain, common, store, intake, archive."""


def share_setting(cfg, key: str, default: float) -> float:
    """``[report] <key>``, a share from 0 to 1 (checked when the configuration is read), else ``default``."""
    value = cfg.get(f"report.{key}", None)
    return default if value is None else float(value)
