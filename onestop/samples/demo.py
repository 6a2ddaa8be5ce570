"""``onestop demo``: the counter's main job on sample data, in a fresh demo home.

Each step prints what an officer would see; later features (scans, sync, backlog) add steps.
"""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path

from onestop.common.i18n import t

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
    for step in _extra_steps():
        step(db, cfg, result)
    return result


def _extra_steps():
    """Steps contributed by the scanning, sync and reporting features, when present."""
    steps = []
    for mod, fn in (("onestop.archive.scanning", "demo_step"), ("onestop.sync", "demo_step"), ("onestop.reports.figures", "demo_step")):
        try:
            m = __import__(mod, fromlist=[fn])
        except ModuleNotFoundError:
            continue
        if hasattr(m, fn):
            steps.append(getattr(m, fn))
    return steps
