"""``onestop demo``: the counter's main job on sample data, in a fresh demo home.

Each step prints what an officer would see: receiving, today's list, scanning and searching, the
nightly sync, the backlog and the month's report. The steps call the library as the commands do.
"""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path

from onestop.common.i18n import t

REPO_SCANS = Path(__file__).resolve().parents[2] / "scans"  # the sample pages the scan step files

DEMO_APPLICANTS = [
    # name, id, phone, address (sample people; the IDs follow the CCCD layout but are made up)
    ("Nguyễn Văn An", "001085012345", "0912345678", "Số 12 phố Hàng Bạc, phường Hoàn Kiếm, Hà Nội"),
    ("Trần Thị Bích Ngọc", "033190004567", "0987654321", "Thôn Đông, xã Tân Dân, huyện Khoái Châu, Hưng Yên"),
    ("Công ty TNHH Công nghệ Ánh Dương", "0100233488", "02213567890", "Khu công nghiệp Phố Nối A, Văn Lâm, Hưng Yên"),
    ("Lê Đức Thắng", "079092003210", "0905111222", "45 Lý Tự Trọng, phường Bến Nghé, TP Hồ Chí Minh"),
]


def _say(msg: str) -> None:
    from onestop.common.output import console

    console(stderr=True).print(msg)


def run(home: Path, *, fresh: bool = True) -> dict:
    """Run the demo in ``home``; returns what it did (for tests)."""
    from onestop.intake import catalog, dossiers
    from onestop.common import config
    from onestop.store.sqlite import connect
    from onestop.common.output import emit_table

    home = home.resolve()
    if fresh and home.exists():
        shutil.rmtree(home)
    os.environ["ONESTOP_HOME"] = str(home)
    # Sample dossiers never go into an office database (they would take real codes of the day):
    # the demo always runs on its own SQLite file, and every step it calls sees that ("sqlite" wins
    # over a [database] url in the config).
    from onestop import store

    office_url = store.database_url(config.load())
    os.environ[store.ENV] = "sqlite"
    cfg = config.load(officer=os.environ.get("ONESTOP_OFFICER") or "Cán bộ Demo")
    db = connect(cfg.db_path)
    catalog.ensure_loaded(db, cfg.catalog_file)
    _say(t(f"[bold]onestop demo[/bold] — thư mục dữ liệu: {home}", f"[bold]onestop demo[/bold] — data home: {home}"))
    if office_url:
        from onestop.store.redact import redact_url

        _say(t(f"  Dữ liệu mẫu ghi vào tệp SQLite riêng của bản demo, không vào CSDL văn phòng {redact_url(office_url)}.",
               f"  Sample data goes to the demo's own SQLite file, not to the office database {redact_url(office_url)}."))
    procs = [p for p in catalog.search(db, "", limit=0)][:4]
    result: dict = {"home": str(home), "dossiers": []}
    # Today at 08:00, or now if the counter is already open; entered as paper received earlier today.
    current = dossiers.now(cfg)
    start = current.replace(hour=8, minute=0, second=0)
    if start > current:
        start = current - timedelta(minutes=30)
    _say(t("\n[bold]1. Tiếp nhận hồ sơ[/bold]", "\n[bold]1. Receiving dossiers[/bold]"))
    for i, (proc, (name, idn, phone, addr)) in enumerate(zip(procs, DEMO_APPLICANTS)):
        at = min(start + timedelta(minutes=7 * i), current)
        req = dossiers.ReceiveRequest(procedure_code=proc["code"], applicant=dossiers.Applicant(
            name=name, id_number=idn, phone=phone, address=addr), components=None, at=at,
            pages={n: 2 for n in range(1, 10)})
        r = dossiers.receive(db, cfg, req)
        result["dossiers"].append(r)
        _say(f"  {r['code']}  {proc['code']} {proc['name'][:60]}")
        _say(t(f"     hẹn trả {r['due_at'][:16].replace('T', ' ')} — {r['receipt']}",
               f"     due {r['due_at'][:16].replace('T', ' ')} — {r['receipt']}"))
    # An incomplete dossier: guidance form, no code.
    p0 = catalog.get(db, procs[0]["code"])
    inc = dossiers.receive(db, cfg, dossiers.ReceiveRequest(
        procedure_code=p0.code, applicant=dossiers.Applicant(name="Phạm Thị Hoa", id_number="036185009876"),
        components=[p0.components[0].n], at=min(start + timedelta(minutes=40), current)))
    result["incomplete"] = inc
    _say(t(f"  Hồ sơ thiếu giấy tờ → Phiếu hướng dẫn (Mẫu 02), không cấp mã: {inc['form']}",
           f"  Incomplete dossier → guidance form (Mẫu 02), no code: {inc['form']}"))
    # Move some dossiers along.
    codes_ = [d["code"] for d in result["dossiers"]]
    dossiers.move(db, cfg, codes_[0], "4", note="Chuyển phòng chuyên môn")
    dossiers.move(db, cfg, codes_[1], "5", missing=[{"name": "Bản sao Điều lệ", "reason": "chưa chứng thực"}])
    _say(t("\n[bold]2. Danh sách hồ sơ hôm nay[/bold]", "\n[bold]2. Today's dossiers[/bold]"))
    rows = dossiers.list_dossiers(db, cfg, day=start.date())
    emit_table(rows, dossiers.LIST_COLUMNS)
    for step in (_scan_step, _sync_step, _report_step):
        step(db, cfg, result)
    return result


def _scan_step(db, cfg, result: dict) -> None:
    """Scan the sample pages of ``scans/`` into the first dossiers, then search them."""
    from onestop.archive import ocr, search
    from onestop.archive.claims import inbox_dir
    from onestop.archive.scan import scan
    from onestop.common.errors import ScanRejected
    from onestop.store.sqlite import ensure_private_dir

    samples = sorted(p for p in REPO_SCANS.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    _say(t("\n[bold]3. Số hóa hồ sơ giấy (quét, xoay, chỉnh nghiêng, nhận dạng chữ)[/bold]",
           "\n[bold]3. Digitizing paper (scan, turn upright, deskew, OCR)[/bold]"))
    if not samples or not result.get("dossiers"):
        _say(t(f"  (không có trang mẫu trong {REPO_SCANS}, bỏ qua)", f"  (no sample pages in {REPO_SCANS}, skipped)"))
        return
    try:
        ocr.check_engine()
    except ScanRejected as e:
        _say("  " + e.message)
        return
    codes = [x["code"] for x in result["dossiers"]]
    box = ensure_private_dir(inbox_dir(cfg))
    for p in samples:
        shutil.copy2(p, box / p.name)
    plan = [(codes[0], 1, [box / samples[0].name, box / samples[1].name])]
    if len(samples) > 2 and len(codes) > 1:
        plan.append((codes[1], 1, [box / s.name for s in samples[2:]]))
    result["scans"] = []
    for code, comp, files in plan:
        r = scan(db, cfg, code, files, component=comp, confirm=lambda q: True)
        result["scans"].append(r)
        _say(f"  {code} / {comp}: {len(r['pages'])} " + t("trang", "pages") + f" → {r['pdf']}")
        for pg in r["pages"]:
            _say(t(f"     trang {pg['n']}: xoay {pg['rotated']}°, chỉnh nghiêng {pg['deskew']}°, "
                   f"{pg['dpi']} dpi, độ tin cậy {pg['confidence']}",
                   f"     page {pg['n']}: turned {pg['rotated']}°, deskewed {pg['deskew']}°, {pg['dpi']} dpi, "
                   f"confidence {pg['confidence']}"))
    query = "dang ky hoat dong"
    hits = search.search(db, query, limit=5)
    result["search"] = hits
    _say(t(f"\n  Tìm kiếm '{query}' (không dấu): {len(hits)} kết quả", f"\n  Search '{query}': {len(hits)} hits"))
    for h in hits:
        _say(f"    {h['code']}  TP{h.get('component') or '-'} tr.{h.get('page') or '-'}: {h['snippet']}")


def _sync_step(db, cfg, result: dict) -> None:
    """Sync the demo home to its spool folder and show the summary."""
    from onestop.sync import run_sync, summary_lines

    _say(t("\n[bold]Đồng bộ về hệ thống của Bộ[/bold] (chưa cấu hình địa chỉ: ghi vào thư mục spool)",
           "\n[bold]Sync to the ministry system[/bold] (no address configured: writing to the spool folder)"))
    res = run_sync(cfg, db, spool=cfg.get("sync.spool", "") or cfg.home / "spool")
    for line in summary_lines(res):
        _say("  " + line)
    _say(t(f"  Mang thư mục {res.target} sang máy có mạng rồi chạy: onestop sync --from-spool {res.target}; "
           f"mang về rồi chạy: onestop sync acks {res.target}",
           f"  Carry {res.target} to a connected machine and run: onestop sync --from-spool {res.target}; "
           f"bring it back and run: onestop sync acks {res.target}"))
    result["sync"] = {"target": res.target, **res.stats, "exit_code": res.exit_code}


def _report_step(db, cfg, result: dict) -> None:
    """The last step: today's backlog and this month's report of the demo data."""
    from onestop.common.output import console
    from onestop.intake.dossiers import now
    from onestop.reports.figures import backlog, parse_period, period_report, render_backlog, render_report

    today = now(cfg).date()
    c = console(stderr=True)
    c.print(t("\n[bold]Tồn đọng hôm nay (onestop backlog)[/bold]", "\n[bold]Today's backlog (onestop backlog)[/bold]"))
    b = backlog(db, cfg, today)
    render_backlog(b, c)
    c.print(t(f"\n[bold]Báo cáo tháng {today:%m/%Y} (onestop report --period {today:%Y-%m})[/bold]",
              f"\n[bold]Report for {today:%Y-%m} (onestop report --period {today:%Y-%m})[/bold]"))
    first, last = parse_period(f"{today:%Y-%m}", None, None)
    r = period_report(db, cfg, first, last)
    render_report(r, c)
    result["backlog"] = b
    result["report"] = r
