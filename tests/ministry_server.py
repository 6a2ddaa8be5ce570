"""A real HTTP server on 127.0.0.1 implementing the ministry contract (docs/sync.md), for tests.

Strict like a real portal: a ``TaiLieuNop`` item must point to a file uploaded before (its
``TepDinhKemId`` and ``DuongDanTaiTepTin`` are what the upload answered), else the whole dossier
is refused; ``TraCuuHoSo`` answers the applicant, procedure and receipt time it holds.
It stores what it receives (dossiers, progress lines, files by SHA-256) and misbehaves on
command: ``server.fault("500" | "drop" | "timeout" | "slow" | "expire", times=1, service=None)``,
``server.reject[code] = message`` (one item refused), dossiers seeded beforehand answer a create
with "đã tồn tại", ``hold()``/``release()`` keep requests waiting. Run in a thread
(``with MinistryServer() as srv``) or as a process (``python tests/ministry_server.py --port 0 [--light]``,
prints ``PORT <n>``; ``GET /_stats``).
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import sys
import threading
import time
import uuid
from collections import Counter
from email.parser import BytesParser
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from portal import SERVICES as PORTAL_SERVICES, Portal

DATE = re.compile(r"^\d{14}$")
DATE_FIELDS = ("NgayTiepNhan", "NgayHenTra")
OPTIONAL_DATES = ("NgayNopHoSo", "NgayTra", "NgayKetThucXuLy", "NgayTuChoi")
REQUIRED = ("MaHoSo", "MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "KenhThucHien", "ChuHoSo", "LoaiDoiTuong",
            "TrichYeuHoSo", "NgayTiepNhan", "NgayHenTra", "TrangThaiHoSo", "DonViXuLy", "TaiLieuNop")
STEP_FIELDS = ("MaHoSo", "NguoiXuLy", "ChucDanh", "ThoiDiemXuLy", "PhongBanXuLy", "NoiDungXuLy", "TrangThai",
               "NgayBatDau", "NgayKetThucTheoQuyDinh")


class State:
    def __init__(self, light: bool = False):
        self.lock = threading.Lock()
        self.light = light
        self.users = {"canbo": "mat-khau-thu"}
        self.sessions: set[str] = set()
        self.dossiers: dict[str, dict] = {}
        self.creates: Counter = Counter()
        self.updates: Counter = Counter()
        self.steps: dict[str, list] = {}
        self.n_steps = 0
        self.files: dict[str, dict] = {}
        self.uploads: Counter = Counter()
        self.faults: list[dict] = []
        self.reject: dict[str, str] = {}
        self.reject_steps: dict[str, str] = {}
        self.headers_seen: list[dict] = []
        self.madonvi: Counter = Counter()  # the agency code of every service call and upload
        self.logins = 0
        self.requests = Counter()
        self.passwords_seen: list[str] = []
        self.delay = 0.0  # seconds added to every request
        self.gate = threading.Event()  # cleared by ``hold()``: requests wait (counted) until ``release()``
        self.gate.set()
        self.portal = Portal()  # channel 2: online dossiers (tests/portal.py)

    def stats(self) -> dict:
        return {"dossiers": len(self.dossiers), "creates": sum(self.creates.values()),
                "updates": sum(self.updates.values()), "steps": self.n_steps, "files": len(self.files),
                "uploads": sum(self.uploads.values()), "logins": self.logins, "requests": dict(self.requests)}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "MinistryTest/1"
    disable_nagle_algorithm = True  # headers and body go out at once (no 40 ms delayed-ACK stalls)

    def log_message(self, *a):  # quiet
        pass

    @property
    def st(self) -> State:
        return self.server.state  # type: ignore[attr-defined]

    def _send(self, body: dict, status: int = 200) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def do_GET(self):
        if self.path == "/_stats":
            with self.st.lock:
                self._send(self.st.stats())
        elif "/portal-files/" in self.path:  # a file an online applicant attached (tests/portal.py)
            data = self.st.portal.get_file(self.path.rsplit("/", 1)[-1])
            if data is None:
                return self._send({"error_code": 404, "message": "không có tệp"}, 404)
            self.send_response(200)
            self.send_header("Content-Type", "application/pdf")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:
            self._send({"error_code": 404}, 404)

    def _fault(self, path: str, service: str | None):
        with self.st.lock:
            for f in self.st.faults:
                if f["times"] > 0 and (f.get("path") in (None, path)) and (f.get("service") in (None, service)):
                    f["times"] -= 1
                    return f
        return None

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        path = self.path.rstrip("/").rsplit("/", 1)[-1]
        ctype = self.headers.get("Content-Type", "")
        body, form = {}, {}
        if ctype.startswith("multipart/"):
            msg = BytesParser(policy=email_policy).parsebytes(
                b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw)
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                form[name] = part.get_payload(decode=True)
        else:
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                return self._send({"error_code": 400, "message": "JSON không hợp lệ"}, 400)
        service = body.get("service") if isinstance(body, dict) else None
        with self.st.lock:
            self.st.requests[service or path] += 1
            if len(self.st.headers_seen) < 20:
                self.st.headers_seen.append(dict(self.headers))
        self.st.gate.wait(120)
        if self.st.delay:
            time.sleep(self.st.delay)
        f = self._fault(path, service)
        if f and f["kind"] == "500":
            return self._send({"error_code": 500, "message": "Lỗi máy chủ"}, 500)
        if f and f["kind"] == "slow":
            time.sleep(f.get("delay", 0.5))
        if f and f["kind"] == "expire":
            with self.st.lock:
                self.st.sessions.clear()
        if f and f["kind"] == "401":
            with self.st.lock:
                self.st.sessions.clear()
            return self._send({"message": "Unauthorized"}, 401)
        if path == "login":
            answer = self._login(body)
        elif path == "service":
            answer = self._service(body)
        elif path == "upload":
            answer = self._upload(form)
        else:
            return self._send({"error_code": 404, "message": "không có"}, 404)
        if f and f["kind"] == "drop":
            return self._drop()  # applied, answer lost
        if f and f["kind"] == "timeout":
            time.sleep(f.get("delay", 3))
            return self._drop()
        self._send(answer)

    # -- contract

    def _login(self, body) -> dict:
        with self.st.lock:
            self.st.passwords_seen.append(body.get("password", ""))
            if self.st.users.get(body.get("username")) != body.get("password"):
                return {"error_code": 1, "message": "Sai tên đăng nhập hoặc mật khẩu"}
            tok = uuid.uuid4().hex
            self.st.sessions.add(tok)
            self.st.logins += 1
            return {"error_code": 0, "session": tok}

    def _service(self, body) -> dict:
        st = self.st
        with st.lock:
            if body.get("session") not in st.sessions:
                return {"error_code": -2, "message": "Phiên làm việc không hợp lệ hoặc đã hết hạn"}
            name, data = body.get("service"), body.get("data") or []
            st.madonvi[body.get("madonvi")] += 1
            if not isinstance(body.get("madonvi"), str) or not body.get("madonvi"):
                return {"error_code": 2, "message": "Thiếu madonvi"}
            if name == "TraCuuHoSo":
                res = []
                for it in data:
                    d = st.dossiers.get(it.get("MaHoSo"))
                    if d is not None:
                        res.append({"MaHoSo": it["MaHoSo"], "TrangThaiHoSo": d.get("TrangThaiHoSo", ""),
                                    **{k: d[k] for k in ("ChuHoSo", "MaTTHC", "NgayTiepNhan") if k in d},
                                    "QuaTrinhXuLy": st.steps.get(it["MaHoSo"], [])})
                return {"error_code": 0, "result": res}
            if name in PORTAL_SERVICES:
                return st.portal.service(name, data)
            if name == "DongBoHoSoMC":
                return self._records(data, body.get("isUpdating") == "True")
            if name == "CapNhatTienDoHoSoMC":
                return self._steps(data)
            return {"error_code": 9, "message": f"Dịch vụ {name} không có"}

    def _records(self, data, updating: bool) -> dict:
        st, results, bad = self.st, [], False
        uploaded = {(f["IdTepTin"], f["DuongDan"]) for f in st.files.values()} | st.portal.file_pairs()
        for it in data:
            code = it.get("MaHoSo")
            err = _check_record(it, uploaded) or st.portal.check_record(it)
            if not err and code in st.reject:
                err = st.reject[code]
            if err:
                results.append({"MaHoSo": code, "error_code": 1, "message": err})
                bad = True
                continue
            if not updating and code in st.dossiers:
                results.append({"MaHoSo": code, "error_code": -3, "message": f"Hồ sơ {code} đã tồn tại"})
                bad = True
                continue
            if updating and code not in st.dossiers:
                results.append({"MaHoSo": code, "error_code": 4, "message": f"Hồ sơ {code} không tồn tại"})
                bad = True
                continue
            (st.updates if updating else st.creates)[code] += 1
            st.dossiers[code] = {"TrangThaiHoSo": it["TrangThaiHoSo"]} if st.light else it
            results.append({"MaHoSo": code, "error_code": 0, "message": "Thành công"})
        return {"error_code": 0, "results": results} if bad else {"error_code": 0, "message": "Thành công"}

    def _steps(self, data) -> dict:
        st, results, bad = self.st, [], False
        for it in data:
            code = it.get("MaHoSo")
            missing = [k for k in STEP_FIELDS if not isinstance(it.get(k), str)]
            err = f"Thiếu hoặc sai kiểu: {', '.join(missing)}" if missing else ""
            if not err and not DATE.match(it["ThoiDiemXuLy"]):
                err = "ThoiDiemXuLy không đúng định dạng yyyyMMddHHmmss"
            if not err and code not in st.dossiers:
                err = f"Hồ sơ {code} không tồn tại"
            if not err and code in st.reject_steps:
                err = st.reject_steps[code]
            if err:
                results.append({"MaHoSo": code, "error_code": 1, "message": err})
                bad = True
                continue
            st.steps.setdefault(code, []).append(
                {k: it[k] for k in ("ThoiDiemXuLy", "TrangThai", "NoiDungXuLy", "NguoiXuLy")} if st.light else it)
            st.n_steps += 1
            if not st.light:
                st.dossiers[code] = dict(st.dossiers[code], TrangThaiHoSo=it["TrangThai"])
            results.append({"MaHoSo": code, "error_code": 0, "message": "Thành công"})
        return {"error_code": 0, "results": results} if bad else {"error_code": 0, "message": "Thành công"}

    def _upload(self, form) -> dict:
        st = self.st
        with st.lock:
            if (form.get("session") or b"").decode() not in st.sessions:
                return {"error_code": -2, "message": "Phiên làm việc không hợp lệ hoặc đã hết hạn"}
            st.madonvi[(form.get("madonvi") or b"").decode()] += 1
            data = form.get("file")
            if data is None:
                return {"error_code": 2, "message": "Thiếu tệp"}
            sha = hashlib.sha256(data).hexdigest()
            claimed = (form.get("sha256") or b"").decode()
            if claimed and claimed != sha:
                return {"error_code": 5, "message": "Mã SHA-256 không khớp nội dung tệp"}
            st.uploads[sha] += 1
            st.portal.check_upload(sha)
            if sha not in st.files:
                fid = f"T{sha[:16]}"  # the server keeps files by content
                st.files[sha] = {"IdTepTin": fid, "DuongDan": f"https://dvc.example.gov.vn/files/{fid}",
                                 "size": len(data), "MaHoSo": (form.get("MaHoSo") or b"").decode()}
            f = st.files[sha]
            return {"error_code": 0, "IdTepTin": f["IdTepTin"], "DuongDan": f["DuongDan"], "sha256": sha}


RESULT_FIELDS = ("TenGiayTo", "MaThanhPhanHoSo", "GiayToId", "DuongDanTepTinKetQua", "MaGiayToKetQua")


def _check_record(it: dict, files: set) -> str:
    missing = [k for k in REQUIRED if k not in it]
    if missing:
        return f"Thiếu trường: {', '.join(missing)}"
    for doc in it["TaiLieuNop"] if isinstance(it["TaiLieuNop"], list) else []:
        if not isinstance(doc, dict) or (doc.get("TepDinhKemId"), doc.get("DuongDanTaiTepTin")) not in files:
            name = doc.get("TenTepDinhKem", "?") if isinstance(doc, dict) else "?"
            return f"TaiLieuNop: thành phần '{name}' không có tệp đính kèm đã tải lên (TepDinhKemId/DuongDanTaiTepTin)"
    for doc in it.get("DanhSachGiayToKetQua") if isinstance(it.get("DanhSachGiayToKetQua"), list) else []:
        # a result paper, like a submitted one, must point to a file uploaded before
        if not isinstance(doc, dict) or any(not isinstance(doc.get(k), str) for k in RESULT_FIELDS):
            return f"DanhSachGiayToKetQua: mỗi mục cần {', '.join(RESULT_FIELDS)} (chuỗi)"
        if (doc["GiayToId"], doc["DuongDanTepTinKetQua"]) not in files:
            return f"DanhSachGiayToKetQua: giấy tờ '{doc['TenGiayTo']}' không có tệp đã tải lên"
    for k, v in it.items():
        if k in ("TaiLieuNop", "DinhDanhCHS", "DanhSachLePhi", "DanhSachTepDinhKemKhac", "DanhSachHoSoBoSung",
                 "DanhSachGiayToKetQua", "DSKetNoiCSDL"):
            if not isinstance(v, list):
                return f"{k} phải là danh sách"
        elif not isinstance(v, str):
            return f"{k} phải là chuỗi"
    for k in DATE_FIELDS:
        if not DATE.match(it[k]):
            return f"{k} không đúng định dạng yyyyMMddHHmmss"
    for k in OPTIONAL_DATES:
        if it.get(k) and not DATE.match(it[k]):
            return f"{k} không đúng định dạng yyyyMMddHHmmss"
    return ""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def handle_error(self, request, client_address):  # a client killed mid-request is expected here
        pass


class MinistryServer:
    """``with MinistryServer() as srv: srv.url, srv.state``."""

    def __init__(self, light: bool = False, port: int = 0):
        self.state = State(light)
        self.httpd = _Server(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.httpd.state = self.state  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api"
        self.portal = self.state.portal
        self.portal.base = self.url
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def fault(self, kind: str, times: int = 1, *, service: str | None = None, path: str | None = None,
              delay: float | None = None) -> None:
        f = {"kind": kind, "times": times, "service": service, "path": path}
        if delay is not None:
            f["delay"] = delay
        with self.state.lock:
            self.state.faults.append(f)

    def hold(self) -> None:
        """Keep every request waiting (already counted in ``state.requests``) until ``release()``."""
        self.state.gate.clear()

    def release(self) -> None:
        self.state.gate.set()

    @property
    def reject(self) -> dict:
        return self.state.reject

    @property
    def reject_steps(self) -> dict:
        return self.state.reject_steps

    def seed(self, code: str, record: dict | None = None) -> None:
        """A dossier the portal already knows (a create for it answers "đã tồn tại")."""
        with self.state.lock:
            self.state.dossiers[code] = record or {"MaHoSo": code, "TrangThaiHoSo": "2"}

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--light", action="store_true", help="keep only counts (for the benchmark)")
    a = ap.parse_args()
    srv = MinistryServer(light=a.light, port=a.port)
    print(f"PORT {srv.httpd.server_address[1]}", flush=True)
    try:
        srv.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)
