"""The exact records of the ministry contract (docs/sync.md), built from the database's rows
(read by onestop/store/payload_data.py).

``DongBoHoSoMC`` items from dossiers, ``CapNhatTienDoHoSoMC`` items from events. Dates are
``yyyyMMddHHmmss`` in Vietnam time, every code a string, unknown optional fields ``""``.
Read in bulk (one query per table per batch) so a large backlog costs little per dossier.
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
    from onestop.store.payload_data import files_table as table

    return table(db)


def has_files_table(db) -> bool:
    return files_table(db) is not None


def _fee_kind(name: str) -> str:
    n = (name or "").strip().lower()
    return "2" if n.startswith("lệ phí") else "1" if n.startswith("phí") else ""


def dossier_records(db, cfg, dossier_ids: list[int]) -> dict[int, dict]:
    """``DongBoHoSoMC`` items for ``dossier_ids`` (current state), keyed by dossier id."""
    if not dossier_ids:
        return {}
    from onestop.store import payload_data as data

    tzname = cfg.timezone
    ids = list(dict.fromkeys(dossier_ids))
    rows = data.dossier_rows(db, ids)
    comps: dict[int, list] = {}
    for r in data.component_rows(db, ids):
        comps.setdefault(r["dossier_id"], []).append(r)
    files: dict[tuple[int, int], list] = {}
    table = data.files_table(db)
    if table:
        for r in data.uploaded_files(db, table, ids, current_only=data.has_state_column(db, table)):
            files.setdefault((r["dossier_id"], r["component_n"]), []).append(r)
    extra: dict[int, list] = {}
    for r in data.supplement_events(db, ids):
        extra.setdefault(r["dossier_id"], []).append(r)
    agency = cfg.get("agency.name", "") or ""
    payment_codes = cfg.get("sync.payment_codes", {}) or {}  # HinhThucThu: no code list in the contract
    result_papers = result_records(db, ids)
    from onestop.domain import fees as fee_rules
    from onestop.store import fees as fee_store

    fee_dues, fee_lines = fee_store.dues_of(db, ids), fee_store.entries_of(db, ids)  # issue 20: the fee ledger
    reused: dict[tuple[int, int], list] = {}  # papers already digitized: the earlier upload (issue 21)
    if table:
        from onestop.store.reuse import reused_uploads

        for r in reused_uploads(db, ids):
            reused.setdefault((r["dossier_id"], r["n"]), []).append(r)
    from onestop.store.online import by_dossier

    online = by_dossier(db, ids)  # channel 2: the portal's submission time (sync/online.py)
    out = {}
    for d in rows:
        did, status, id_type, id_number = d["id"], d["status"], d["id_type"], d["id_number"]
        received, finished = d["received_at"], d["finished_at"]
        # TaiLieuNop lists files: only components with an uploaded scan. A component still on paper
        # is left out (a strict portal refuses an item without a file); its scan, once uploaded,
        # queues an update that adds it (outbox.py).
        docs = []
        for c in comps.get(did, []):
            for f in files.get((did, c["n"]), []):
                remote_id, url = f["remote_id"], f["url"]
                if not remote_id or not url:
                    continue
                docs.append({"TepDinhKemId": s(remote_id), "TenTepDinhKem": s(c["name"]), "DuongDanTaiTepTin": s(url),
                             "DuocSoHoa": "1", "IsDeleted": "False", "MaThanhPhanHoSo": s(c["code"]),
                             "DuocTaiSuDung": "1" if c["digitized"] in (2, 3) else "0", "DuocLayTuKhoDMQG": "0",
                             "MaKetQuaThayThe": ""})
            for f in reused.get((did, c["n"]), []) if c["digitized"] in (2, 3) else ():  # not once rescanned
                if f["remote_id"] and f["url"]:
                    docs.append({"TepDinhKemId": s(f["remote_id"]), "TenTepDinhKem": s(c["name"]),
                                 "DuongDanTaiTepTin": s(f["url"]), "DuocSoHoa": "1", "IsDeleted": "False",
                                 "MaThanhPhanHoSo": s(c["code"]), "DuocTaiSuDung": s(f["kind"]),
                                 "DuocLayTuKhoDMQG": "0", "MaKetQuaThayThe": s(f["result_code"])})
        if did in fee_dues:
            fee_items = fee_rules.ministry_items(fee_dues[did], fee_lines.get(did, []), payment_codes)
            paid_online = fee_rules.online_flag(fee_lines.get(did, []))
        else:  # received before the ledger: the fees as copied then, in whole đồng
            fee_items = [{"TenPhiLePhi": s(f.get("name")), "MaPhiLePhi": s(f.get("code")), "HinhThucThu": "",
                          "Gia": s(fee_rules.parse_amount(f.get("amount")) or 0), "LoaiPhiLePhi": _fee_kind(f.get("name", ""))}
                         for f in json.loads(d["fees"] or "[]")]
            paid_online = ""
        ident = []
        if id_type in ("cccd", "cmnd") and id_number:
            ident = [{"LoaiDinhDanh": "1" if id_type == "cccd" else "2", "SoDinhDanh": s(id_number)}]
        out[did] = {
            "MaHoSo": d["code"], "MaTTHC": s(d["procedure_code"]), "TenTTHC": s(d["procedure_name"]),
            "MaLinhVuc": s(d["field_code"]), "TenLinhVuc": s(d["field_name"]), "KenhThucHien": s(d["channel"]),
            "ChuHoSo": s(d["applicant_name"]), "LoaiDoiTuong": s(d["applicant_type"]), "MaDoiTuong": "",
            "ThongTinKhac": "", "Email": s(d["email"]), "Fax": "",
            "SoDienThoai": s(d["phone"]), "TrichYeuHoSo": s(d["summary"]), "NgayTiepNhan": vn_time(received, tzname),
            "NgayHenTra": vn_time(d["due_at"], tzname), "TrangThaiHoSo": s(status),
            "NgayTra": vn_time(d["returned_at"], tzname),
            "ThongTinTra": "", "HinhThuc": s(d["delivery"]), "NgayKetThucXuLy": vn_time(finished, tzname),
            "DonViXuLy": s(agency or d["unit"]), "GhiChu": "", "TaiLieuNop": docs, "NoiNopHoSo": "",
            "SoBienNhan": s(d["book_no"]), "SoGiayToChuHoSo": s(id_number), "DinhDanhCHS": ident,
            "NgayNopHoSo": vn_time(online[did]["submitted_at"] if did in online else received, tzname), "NgayTuChoi": vn_time(finished, tzname) if status == "3" else "",
            "HoSoCoThanhPhanSoHoa": "1" if docs else "0",  # follows TaiLieuNop: a digitized file is listed
            "TaiKhoanDuocXacThucVoiVNeID": "",
            "DuocThanhToanTrucTuyen": paid_online, "DanhSachLePhi": fee_items, "DanhSachTepDinhKemKhac": [],
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
    for e in events:
        eid, at, officer, note, st_from, st_to = e["id"], e["at"], e["officer"], e["note"], e["status_from"], e["status_to"]
        d = json.loads(e["data"] or "{}")
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
    from onestop.store.payload_data import step_rows

    tzname = cfg.timezone
    out = {}
    for r in step_rows(db, list(dict.fromkeys(event_ids))):
        eid, code, at, officer, unit, note = r["id"], r["code"], r["at"], r["officer"], r["unit"], r["note"]
        st_to, data, due = r["status_to"], r["data"], r["due_at"]
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
