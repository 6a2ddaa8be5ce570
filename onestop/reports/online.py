"""The online share of the period report (issue 23): dossiers received online (channel 2) out of all
received, beside the ministry's target (``[report] online_target``, a percent, default 50: QĐ
1205/QĐ-BKHCN Phụ lục I), and its chart on the HTML page."""

from __future__ import annotations

ONLINE_TARGET = 50.0  # percent

LABELS = {
    "online_rate": ("Tỷ lệ hồ sơ trực tuyến", "Online share"),
    "online_target": ("Mục tiêu hồ sơ trực tuyến", "Online target"),
}


def target(cfg) -> float:
    """``[report] online_target`` as a fraction (50 → 0.5)."""
    from onestop.common.errors import ConfigError

    value = cfg.get("report.online_target", ONLINE_TARGET)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
        raise ConfigError(f"[report] online_target phải là phần trăm từ 0 đến 100 (vd. 50), không phải {value!r}.",
                          f"[report] online_target must be a percent from 0 to 100 (e.g. 50), not {value!r}.")
    return round(float(value) / 100, 4)


def figures(cfg, by_channel: dict, received: int) -> dict:
    """``online_rate`` (None when nothing was received) and ``online_target``."""
    online = by_channel.get("2", 0)
    return {"online_rate": round(online / received, 4) if received else None, "online_target": target(cfg)}


def chart_svg(r: dict) -> str:
    """Bars: the period's online share and its target (percent)."""
    from onestop.common.i18n import t
    from onestop.reports.charts import bar_svg

    rate = r.get("online_rate")
    items = [(t("Trực tuyến", "Online"), round((rate or 0) * 100, 1)),
             (t("Mục tiêu", "Target"), round(r["online_target"] * 100, 1))]
    low = {items[0][0]: items[0][1]} if rate is not None and rate < r["online_target"] else {}
    return bar_svg(items, title=t("Tỷ lệ hồ sơ trực tuyến (%) (đỏ: dưới mục tiêu)", "Online share (%) (red: below target)"),
                   color="#2e7d32", css_class="chart bar online", highlight=low)
