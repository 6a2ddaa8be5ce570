"""Supervisor figures: the backlog and the period report (DOMAIN.md §8, QĐ 766/QĐ-TTg).

Every figure is a SQL aggregate over covering indexes (migration ``0004_reports``), in
``onestop/store/reports.py``; this module only folds the grouped rows. Working days come from the
intake calendar as an ordinal per date (``workday_ordinals``), so "days late" over a million
dossiers is one dict lookup per distinct date, never a calendar walk per row. Definitions of every
figure: docs/reports.md.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from onestop.store.sqlite import Database

from onestop.common.config import Config
from onestop.reports import fees, online, reuse, share_setting

IN_PROCESSING = ("2", "4")       # the clock runs: these can be overdue
WAITING_CITIZEN = ("5", "6")     # the clock waits on the citizen (papers, fees): "tạm dừng"
OPEN_STATUSES = IN_PROCESSING + WAITING_CITIZEN
RESOLVED = ("9", "10")
DUE_SOON_DAYS = 3
# The ministry's plan (QĐ 1205/QĐ-BKHCN Phụ lục I): 80% of dossiers digitized, 100% of results synced
# to the national portal; ``[report] digitization_target`` / ``results_sync_target`` (shares) change them.
DIGITIZATION_TARGET = 0.8
RESULTS_SYNC_TARGET = 1.0


# ---------------------------------------------------------------- working days

def workday_ordinals(cal, first: date, last: date) -> dict[str, int]:
    """``{iso date: n}`` where n counts working days in ``(first - 1 day, d]``.

    ``ord[b] - ord[a]`` is the working days in ``(a, b]``, exactly
    ``WorkCalendar.working_days_between(a, b)``, for any a, b in range.
    """
    out: dict[str, int] = {}
    n = 0
    d = first
    while d <= last:
        if cal.is_working_day(d):
            n += 1
        out[d.isoformat()] = n
        d += timedelta(days=1)
    return out


def _calendar(db: Database, cfg: Config, first: date, last: date):
    from onestop.intake.dossiers import calendar_for

    return calendar_for(db, cfg, range(first.year, last.year + 1))


def _ordinals_for(db, cfg, days: set[str], *extra: date) -> tuple[dict[str, int], object]:
    ds = [date.fromisoformat(d) for d in days if d] + list(extra)
    first, last = min(ds), max(ds)
    cal = _calendar(db, cfg, first, last)
    return workday_ordinals(cal, first, last), cal


# ---------------------------------------------------------------- backlog

@dataclass
class BacklogFilter:
    procedure: str | None = None
    field: str | None = None
    officer: str | None = None

    def kwargs(self) -> dict:
        return {"procedure": self.procedure, "field": self.field, "officer": self.officer}


BACKLOG_STATUS_COLUMNS = ["status", "name", "count", "overdue", "due_today", "due_soon"]
BACKLOG_PROCEDURE_COLUMNS = ["procedure_code", "procedure_name", "count", "overdue", "due_today", "due_soon"]
OVERDUE_COLUMNS = ["code", "procedure_code", "procedure_name", "applicant_name", "id_number", "phone",
                   "status", "received_at", "due_at", "days_late", "officer"]


def backlog(db: Database, cfg: Config, as_of: date, flt: BacklogFilter | None = None, *,
            show_personal: bool = False, list_limit: int = 0) -> dict:
    """Open dossiers (2, 4, 5, 6) received up to ``as_of``, as of that day.

    Overdue / due today / due soon count only dossiers in processing (2, 4): for 5 and 6 the
    clock waits on the citizen. Day granularity: overdue = appointment date before ``as_of``;
    due soon = appointment within the next ``DUE_SOON_DAYS`` working days after ``as_of``.
    """
    from onestop.domain.states import status_name
    from onestop.store import reports as store

    flt = flt or BacklogFilter()
    next_day = (as_of + timedelta(days=1)).isoformat()
    rows = [(r["status"], r["procedure_code"], r["due_day"], r["n"])
            for r in store.open_counts(db, next_day, **flt.kwargs())]
    ords, cal = _ordinals_for(db, cfg, {r[2] for r in rows}, as_of, as_of + timedelta(days=15))
    today = as_of.isoformat()
    soon_limit = cal.add_working_days(as_of, DUE_SOON_DAYS).isoformat()
    names = store.procedure_names(db)
    by_status = {s: {"status": s, "name": status_name(s), "count": 0, "overdue": 0, "due_today": 0, "due_soon": 0}
                 for s in OPEN_STATUSES}
    by_proc: dict[str, dict] = {}
    for st, proc, due_day, n in rows:
        p = by_proc.setdefault(proc, {"procedure_code": proc, "procedure_name": names.get(proc, ""), "count": 0,
                                      "overdue": 0, "due_today": 0, "due_soon": 0})
        for bucket in (by_status[st], p):
            bucket["count"] += n
            if st in IN_PROCESSING:
                if due_day < today:
                    bucket["overdue"] += n
                elif due_day == today:
                    bucket["due_today"] += n
                elif due_day <= soon_limit:
                    bucket["due_soon"] += n
    statuses = list(by_status.values())
    procs = sorted(by_proc.values(), key=lambda p: (-p["count"], p["procedure_code"]))
    overdue_list = _overdue_list(store.overdue_dossiers(db, today, next_day, limit=list_limit, **flt.kwargs()),
                                 today, ords, names, show_personal)
    tot = lambda k: sum(s[k] for s in statuses)  # noqa: E731
    from onestop.archive.digitization import rescan_list

    # Pages of open dossiers recorded as hard to read (scan): rescan while the papers are still here.
    rescan = [r for r in rescan_list(db, statuses=OPEN_STATUSES, received_before=next_day)
              if all(not v or r[k] == v for k, v in (("procedure_code", flt.procedure), ("field_code", flt.field),
                                                     ("officer", flt.officer)))]
    return {
        "as_of": today,
        "filters": {"procedure": flt.procedure, "field": flt.field, "officer": flt.officer},
        "total": tot("count"),
        "in_processing": sum(by_status[s]["count"] for s in IN_PROCESSING),
        "waiting_citizen": sum(by_status[s]["count"] for s in WAITING_CITIZEN),
        "overdue": tot("overdue"), "due_today": tot("due_today"), "due_soon": tot("due_soon"),
        "due_soon_working_days": DUE_SOON_DAYS,
        "by_status": statuses,
        "by_procedure": procs,
        "overdue_list": overdue_list,
        "rescan_pages": len(rescan),
        "rescan": rescan,
    }


def _overdue_list(rows, today, ords, names, show_personal) -> list[dict]:
    from onestop.domain.masking import mask_id, mask_phone

    out = []
    for r in rows:
        proc, idn, phone, due = r["procedure_code"], r["id_number"], r["phone"], r["due_at"]
        out.append({
            "code": r["code"], "procedure_code": proc, "procedure_name": names.get(proc, ""),
            "applicant_name": r["applicant_name"],
            "id_number": idn if show_personal else mask_id(idn), "phone": phone if show_personal else mask_phone(phone),
            "status": r["status"], "received_at": r["received_at"], "due_at": due,
            "days_late": ords[today] - ords[due[:10]], "officer": r["officer"],
        })
    return out


def backlog_figures(b: dict) -> list[dict]:
    """The backlog as long rows ``figure, key, value`` (the CSV layout)."""
    rows = [{"figure": k, "key": "", "value": b[k]}
            for k in ("total", "in_processing", "waiting_citizen", "overdue", "due_today", "due_soon", "rescan_pages")]
    for s in b["by_status"]:
        rows += [{"figure": f"status_{k}", "key": s["status"], "value": s[k]} for k in ("count", "overdue", "due_today", "due_soon")]
    for p in b["by_procedure"]:
        rows += [{"figure": f"procedure_{k}", "key": p["procedure_code"], "value": p[k]}
                 for k in ("count", "overdue", "due_today", "due_soon")]
    return rows


# ---------------------------------------------------------------- period report

REPORT_PROCEDURE_COLUMNS = ["procedure_code", "procedure_name", "received", "resolved", "early", "on_time", "late",
                            "stopped", "withdrawn", "in_progress", "in_progress_overdue", "waiting_citizen",
                            "avg_working_days"]


def parse_period(period: str | None, start: str | None, end: str | None) -> tuple[date, date]:
    """``--period YYYY-MM`` (or YYYY) or ``--from``/``--to`` dates → (first day, last day)."""
    from onestop.common.errors import InvalidInput

    try:
        if period:
            if len(period) == 4:
                y = int(period)
                return date(y, 1, 1), date(y, 12, 31)
            y, m = (int(x) for x in period.split("-"))
            first = date(y, m, 1)
            last = (date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1))
            return first, last
        if start and end:
            a, b = date.fromisoformat(start), date.fromisoformat(end)
            if b < a:
                raise ValueError
            return a, b
    except ValueError:
        pass
    raise InvalidInput(
        "Cần --period YYYY-MM (vd. 2026-11) hoặc cả --from và --to dạng YYYY-MM-DD (từ ≤ đến).",
        "Give --period YYYY-MM (e.g. 2026-11) or both --from and --to as YYYY-MM-DD (from ≤ to).")


def period_report(db: Database, cfg: Config, first: date, last: date, *, now: datetime | None = None) -> dict:
    """The period report (national layout) for ``[first, last]`` (local dates, inclusive).

    A period that has not ended is cut at ``now`` (default: the clock): figures up to that moment,
    ``cut_at`` says so, and a dossier in progress is overdue when its appointment day is before
    today (as ``backlog`` counts it: one due today is not late yet). A period that has not begun
    is refused (InvalidInput).
    """
    from onestop.intake.dossiers import iso
    from onestop.intake.dossiers import now as clock
    from onestop.common.errors import InvalidInput
    from onestop.store import reports as store

    now = now or clock(cfg)
    today = now.date()
    if first > today:
        raise InvalidInput(
            f"Kỳ báo cáo từ {first:%d/%m/%Y} chưa bắt đầu (hôm nay {today:%d/%m/%Y}): không có số liệu. Chọn kỳ "
            f"hiện tại hoặc một kỳ đã qua (vd. --period {today:%Y-%m}).",
            f"The period from {first:%Y-%m-%d} has not begun (today is {today:%Y-%m-%d}): there are no figures. "
            f"Pick the current period or a past one (e.g. --period {today:%Y-%m}).")
    lo, hi = first.isoformat(), (last + timedelta(days=1)).isoformat()
    cut_at = None
    overdue_before = hi  # ended period: overdue when due on or before its last day
    if last >= today:
        cut_at = iso(now)  # times are stored to the second: what happened at this second counts
        hi, overdue_before = iso(now + timedelta(seconds=1)), today.isoformat()
    names = store.procedure_names(db)
    procs: dict[str, dict] = {}

    def P(code):
        return procs.setdefault(code, {"procedure_code": code, "procedure_name": names.get(code, ""), "received": 0,
                                       "resolved": 0, "early": 0, "on_time": 0, "late": 0, "stopped": 0,
                                       "withdrawn": 0, "in_progress": 0, "in_progress_overdue": 0,
                                       "waiting_citizen": 0, "avg_working_days": None, "_wd": 0})

    carried = store.carried_over(db, lo)
    # received, by channel, and synced (acknowledged by the ministry's server)
    by_channel = {"1": 0, "2": 0, "3": 0}
    synced = 0
    for r in store.received_counts(db, lo, hi):
        ch, n = r["channel"], r["n"]
        by_channel[ch] = by_channel.get(ch, 0) + n
        synced += r["synced"]
        P(r["procedure_code"])["received"] += n
    received = sum(by_channel.values())
    # ended in the period
    ended = store.ended_counts(db, lo, hi)
    ords, _ = _ordinals_for(db, cfg, {r["received_day"] for r in ended} | {r["finished_day"] for r in ended}, first)
    f = defaultdict(int)
    for r in ended:
        st, cls, n = r["status"], r["timeliness"], r["n"]
        p = P(r["procedure_code"])
        if st in RESOLVED:
            f["resolved"] += n
            f[cls] += n
            f["digitized"] += n if r["digitized"] else 0
            f["results_synced"] += n if r["synced"] else 0
            p["resolved"] += n
            p[cls] += n
            p["_wd"] += n * (ords[r["finished_day"]] - ords[r["received_day"]])
        elif st == "8":
            f["stopped"] += n
            p["stopped"] += n
        elif st == "7":
            f["withdrawn"] += n
            p["withdrawn"] += n
        else:  # 3: refused after an online submission
            f["refused"] += n
    # Where the procedure requires an electronic result (`[results] electronic`), a resolved dossier
    # counts as digitized only once its result papers are scanned too (`scan --result`).
    from onestop.archive import results
    from onestop.store import results as result_store

    for r in result_store.resolved_without_result(db, lo, hi):
        if results.electronic_result_required(cfg, r["procedure_code"]):
            f["digitized"] -= r["n"]
    # not ended at the period end (open now, or ended after it): the status it had then, from the
    # event log; 2/4 are in progress (overdue when due on or before the last day), 5/6 wait on the citizen
    for r in store.not_ended_counts(db, hi, overdue_before=overdue_before):
        p, n = P(r["procedure_code"]), r["n"]
        if r["status"] in WAITING_CITIZEN:
            p["waiting_citizen"] += n
            f["waiting_citizen"] += n
            continue
        p["in_progress"] += n
        f["in_progress"] += n
        if r["overdue"]:
            p["in_progress_overdue"] += n
            f["in_progress_overdue"] += n
    resolved = f["resolved"]
    for p in procs.values():
        wd = p.pop("_wd")
        p["avg_working_days"] = round(wd / p["resolved"], 2) if p["resolved"] else None
    rate = lambda a, b: round(a / b, 4) if b else None  # noqa: E731
    return {
        "from": lo, "to": last.isoformat(), "cut_at": cut_at,
        "carried_over": carried,
        "received": received,
        "received_by_channel": by_channel,
        **online.figures(cfg, by_channel, received),
        "total": carried + received,
        "resolved": resolved, "early": f["early"], "on_time": f["on_time"], "late": f["late"],
        "on_time_rate": rate(f["early"] + f["on_time"], resolved),
        "stopped": f["stopped"], "withdrawn": f["withdrawn"], "refused": f["refused"],
        "in_progress": f["in_progress"],
        "in_progress_within_time": f["in_progress"] - f["in_progress_overdue"],
        "in_progress_overdue": f["in_progress_overdue"],
        "waiting_citizen": f["waiting_citizen"],
        "digitized": f["digitized"], "digitization_rate": rate(f["digitized"], resolved),
        "digitization_target": share_setting(cfg, "digitization_target", DIGITIZATION_TARGET),
        "synced": synced, "sync_rate": rate(synced, received),
        "results_synced": f["results_synced"], "results_sync_rate": rate(f["results_synced"], resolved),
        "results_sync_target": share_setting(cfg, "results_sync_target", RESULTS_SYNC_TARGET),
        **reuse.figures(db, cfg, lo, hi, received),
        "by_procedure": sorted(procs.values(), key=lambda p: p["procedure_code"]),
        "fees": fees.figures(db, cfg, lo, hi),  # issue 20: onestop/reports/fees.py
    }


REPORT_FIGURES = ["carried_over", "received", "online_rate", "online_target", "total", "resolved", "early",
                  "on_time", "late", "on_time_rate", "stopped", "withdrawn", "refused", "in_progress",
                  "in_progress_within_time", "in_progress_overdue", "waiting_citizen", "digitized",
                  "digitization_rate", "digitization_target", "synced", "sync_rate", "results_synced",
                  "results_sync_rate", "results_sync_target", *reuse.FIGURES]

FIGURE_LABELS = {
    "carried_over": ("Kỳ trước chuyển sang", "Carried over"),
    "received": ("Tiếp nhận trong kỳ", "Received in the period"),
    "total": ("Tổng số phải giải quyết", "Total to process"),
    "resolved": ("Đã giải quyết", "Resolved"),
    "early": ("  Trước hạn", "  Early"),
    "on_time": ("  Đúng hạn", "  On time"),
    "late": ("  Quá hạn", "  Late"),
    "on_time_rate": ("Tỷ lệ đúng hạn (trước + đúng hạn)", "On-time rate (early + on time)"),
    "stopped": ("Dừng xử lý", "Stopped"),
    "withdrawn": ("Công dân rút hồ sơ", "Withdrawn"),
    "refused": ("Không được tiếp nhận", "Refused"),
    "in_progress": ("Đang giải quyết cuối kỳ", "In progress at the period end"),
    "in_progress_within_time": ("  Trong hạn", "  Within time"),
    "in_progress_overdue": ("  Quá hạn", "  Overdue"),
    "waiting_citizen": ("Chờ bổ sung / nghĩa vụ tài chính cuối kỳ", "Waiting on the citizen at the end"),
    "digitized": ("Hồ sơ đã giải quyết có số hóa", "Resolved dossiers digitized"),
    "digitization_rate": ("Tỷ lệ số hóa", "Digitization rate"),
    "digitization_target": ("Mục tiêu số hóa", "Digitization target"),
    "synced": ("Đã đồng bộ lên Cổng DVCQG", "Synced to the national portal"),
    "sync_rate": ("Tỷ lệ đồng bộ", "Sync rate"),
    "results_synced": ("Hồ sơ đã giải quyết được đồng bộ đủ kết quả", "Resolved dossiers with the result synced"),
    "results_sync_rate": ("Tỷ lệ đồng bộ kết quả", "Result sync rate"),
    "results_sync_target": ("Mục tiêu đồng bộ kết quả", "Result sync target"),
    "cut_at": ("Kỳ chưa kết thúc: số liệu tính đến", "Period not ended: figures up to"),
    **reuse.LABELS,
    **online.LABELS,
}


def report_figures(r: dict) -> list[dict]:
    """The report as long rows ``figure, key, value`` (the CSV layout)."""
    rows = [{"figure": k, "key": "", "value": "" if r[k] is None else r[k]} for k in REPORT_FIGURES]
    rows[2:2] = [{"figure": "received_by_channel", "key": ch, "value": n} for ch, n in r["received_by_channel"].items()]
    if r.get("cut_at"):
        rows.insert(0, {"figure": "cut_at", "key": "", "value": r["cut_at"]})
    rows += fees.csv_rows(r["fees"]) if "fees" in r else []
    for p in r["by_procedure"]:
        rows += [{"figure": f"procedure_{k}", "key": p["procedure_code"], "value": "" if p[k] is None else p[k]}
                 for k in REPORT_PROCEDURE_COLUMNS[2:]]
    return rows


def fmt_value(key: str, v) -> str:
    if v is None:
        return "—"
    if key.endswith("_rate") or key.endswith("_target"):
        return f"{v * 100:.1f}%"
    return str(v)


# ---------------------------------------------------------------- personal data audit

def record_personal_access(db: Database, cfg: Config, command: str, detail: str = "") -> None:
    """Note that full ID and phone numbers were shown (``--show-personal``): who, when, what."""
    from onestop.store import transaction
    from onestop.intake.dossiers import iso, now, officer_name
    from onestop.store.access_log import record_access

    with transaction(db):
        record_access(db, iso(now(cfg)), officer_name(cfg), command, detail)


# ---------------------------------------------------------------- terminal rendering

def render_backlog(b: dict, c, *, list_rows: int = 20) -> None:
    """Rich tables and a bar chart by procedure on the console ``c``."""
    from rich.table import Table

    from onestop.reports.charts import rich_bars
    from onestop.common.dates import show_day
    from onestop.common.i18n import t
    from onestop.common.output import local_time

    tb = Table(title=t(f"Hồ sơ chưa kết thúc đến ngày {show_day(b['as_of'])}", f"Open dossiers as of {show_day(b['as_of'])}"))
    for h in (t("TT", "St."), t("Trạng thái", "Status"), t("Số hồ sơ", "Count"), t("Quá hạn", "Overdue"),
              t("Đến hạn hôm nay", "Due today"), t(f"Đến hạn trong {DUE_SOON_DAYS} ngày LV", f"Due within {DUE_SOON_DAYS} wd")):
        tb.add_column(h)
    for s in b["by_status"]:
        tb.add_row(s["status"], s["name"], *(str(s[k]) for k in ("count", "overdue", "due_today", "due_soon")))
    tb.add_row("", t("Tổng", "Total"), *(str(b[k]) for k in ("total", "overdue", "due_today", "due_soon")), style="bold")
    c.print(tb)
    if b["by_procedure"]:
        c.print(rich_bars([(p["procedure_code"], p["count"], p["overdue"]) for p in b["by_procedure"]],
                          t("Tồn đọng theo thủ tục (đỏ: quá hạn)", "Backlog by procedure (red: overdue)")))
    if b["overdue_list"]:
        to = Table(title=t("Hồ sơ quá hạn (cũ nhất trước)", "Overdue dossiers (oldest first)"))
        for h in (t("Mã hồ sơ", "Code"), t("Thủ tục", "Procedure"), t("Người nộp", "Applicant"), t("Số giấy tờ", "ID"),
                  t("Hẹn trả", "Due"), t("Trễ (ngày LV)", "Late (wd)"), t("TT", "St.")):
            to.add_column(h)
        for r in b["overdue_list"][:list_rows]:
            to.add_row(r["code"], r["procedure_code"], r["applicant_name"], r["id_number"], local_time(r["due_at"]),
                       str(r["days_late"]), r["status"])
        c.print(to)
        if len(b["overdue_list"]) > list_rows:
            c.print(t(f"… và {len(b['overdue_list']) - list_rows} hồ sơ khác (--json để xem tất cả).",
                      f"… and {len(b['overdue_list']) - list_rows} more (--json for all)."))
    if b.get("rescan"):
        c.print(t(f"Trang khó đọc cần quét lại: {len(b['rescan'])}", f"Hard-to-read pages to rescan: {len(b['rescan'])}"))
        for r in b["rescan"][:list_rows]:
            c.print(f"  {r['message']}")


def render_report(r: dict, c) -> None:
    from rich.table import Table

    from onestop.reports.charts import rich_bars
    from onestop.common.dates import show_day
    from onestop.common.i18n import t

    tb = Table(title=t(f"Báo cáo tình hình giải quyết TTHC từ {show_day(r['from'])} đến {show_day(r['to'])}",
                       f"Processing report {show_day(r['from'])} – {show_day(r['to'])}"))
    tb.add_column(t("Chỉ tiêu", "Figure"))
    tb.add_column(t("Giá trị", "Value"), justify="right")
    for key, label, value in report_lines(r):
        tb.add_row(label, value)
    c.print(tb)
    tp = Table(title=t("Theo thủ tục", "By procedure"))
    for i, h in enumerate(procedure_headers()):
        if i == 1:
            tp.add_column(h, max_width=24, no_wrap=True, overflow="ellipsis")
        else:
            tp.add_column(h, no_wrap=True, justify="left" if i == 0 else "right", min_width=8 if i == 0 else None)
    for p in r["by_procedure"]:
        tp.add_row(*(fmt_value(k, p[k]) for k in REPORT_PROCEDURE_COLUMNS))
    c.print(tp)
    if r["resolved"]:
        c.print(rich_bars([(t("Trước hạn", "Early"), r["early"], 0), (t("Đúng hạn", "On time"), r["on_time"], 0),
                           (t("Quá hạn", "Late"), r["late"], r["late"])], t("Đã giải quyết", "Resolved")))


def report_lines(r: dict) -> list[tuple[str, str, str]]:
    """(figure, label, formatted value) in the national layout's order."""
    from onestop.common.i18n import t

    out = []
    if r.get("cut_at"):  # a period not ended yet says so first, in every format built from these lines
        from onestop.common.output import local_time

        out.append(("cut_at", t(*FIGURE_LABELS["cut_at"]), local_time(r["cut_at"])))
    for k in REPORT_FIGURES:
        out.append((k, t(*FIGURE_LABELS[k]), fmt_value(k, r[k])))
        if k == "received":
            for ch, n in r["received_by_channel"].items():
                lbl = {"1": t("  Trực tiếp", "  At the counter"), "2": t("  Trực tuyến", "  Online"),
                       "3": t("  Bưu chính công ích", "  By post")}.get(ch, f"  {ch}")
                out.append((f"received_by_channel.{ch}", lbl, str(n)))
    return out + (fees.lines(r["fees"]) if "fees" in r else [])


def procedure_headers() -> list[str]:
    from onestop.common.i18n import t

    return [t("Mã TTHC", "Code"), t("Tên thủ tục", "Procedure"), t("Tiếp nhận", "Received"),
            t("Đã giải quyết", "Resolved"), t("Trước hạn", "Early"), t("Đúng hạn", "On time"), t("Quá hạn", "Late"),
            t("Dừng", "Stopped"), t("Rút", "Withdrawn"), t("Đang GQ", "In progress"), t("Đang GQ quá hạn", "Overdue"),
            t("Chờ công dân", "Waiting"), t("TB ngày LV", "Avg wd")]


# ---------------------------------------------------------------- HTML page

def html_value(key: str, row: dict, shown: str) -> str:
    """A figure as a Vietnamese reader writes it on paper: a decimal comma, no ".0" ("42,9%", "100%");
    counts and "—" unchanged."""
    v = row.get(key)
    if v is None or not (key.endswith("_rate") or key.endswith("_target")):
        return shown
    pct = round(v * 100, 1)
    return (f"{pct:.0f}" if pct == int(pct) else f"{pct:.1f}".replace(".", ",")) + "%"


def report_html(r: dict, cfg: Config, *, generated_at: str = "") -> str:
    """One self-contained page (inline CSS and SVG, no network) that prints on A4."""
    from html import escape

    from onestop.reports.charts import bar_svg, pie_svg
    from onestop.common.i18n import t

    from datetime import datetime

    from onestop import __version__
    from onestop.common.dates import show_day

    agency = escape(cfg.get("agency.name", ""))
    parent = escape(cfg.get("agency.parent", ""))
    # Sub-rows (the resolved ones early / on time / late, the ones in progress within time / overdue)
    # are indented, so the two "Quá hạn" rows read as parts of different figures.
    sub = ' class="sub"'
    rows = "".join(
        f'<tr data-figure="{escape(k)}"{sub if label.startswith(" ") else ""}>'
        f'<td>{escape(label.strip())}</td><td class="num">{escape(html_value(k, r, v))}</td></tr>'
        for k, label, v in report_lines(r))
    head = "".join(f"<th>{escape(h)}</th>" for h in procedure_headers())
    prow = "".join(
        f'<tr data-procedure="{escape(p["procedure_code"])}">'
        + "".join(f'<td class="{"num" if i >= 2 else ""}">{escape(html_value(k, p, fmt_value(k, p[k])))}</td>'
                  for i, k in enumerate(REPORT_PROCEDURE_COLUMNS)) + "</tr>"
        for p in r["by_procedure"])
    pie = pie_svg([(t("Trước hạn", "Early"), r["early"]), (t("Đúng hạn", "On time"), r["on_time"]),
                   (t("Quá hạn", "Late"), r["late"])], title=t("Kết quả giải quyết", "Resolved dossiers"),
                  colors=["#2e7d32", "#1565c0", "#c62828"], css_class="chart pie timeliness")
    bars = bar_svg([(p["procedure_code"], p["received"]) for p in r["by_procedure"] if p["received"]],
                   title=t("Tiếp nhận theo thủ tục", "Received by procedure"), css_class="chart bar received")
    prog = bar_svg([(p["procedure_code"], p["in_progress"]) for p in r["by_procedure"] if p["in_progress"]],
                   title=t("Đang giải quyết cuối kỳ (đỏ: quá hạn)", "In progress at the end (red: overdue)"),
                   color="#f9a825", css_class="chart bar in-progress",
                   highlight={p["procedure_code"]: p["in_progress_overdue"] for p in r["by_procedure"]})
    title = t(f"Báo cáo tình hình giải quyết thủ tục hành chính từ {show_day(r['from'])} đến {show_day(r['to'])}",
              f"Administrative procedure report {show_day(r['from'])} – {show_day(r['to'])}")
    made = (datetime.fromisoformat(generated_at).strftime("%H:%M %d/%m/%Y") if generated_at else "")
    footer = t(f"Các chỉ tiêu theo Quyết định 766/QĐ-TTg. Lập bởi onestop {__version__}"
               + (f" lúc {made}." if made else "."),
               f"Figures as defined by Decision 766/QĐ-TTg. Made by onestop {__version__}"
               + (f" at {made}." if made else "."))
    prog += fees.chart_svg(r["fees"]) if "fees" in r else ""
    return f"""<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>
@page {{ size: A4 portrait; margin: 15mm 12mm; }}
body {{ font-family: "DejaVu Sans", "Times New Roman", sans-serif; font-size: 11pt; color: #111; max-width: 190mm; margin: 0 auto; }}
header {{ display: flex; justify-content: space-between; font-size: 10pt; }}
header div {{ text-align: center; }}
h1 {{ font-size: 14pt; text-align: center; margin: 10mm 0 4mm; }}
table {{ border-collapse: collapse; width: 100%; margin: 3mm 0; page-break-inside: auto; }}
th, td {{ border: 1px solid #444; padding: 1.5mm 2mm; font-size: 9.5pt; }}
th {{ background: #eee; }}
tr {{ page-break-inside: avoid; }}
td.num {{ text-align: right; white-space: nowrap; }}
tr.sub td:first-child {{ padding-left: 8mm; }}
.charts svg {{ display: block; margin: 4mm auto; max-width: 100%; height: auto; page-break-inside: avoid; }}
footer {{ font-size: 8pt; color: #555; margin-top: 5mm; }}
</style></head>
<body>
<header><div>{parent}<br><b>{agency}</b></div>
<div><b>CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</b><br><u>Độc lập - Tự do - Hạnh phúc</u></div></header>
<h1>{escape(title)}</h1>
<table id="figures"><thead><tr><th>{escape(t("Chỉ tiêu", "Figure"))}</th><th>{escape(t("Giá trị", "Value"))}</th></tr></thead>
<tbody>{rows}</tbody></table>
<div class="charts">{pie}{bars}{prog}{reuse.chart_svg(r)}{online.chart_svg(r)}</div>
<h2 style="font-size:12pt">{escape(t("Theo thủ tục hành chính", "By procedure"))}</h2>
<table id="procedures"><thead><tr>{head}</tr></thead><tbody>{prow}</tbody></table>
<footer>{escape(footer)}</footer>
</body></html>
"""
