"""The portal side of tests/ministry_server.py: online dossiers (channel 2), strictly.

Same base URL, login and session as the nightly sync. ``LayDanhSachHoSo`` lists the dossiers still
waiting (neither taken nor refused), ``LayChiTietHoSo`` answers their records, ``GET
{base}/portal-files/<id>`` serves a file, ``CapNhatDaNhanHoSo`` takes one, ``TuChoiTiepNhanHoSo``
refuses one. Strict like the real portal, and every refusal is counted in ``violations``:
- a take before every file of the dossier was downloaded;
- a second take under another code (the same code again is answered 0: idempotent);
- a take after a refusal, a refusal after a take;
- a ``DongBoHoSoMC`` with ``KenhThucHien`` "2" whose code was never taken;
- a portal file uploaded again (the record must point to the portal's own file).
Faults: ``corrupt`` (file ids served with other bytes), ``missing`` (404).
"""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime

SERVICES = ("LayDanhSachHoSo", "LayChiTietHoSo", "CapNhatDaNhanHoSo", "TuChoiTiepNhanHoSo")


class Portal:
    def __init__(self):
        self.lock = threading.Lock()
        self.dossiers: dict[str, dict] = {}
        self.files: dict[str, bytes] = {}      # TepDinhKemId -> bytes
        self.downloads: dict[str, int] = {}    # TepDinhKemId -> times downloaded
        self.corrupt: set[str] = set()
        self.missing: set[str] = set()
        self.violations: list[str] = []
        self.takes = 0
        self.base = ""                         # set by the server: {base}/portal-files/<id>

    # -- seeding

    def add(self, dvc: str, procedure: str = "1.005082", *, name: str = "Nguyễn Văn An", id_number: str = "001085012345",
            phone: str = "0912345678", submitted: datetime | None = None,
            files: list[tuple[str, str, bytes]] = (), fees: list[dict] | None = None, paid: bool = False,
            drop: tuple[str, ...] = (), **extra) -> dict:
        """An online dossier waiting on the portal; ``files`` as (name, MaThanhPhanHoSo, bytes);
        ``drop`` leaves required fields out of the record."""
        submitted = submitted or datetime(2026, 12, 1, 9, 30)
        docs = []
        for i, (fname, comp, data) in enumerate(files, 1):
            fid = f"{dvc}-F{i}"
            self.files[fid] = data
            docs.append({"TepDinhKemId": fid, "TenTepDinhKem": fname, "MaThanhPhanHoSo": comp,
                         "DuongDanTaiTepTin": f"{self.base}/portal-files/{fid}",
                         "sha256": hashlib.sha256(data).hexdigest(), "KichThuoc": len(data)})
        rec = {"MaHoSoDVC": dvc, "MaTTHC": procedure, "TenTTHC": f"Thủ tục {procedure}", "ChuHoSo": name,
               "LoaiDoiTuong": "1", "SoGiayToChuHoSo": id_number,
               "DinhDanhCHS": [{"LoaiDinhDanh": "1", "SoDinhDanh": id_number}], "SoDienThoai": phone,
               "Email": "", "DiaChiChuHoSo": "Số 1 Tràng Tiền, Hoàn Kiếm, Hà Nội", "TrichYeuHoSo": "",
               "NgayNopHoSo": submitted.strftime("%Y%m%d%H%M%S"), "TaiKhoanDuocXacThucVoiVNeID": "1",
               "DuocThanhToanTrucTuyen": "1" if paid else "0", "DanhSachLePhi": fees or [], "TaiLieuNop": docs}
        rec.update(extra)
        for k in drop:
            rec.pop(k, None)
        with self.lock:
            self.dossiers[dvc] = {"record": rec, "state": "waiting", "code": None, "reason": ""}
        return rec

    # -- what a test reads

    def taken(self) -> dict[str, str]:
        return {k: d["code"] for k, d in self.dossiers.items() if d["state"] == "taken"}

    def refused(self) -> dict[str, str]:
        return {k: d["reason"] for k, d in self.dossiers.items() if d["state"] == "refused"}

    def file_pairs(self) -> set[tuple[str, str]]:
        return {(d["TepDinhKemId"], d["DuongDanTaiTepTin"]) for x in self.dossiers.values()
                for d in x["record"].get("TaiLieuNop", [])}

    def shas(self) -> set[str]:
        return {hashlib.sha256(b).hexdigest() for b in self.files.values()}

    def _violate(self, message: str) -> dict:
        self.violations.append(message)
        return {"error_code": 1, "message": message}

    # -- the HTTP side (called by tests/ministry_server.py with the portal's lock free)

    def get_file(self, fid: str) -> bytes | None:
        with self.lock:
            if fid in self.missing or fid not in self.files:
                return None
            self.downloads[fid] = self.downloads.get(fid, 0) + 1
            data = self.files[fid]
            return data[:-1] + bytes([data[-1] ^ 1]) if fid in self.corrupt else data

    def service(self, name: str, data: list) -> dict:
        with self.lock:
            if name == "LayDanhSachHoSo":
                keys = ("MaHoSoDVC", "MaTTHC", "TenTTHC", "ChuHoSo", "NgayNopHoSo")
                return {"error_code": 0, "result": [{k: d["record"].get(k, "") for k in keys}
                                                    for d in self.dossiers.values() if d["state"] == "waiting"]}
            if name == "LayChiTietHoSo":
                return {"error_code": 0, "result": [self.dossiers[it.get("MaHoSoDVC")]["record"]
                                                    for it in data if it.get("MaHoSoDVC") in self.dossiers]}
            results = [self._take(it) if name == "CapNhatDaNhanHoSo" else self._refuse(it) for it in data]
            bad = any(r["error_code"] for r in results)
            return {"error_code": 0, "results": results} if bad else {"error_code": 0, "message": "Thành công",
                                                                      "results": results}

    def _take(self, it: dict) -> dict:
        dvc, code = it.get("MaHoSoDVC"), it.get("MaHoSo")
        d = self.dossiers.get(dvc)
        base = {"MaHoSoDVC": dvc}
        if d is None:
            return dict(base, error_code=4, message=f"Hồ sơ {dvc} không tồn tại")
        if not code or not all(isinstance(it.get(k), str) and it.get(k) for k in ("NgayTiepNhan", "NgayHenTra")):
            return dict(base, **self._violate(f"{dvc}: thiếu MaHoSo/NgayTiepNhan/NgayHenTra"))
        if d["state"] == "refused":
            return dict(base, **self._violate(f"{dvc}: đã bị từ chối, không tiếp nhận được"))
        if d["state"] == "taken":
            if d["code"] == code:
                return dict(base, error_code=0, message="Thành công")
            return dict(base, **self._violate(f"{dvc}: đã được tiếp nhận với mã {d['code']}, không phải {code}"))
        undownloaded = [f["TepDinhKemId"] for f in d["record"].get("TaiLieuNop", [])
                        if not self.downloads.get(f["TepDinhKemId"])]
        if undownloaded:
            return dict(base, **self._violate(f"{dvc}: tiếp nhận trước khi tải tệp {', '.join(undownloaded)}"))
        d.update(state="taken", code=code, take=dict(it))
        self.takes += 1
        return dict(base, error_code=0, message="Thành công")

    def _refuse(self, it: dict) -> dict:
        dvc = it.get("MaHoSoDVC")
        d = self.dossiers.get(dvc)
        base = {"MaHoSoDVC": dvc}
        if d is None:
            return dict(base, error_code=4, message=f"Hồ sơ {dvc} không tồn tại")
        if d["state"] == "taken":
            return dict(base, **self._violate(f"{dvc}: đã được tiếp nhận, không từ chối được"))
        if not it.get("LyDoTuChoi"):
            return dict(base, **self._violate(f"{dvc}: thiếu lý do từ chối"))
        d.update(state="refused", reason=it["LyDoTuChoi"])
        return dict(base, error_code=0, message="Thành công")

    def check_record(self, it: dict) -> str:
        """A ``DongBoHoSoMC`` item of channel 2: its code must be one the portal saw taken."""
        if it.get("KenhThucHien") != "2":
            return ""
        with self.lock:
            if it.get("MaHoSo") not in {d["code"] for d in self.dossiers.values() if d["state"] == "taken"}:
                return self._violate(f"Hồ sơ trực tuyến {it.get('MaHoSo')} chưa được tiếp nhận (CapNhatDaNhanHoSo)")["message"]
        return ""

    def check_upload(self, sha: str) -> None:
        with self.lock:
            if sha in self.shas():
                self._violate(f"tệp {sha[:12]} của cổng được tải lên lần nữa")
