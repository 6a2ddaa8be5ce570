"""A dossier's result papers (kết quả giải quyết), digitized like its components (issue 11).

``onestop scan CODE --result FILE…`` stores them through the same archive path as components (same
checks, PDF/A, write-once file, search, outbox ``file`` upload). In ``archive_files`` a result is
the row with ``component_n = -n`` (result n: negative, so it is never taken for a component, and the
one-current-file index, ``--replace`` and ``--add`` work unchanged) and ``result_code``/``result_name``
set (the procedure's MAKETQUA/TENKETQUA from the catalog). The sync lists them in
``DanhSachGiayToKetQua`` once uploaded (sync/payloads.py).
"""

from __future__ import annotations

from onestop.common.config import Config
from onestop.common.errors import NotFound, TransitionRefused

RESULT_STATUSES = ("9", "10")  # result ready, result returned
DEFAULT_NAME = "Kết quả giải quyết thủ tục hành chính"


def part(db, cfg: Config, d: dict, n: int | None) -> dict:
    """The pseudo-component ``scan.scan`` stores result ``n`` (1-based, default 1) of dossier ``d`` as."""
    from onestop.intake import catalog

    code = d["code"]
    if str(d["status"]) not in RESULT_STATUSES:
        raise TransitionRefused(
            f"Hồ sơ {code} đang ở trạng thái {d['status']}: chỉ số hóa kết quả khi hồ sơ đã có kết quả (9) hoặc đã "
            f"trả kết quả (10). Chuyển trạng thái trước ('onestop move {code} 9'), rồi quét lại. Chưa có gì được lưu.",
            f"Dossier {code} is in status {d['status']}: results are digitized once the dossier's result is ready (9) "
            f"or returned (10). Move it first ('onestop move {code} 9'), then scan again. Nothing was stored.")
    try:
        listed = catalog.get(db, d["procedure_code"]).results or []
    except NotFound:
        listed = []
    listed = listed or [{"code": "", "name": DEFAULT_NAME}]
    n = 1 if n is None else n
    if not 1 <= n <= len(listed):
        raise NotFound(
            f"Thủ tục của hồ sơ {code} có {len(listed)} loại kết quả; không có kết quả số {n}. Dùng --component 1"
            + (f"…{len(listed)}." if len(listed) > 1 else "."),
            f"The procedure of dossier {code} lists {len(listed)} result(s); there is no result {n}.")
    r = listed[n - 1]
    return {"n": -n, "code": f"KQ{n:02d}", "name": r.get("name") or DEFAULT_NAME, "pages": 0, "received": 1,
            "digitized": 0, "result": n, "result_code": r.get("code") or ""}


def electronic_result_required(cfg: Config, procedure_code: str) -> bool:
    """Whether the procedure's result must be digitized to count in the digitization rate
    (``[results] electronic``: a list of procedure codes, or ``["*"]`` for all; none by default)."""
    codes = cfg.get("results.electronic", []) or []
    if isinstance(codes, str):
        codes = [codes]
    return "*" in codes or procedure_code in codes
