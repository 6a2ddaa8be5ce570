"""The exact records of the ministry contract (docs/sync.md), built from the database.

``DongBoHoSoMC`` items from dossiers, ``CapNhatTienDoHoSoMC`` items from events. Dates are
``yyyyMMddHHmmss`` in Vietnam time, every code a string, unknown optional fields ``""``.
Built in bulk (one query per table per batch) so a large backlog costs little per dossier.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

SPOOL_URL = "spool:sha256:"  # placeholder for DuongDan/IdTepTin until --from-spool uploads the file

STEP_TITLE = "Cán bộ Bộ phận Tiếp nhận và Trả kết quả"


@lru_cache(maxsize=4)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def vn_time(value: str | None, tzname: str = "Asia/Ho_Chi_Minh") -> str:
    """An ISO timestamp of the database as ``yyyyMMddHHmmss`` in Vietnam time ("" for none)."""
    if not value:
        return ""
    if len(value) == 25 and value.endswith("+07:00") and tzname == "Asia/Ho_Chi_Minh":
        # stored already in Vietnam time (no DST since 1975): just the digits
        return value[0:4] + value[5:7] + value[8:10] + value[11:13] + value[14:16] + value[17:19]
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=_zone(tzname))
    return dt.astimezone(_zone(tzname)).strftime("%Y%m%d%H%M%S")


def s(value) -> str:
    """Every code and number of the contract is a string; None is ""."""
    return "" if value is None else str(value)


def files_table(db) -> str | None:
    """The archive's table of stored PDFs ("archive_files"; "files" in early drafts), if any."""
    names = {n for (n,) in db.conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('archive_files', 'files')")}
    return "archive_files" if "archive_files" in names else "files" if "files" in names else None


def has_files_table(db) -> bool:
    return files_table(db) is not None


def _current_clause(db, table: str, alias: str = "") -> str:
    cols = {r[1] for r in db.conn.execute(f"PRAGMA table_info({table})")}
    return f" AND {alias}state = 'current'" if "state" in cols else ""


def _fee_kind(name: str) -> str:
    n = (name or "").strip().lower()
    return "2" if n.startswith("lệ phí") else "1" if n.startswith("phí") else ""


def _placeholders(ids) -> str:
    return ",".join("?" * len(ids))


def dossier_records(db, cfg, dossier_ids: list[int]) -> dict[int, dict]:
    """``DongBoHoSoMC`` items for ``dossier_ids`` (current state), keyed by dossier id."""
    if not dossier_ids:
        return {}
    tzname = cfg.timezone
    ids = list(dict.fromkeys(dossier_ids))
    ph = _placeholders(ids)
    conn = db.conn
    cols = ("id, code, procedure_code, procedure_name, field_code, field_name, channel, applicant_type, "
            "applicant_name, id_type, id_number, phone, email, summary, status, received_at, due_at, "
            "delivery, fees, book_no, unit, finished_at, returned_at")
    rows = conn.execute(f"SELECT {cols} FROM dossiers WHERE id IN ({ph})", ids).fetchall()
    comps: dict[int, list] = {}
    for r in conn.execute(
            f"SELECT dossier_id, n, code, name, received, digitized FROM dossier_components "
            f"WHERE dossier_id IN ({ph}) ORDER BY dossier_id, n", ids):
        comps.setdefault(r[0], []).append(r)
    files: dict[tuple[int, int], list] = {}
    table = files_table(db)
    if table:
        for r in conn.execute(
                f"SELECT f.dossier_id, f.component_n, f.path, sf.remote_id, sf.url FROM {table} f "
                f"JOIN sync_files sf ON sf.file_id = f.id WHERE f.dossier_id IN ({ph})"
                f"{_current_clause(db, table, 'f.')} ORDER BY f.id", ids):
            files.setdefault((r[0], r[1]), []).append(r)
    extra: dict[int, list] = {}
    for r in conn.execute(
            f"SELECT dossier_id, id, at, officer, note, status_from, status_to, data FROM events "
            f"WHERE dossier_id IN ({ph}) AND (status_to = '5' OR status_from = '5') ORDER BY dossier_id, id", ids):
        extra.setdefault(r[0], []).append(r)
    agency = cfg.get("agency.name", "") or ""
    result_papers = result_records(db, ids)
    out = {}
    for (did, code, pcode, pname, fcode, fname, channel, atype, name, id_type, id_number, phone, email,
         summary, status, received, due, delivery, fees, book_no, unit, finished, returned) in rows:
        # TaiLieuNop lists files: only components with an uploaded scan. A component still on paper
        # is left out (a strict portal refuses an item without a file); its scan, once uploaded,
        # queues an update that adds it (outbox.py).
        docs = []
        for _, n, ccode, cname, received_c, digitized in comps.get(did, []):
            for _, _, path, remote_id, url in files.get((did, n), []):
                if not remote_id or not url:
                    continue
                docs.append({"TepDinhKemId": s(remote_id), "TenTepDinhKem": s(cname), "DuongDanTaiTepTin": s(url),
                             "DuocSoHoa": "1", "IsDeleted": "False", "MaThanhPhanHoSo": s(ccode),
                             "DuocTaiSuDung": "1" if digitized in (2, 3) else "0", "DuocLayTuKhoDMQG": "0",
                             "MaKetQuaThayThe": ""})
        fee_items = [{"TenPhiLePhi": s(f.get("name")), "MaPhiLePhi": s(f.get("code")), "HinhThucThu": "",
                      "Gia": s(f.get("amount")), "LoaiPhiLePhi": _fee_kind(f.get("name", ""))}
                     for f in json.loads(fees or "[]")]
        ident = []
        if id_type in ("cccd", "cmnd") and id_number:
            ident = [{"LoaiDinhDanh": "1" if id_type == "cccd" else "2", "SoDinhDanh": s(id_number)}]
        out[did] = {
            "MaHoSo": code, "MaTTHC": s(pcode), "TenTTHC": s(pname), "MaLinhVuc": s(fcode),
            "TenLinhVuc": s(fname), "KenhThucHien": s(channel), "ChuHoSo": s(name),
            "LoaiDoiTuong": s(atype), "MaDoiTuong": "", "ThongTinKhac": "", "Email": s(email), "Fax": "",
            "SoDienThoai": s(phone), "TrichYeuHoSo": s(summary), "NgayTiepNhan": vn_time(received, tzname),
            "NgayHenTra": vn_time(due, tzname), "TrangThaiHoSo": s(status), "NgayTra": vn_time(returned, tzname),
            "ThongTinTra": "", "HinhThuc": s(delivery), "NgayKetThucXuLy": vn_time(finished, tzname),
            "DonViXuLy": s(agency or unit), "GhiChu": "", "TaiLieuNop": docs, "NoiNopHoSo": "",
            "SoBienNhan": s(book_no), "SoGiayToChuHoSo": s(id_number), "DinhDanhCHS": ident,
            "NgayNopHoSo": vn_time(received, tzname), "NgayTuChoi": vn_time(finished, tzname) if status == "3" else "",
            "HoSoCoThanhPhanSoHoa": "1" if docs else "0",  # follows TaiLieuNop: a digitized file is listed "TaiKhoanDuocXacThucVoiVNeID": "",
            "DuocThanhToanTrucTuyen": "", "DanhSachLePhi": fee_items, "DanhSachTepDinhKemKhac": [],
            "DanhSachHoSoBoSung": _supplements(extra.get(did, []), tzname), "DanhSachGiayToKetQua": result_papers.get(did, []),
            "DSKetNoiCSDL": [],
        }
    return out


def result_records(db, dossier_ids: list[int]) -> dict[int, list[dict]]:
    """``DanhSachGiayToKetQua`` items (the result papers scanned with ``scan --result``), keyed by
    dossier id: only files the server holds (uploaded), like ``TaiLieuNop``."""
    from onestop.store import results as store

    if not files_table(db):
        return {}
    out: dict[int, list[dict]] = {}
    for r in store.uploaded_results(db, dossier_ids):
        if not r["remote_id"] or not r["url"] or str(r["url"]).startswith(SPOOL_URL):
            continue
        out.setdefault(r["dossier_id"], []).append({
            "TenGiayTo": s(r["result_name"]), "MaThanhPhanHoSo": s(r["result_code"]), "GiayToId": s(r["remote_id"]),
            "DuongDanTepTinKetQua": s(r["url"]), "MaGiayToKetQua": s(r["result_code"])})
    return out


def _supplements(events: list, tzname: str) -> list[dict]:
    """Requests for more papers (status 5) and their answers (5 → another status)."""
    items: list[dict] = []
    for _, eid, at, officer, note, st_from, st_to, data in events:
        d = json.loads(data or "{}")
        if st_to == "5":
            items.append({"HoSoBoSungId": s(eid), "NguoiYeuCauBoSung": s(officer), "NoiDungBoSung": s(note),
                          "NgayBoSung": vn_time(at, tzname), "NguoiTiepNhanBoSung": "", "ThongTinTiepNhan": "",
                          "NgayTiepNhanBoSung": "", "TrangThaiBoSung": "0", "NgayHenTraTruoc": "",
                          "NgayHenTraMoi": ""})
        elif st_from == "5" and items:
            items[-1].update({"NguoiTiepNhanBoSung": s(officer), "ThongTinTiepNhan": s(note),
                              "NgayTiepNhanBoSung": vn_time(at, tzname), "TrangThaiBoSung": "1",
                              "NgayHenTraTruoc": vn_time(d.get("previous_due_at"), tzname),
                              "NgayHenTraMoi": vn_time(d.get("new_due_at"), tzname)})
    return items


def step_records(db, cfg, event_ids: list[int]) -> dict[int, dict]:
    """``CapNhatTienDoHoSoMC`` items for ``event_ids``, keyed by event id."""
    if not event_ids:
        return {}
    tzname = cfg.timezone
    ids = list(dict.fromkeys(event_ids))
    out = {}
    for eid, code, at, officer, unit, note, st_to, data, due in db.conn.execute(
            f"SELECT e.id, d.code, e.at, e.officer, e.unit, e.note, e.status_to, e.data, d.due_at "
            f"FROM events e JOIN dossiers d ON d.id = e.dossier_id WHERE e.id IN ({_placeholders(ids)})", ids):
        new_due = json.loads(data or "{}").get("new_due_at") if data and data != "{}" else None
        out[eid] = {
            "MaHoSo": code, "NguoiXuLy": s(officer), "ChucDanh": STEP_TITLE, "ThoiDiemXuLy": vn_time(at, tzname),
            "PhongBanXuLy": s(unit), "NoiDungXuLy": s(note), "TrangThai": s(st_to),
            "NgayBatDau": vn_time(at, tzname), "NgayKetThucTheoQuyDinh": vn_time(new_due or due, tzname),
        }
    return out


def step_key(rec: dict) -> tuple:
    """What identifies a progress line on the server (used after a lost answer)."""
    return (rec.get("MaHoSo"), rec.get("ThoiDiemXuLy"), s(rec.get("TrangThai")), rec.get("NoiDungXuLy"))
