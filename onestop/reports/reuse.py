"""The reuse rate of the period report (issue 21, DOMAIN.md §8): dossiers received in the period
with at least one component reused (a paper or result already digitized, digitization status 2 or
3) ÷ dossiers received, beside its target ``[report] reuse_target`` (default 80%). Definitions:
docs/reports.md, docs/reuse.md."""

from __future__ import annotations

REUSE_TARGET = 0.8
FIGURES = ["reused", "reuse_rate", "reuse_target"]
LABELS = {
    "reused": ("Hồ sơ tiếp nhận có tái sử dụng dữ liệu số hóa", "Received dossiers reusing digitized papers"),
    "reuse_rate": ("Tỷ lệ tái sử dụng", "Reuse rate"),
    "reuse_target": ("Mục tiêu tái sử dụng", "Reuse target"),
}


def target(cfg) -> float:
    """``[report] reuse_target`` (a share, 0 to 1), default 0.8."""
    from onestop.reports import share_setting

    return share_setting(cfg, "reuse_target", REUSE_TARGET)


def figures(db, cfg, lo: str, hi: str, received: int) -> dict:
    """``reused``, ``reuse_rate`` (None when nothing was received) and ``reuse_target`` for ``[lo, hi)``."""
    from onestop.store.reuse import reuse_count

    n = reuse_count(db, lo, hi)
    return {"reused": n, "reuse_rate": round(n / received, 4) if received else None, "reuse_target": target(cfg)}


def chart_svg(r: dict) -> str:
    """The HTML page's bar chart: the reuse rate beside its target, in percent."""
    from onestop.common.i18n import t
    from onestop.reports.charts import bar_svg

    rate = round((r["reuse_rate"] or 0) * 100, 1)
    goal = round(r["reuse_target"] * 100, 1)
    return bar_svg([(t("Tỷ lệ tái sử dụng (%)", "Reuse rate (%)"), rate), (t("Mục tiêu (%)", "Target (%)"), goal)],
                   title=t("Tái sử dụng dữ liệu đã số hóa", "Reuse of digitized papers"),
                   color="#6a1b9a", css_class="chart bar reuse",
                   highlight={t("Tỷ lệ tái sử dụng (%)", "Reuse rate (%)"): rate} if rate < goal else None)
