"""``onestop check``: the archive against the database, with advice for each problem found.

Each file a row points to is there, unchanged (size, SHA-256) and a readable PDF of its page count;
each file of the archive folder has a row (an orphan gets advice that fits whose it is, ``_orphan``);
no temporary file, work folder or inbox claim is left by a killed scan (claims.py). The pages to
rescan and the document numbers to confirm are listed beside the problems (digitization.py).
"""

from __future__ import annotations

import re
from pathlib import Path

from onestop.archive.claims import CLAIMS, claimed_entries, inbox_dir, stale, work_root
from onestop.archive.files import sha256_file, shared_root
from onestop.common.config import Config
from onestop.store import archive as store
from onestop.store.sqlite import Database


def check(db: Database, cfg: Config, *, verify: bool = True) -> dict:
    """Verify the archive against the database; ``{"ok": bool, "files": n, "problems": [...]}``."""
    from pypdf import PdfReader

    problems = []
    known = set()
    shared_root(cfg)  # in an office: every file of every desk is checked against the shared folder
    rows = store.files_to_check(db)
    n = 0
    for r in rows:
        n += 1
        p = Path(r["path"])
        known.add(str(p.resolve()))
        if r["state"] == "lost":
            continue  # found missing or damaged when its component was rescanned (--replace): dealt with
        base = {"code": r["code"], "component": r["component_n"], "path": r["path"], "file_id": r["id"]}
        if not p.exists():
            problems.append(dict(base, kind="missing",
                                 message=f"Thiếu tệp {p} (hồ sơ {r['code']}, thành phần {r['component_n']}). "
                                         f"Khôi phục từ bản sao lưu hoặc quét lại với --replace."))
            continue
        if p.stat().st_size != r["size"] or (verify and sha256_file(p) != r["sha256"]):
            problems.append(dict(base, kind="checksum",
                                 message=f"Tệp {p} đã bị thay đổi (SHA-256 không khớp). Khôi phục từ bản sao lưu "
                                         f"hoặc quét lại thành phần {r['component_n']} với --replace."))
            continue
        if verify:
            try:
                count = len(PdfReader(p).pages)
            except Exception as e:  # noqa: BLE001
                problems.append(dict(base, kind="unreadable", message=f"Không mở được PDF {p}: {e}."))
                continue
            if count != r["pages"]:
                problems.append(dict(base, kind="pages",
                                     message=f"PDF {p} có {count} trang, cơ sở dữ liệu ghi {r['pages']}."))
    problems += _check_ocr_copies(db, known, verify=verify)
    from onestop.archive import sigverify

    signatures = sigverify.check_files(db, cfg, rows, verify=verify)  # docs/signing.md
    problems += signatures.pop("problems")
    root = cfg.archive_dir
    if root.is_dir():
        for p in sorted(root.rglob("*")):
            if not p.is_file():
                continue
            if p.name.endswith(".tmp"):
                problems.append({"kind": "temp", "path": str(p),
                                 "message": f"Tệp tạm {p} còn lại sau một lần quét bị ngắt. Có thể xóa; quét lại thành phần đó."})
            elif str(p.resolve()) not in known:
                problems.append(_orphan(db, cfg, p))
    for r in store.digitized_without_file(db):
        problems.append({"kind": "no_file", "code": r["code"], "component": r["n"],
                         "message": f"Thành phần {r['n']} của hồ sơ {r['code']} được đánh dấu đã số hóa nhưng không có tệp. "
                                    f"Quét lại: onestop scan {r['code']} --component {r['n']} …"})
    # Left by scans that were killed: page images and OCR text (personal data), inbox files in a claim.
    for d in stale(work_root(cfg), "scan-", hold=False):
        problems.append({"kind": "stale_work", "path": str(d),
                         "message": f"Thư mục làm việc {d} còn lại sau một lần quét bị dừng đột ngột; nó chứa ảnh trang "
                                    f"và chữ nhận dạng (dữ liệu cá nhân). Lần quét tiếp theo sẽ xóa nó."})
    for d in stale(inbox_dir(cfg) / CLAIMS, "run-", hold=False):
        names = [q.name for q in claimed_entries(d)]
        if not names:
            continue
        problems.append({"kind": "stale_claim", "path": str(d), "files": names,
                         "message": f"{len(names)} tệp của hộp thư quét ({', '.join(names)}) còn nằm trong {d} sau một "
                                    f"lần quét bị dừng đột ngột. Lần quét tiếp theo sẽ trả chúng về hộp thư quét."})
    from onestop.archive import digitization

    # Not archive damage (the file is intact), so not a problem for the exit code: work to do
    # (pages to rescan, document numbers for the officer to correct or confirm).
    return {"ok": not problems, "files": n, "problems": problems, "rescan": digitization.rescan_list(db),
            "documents": digitization.document_check_list(db), "signatures": signatures}


def _orphan(db: Database, cfg: Config, p: Path) -> dict:
    """An archive file no row points to, with advice that fits whose it is (its name carries the dossier
    code and the day it was scanned): a scan cut short before its commit (run the same scan again: it
    takes the file over), or, after a restore, a dossier the database does not hold, or an earlier dossier
    whose code the database now gives another dossier. Never advise scanning a file into a dossier it
    cannot belong to."""
    from onestop.store import home
    from onestop.store import dossiers as dossier_store

    out = {"kind": "orphan", "path": str(p)}
    m = home._code_pattern(cfg.agency_code).search(p.name)
    day = re.search(r"_(\d{8})(?:_\d+)?\.pdf$", p.name)
    code = m.group(0) if m else None
    d = dossier_store.dossier_by_code(db, code) if code else None
    if code and d is None:
        out.update(code=code, dossier=None, message=(
            f"Tệp {p} là của hồ sơ {code}, hồ sơ này không có trong cơ sở dữ liệu (tiếp nhận sau bản sao lưu đã khôi "
            f"phục, hoặc cơ sở dữ liệu đã mất nó). Đừng xóa tệp và đừng quét nó vào hồ sơ khác. Nhập lại hồ sơ từ giấy "
            f"tiếp nhận của công dân ('onestop receive --at …': hồ sơ được mã mới), rồi quét lại giấy tờ vào mã mới; "
            f"giữ tệp này làm chứng cứ."))
    elif d is not None and day and day.group(1) < d["received_at"][:10].replace("-", ""):
        out.update(code=code, dossier=code, message=(
            f"Tệp {p} được quét ngày {day.group(1)}, trước khi hồ sơ {code} hiện có được tiếp nhận "
            f"({d['received_at'][:10]}): nó là của một hồ sơ trước đó mang cùng mã (cấp lại sau khi khôi phục cơ sở "
            f"dữ liệu). Đừng quét nó vào hồ sơ {code} và đừng xóa nó; đối chiếu với giấy tiếp nhận của công dân đó."))
    else:
        out.update(code=code, dossier=code if d is not None else None, message=(
            f"Tệp {p} không thuộc hồ sơ nào trong cơ sở dữ liệu (lần quét bị ngắt trước khi ghi nhận, hoặc cơ sở dữ "
            f"liệu đã mất dữ liệu). Đừng xóa nó. Chạy lại đúng lệnh 'onestop scan"
            + (f" {code}" if d is not None else "") + "' cho thành phần đó (tệp trùng nội dung sẽ được ghi nhận; tệp "
            "lưu trữ không bao giờ bị ghi đè), hoặc khôi phục cơ sở dữ liệu từ bản sao lưu."))
    return out


def _check_ocr_copies(db: Database, known: set, *, verify: bool) -> list[dict]:
    """The OCR copies beside signed PDFs: present and unchanged (their paths join ``known``)."""
    from onestop.store import results as results_store

    out = []
    for r in results_store.ocr_copies(db):
        p = Path(r["path"])
        known.add(str(p.resolve()))
        if r["state"] == "lost":
            continue
        base = {"code": r["code"], "component": r["component_n"], "path": r["path"], "file_id": r["id"]}
        if not p.is_file():
            out.append(dict(base, kind="missing",
                            message=f"Thiếu bản OCR {p} của PDF có chữ ký số (hồ sơ {r['code']}, thành phần "
                                    f"{r['component_n']}). Khôi phục từ bản sao lưu hoặc quét lại với --replace."))
        elif verify and sha256_file(p) != r["sha256"]:
            out.append(dict(base, kind="checksum",
                            message=f"Bản OCR {p} đã bị thay đổi (SHA-256 không khớp). Khôi phục từ bản sao lưu "
                                    f"hoặc quét lại thành phần {r['component_n']} với --replace."))
    return out

