"""Archive commands: scan, search, check."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from onestop.cli import app
from onestop.cli.common import JSON, code_for_change, context
from onestop.common.i18n import t


@app.command()
def scan(
    code: str = typer.Argument(..., help="Mã hồ sơ (hoặc phần cuối của mã)."),
    files: List[Path] = typer.Argument(None, help="Tệp ảnh (JPEG, PNG, TIFF nhiều trang) hoặc PDF, hoặc thư mục; theo đúng thứ tự trang."),
    component: Optional[int] = typer.Option(None, "--component", "-c", help="Số thứ tự thành phần hồ sơ (mặc định: thành phần đầu tiên chưa số hóa)."),
    inbox: bool = typer.Option(False, "--inbox", help="Lấy các tệp máy quét mạng đã lưu vào hộp thư quét ([scan] inbox), cũ nhất trước."),
    device: Optional[str] = typer.Option(None, "--device", help="Quét trực tiếp bằng máy quét SANE (scanimage); 'auto' = máy trong cấu hình."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Không hỏi: số trang khác khai báo thì từ chối."),
    allow_low_dpi: bool = typer.Option(False, "--allow-low-dpi", help="Chấp nhận ảnh dưới [scan] min_dpi (chỉ cảnh báo)."),
    force_ocr: bool = typer.Option(False, "--force-ocr", help="Nhận dạng lại cả PDF đã có lớp chữ."),
    replace: bool = typer.Option(False, "--replace", help="Quét lại thành phần đã số hóa (bản cũ được giữ, đánh dấu thay thế)."),
    add: bool = typer.Option(False, "--add", help="Lưu thêm một tệp cho thành phần đã số hóa (ví dụ trang nộp bổ sung); tệp cũ vẫn là bản hiện hành."),
    result: bool = typer.Option(False, "--result", help="Các tệp là giấy tờ kết quả (hồ sơ ở trạng thái 9 hoặc 10); --component N chọn kết quả thứ N của thủ tục."),
    json_: bool = JSON,
):
    """Số hóa một thành phần hồ sơ: kiểm tra ảnh, xoay đúng chiều, chỉnh nghiêng, nhận dạng chữ, lưu PDF có lớp chữ.

    Scan pages into one searchable PDF for a dossier component (every page, in order, ≥ 200 dpi).
    Failures store nothing and return inbox files to the inbox; a component already digitized (or
    stored meanwhile by another scan) is refused with exit 15 unless --replace or --add; exit codes
    in docs/exit-codes.md.

    Ví dụ / Example:

      onestop scan 000.00.12.H26-261122-0001 --component 1 trang1.jpg trang2.jpg --yes --json

      onestop scan 0001 --inbox

      onestop scan 0001 --result giay-chung-nhan.pdf
    """
    import contextlib

    from onestop.archive import scan as archive
    from onestop.common.errors import InvalidInput
    from onestop.common.output import emit_json, info

    cfg, db = context()
    sources = list(files or [])
    interactive = sys.stdin.isatty() and not yes
    code = code_for_change(db, cfg, code, interactive)
    cleaned = archive.recover(cfg)  # before listing the inbox: files of a killed scan are back in it
    if cleaned["returned"]:
        info(t(f"Đã trả {len(cleaned['returned'])} tệp của một lần quét bị dừng đột ngột về hộp thư quét.",
               f"Returned {len(cleaned['returned'])} files of a scan that was killed to the inbox."))
    with (archive.work_folder(cfg) if device is not None else contextlib.nullcontext()) as tmp:
        if device is not None:
            sources += archive.scan_device(cfg, device, Path(tmp))
        if inbox:
            found = archive.inbox_files(cfg)
            if not found:
                raise InvalidInput(
                    f"Hộp thư quét {archive.inbox_dir(cfg)} đang trống. Quét giấy tờ vào đó rồi chạy lại.",
                    f"The scan inbox {archive.inbox_dir(cfg)} is empty. Scan the papers into it and run again.")
            sources += found
        if not sources:
            raise InvalidInput("Chưa chỉ ra trang nào để quét: thêm tệp/thư mục, --inbox hoặc --device.",
                               "No pages given: add files/folders, --inbox or --device.")
        progress = _progress() if sys.stderr.isatty() and not json_ else None

        def confirm(question: str) -> bool:
            from onestop.cli.prompts import Prompter

            if progress:
                progress[0].stop()  # the bar must never draw over the question
            return Prompter().yes_no(question, default=False)
        try:
            res = archive.scan(db, cfg, code, sources, component=component, yes=yes, allow_low_dpi=allow_low_dpi,
                               force_ocr=force_ocr, replace=replace, add=add, confirm=confirm if interactive else None,
                               progress=progress[1] if progress else None, from_inbox=inbox, result=result)
        finally:
            if progress:
                progress[0].stop()
    for w in res["warnings"]:
        info(t(f"Cảnh báo: {w}", f"Warning: {w}"))
    if json_:
        emit_json({k: res[k] for k in ("code", "component", "pdf", "pages", "sha256", "size", "file_id", "warnings",
                                       "signed", "ocr_copy", "result", "result_code", "result_name", "rescan", "document", "signature")
                   if k in res})
        return
    typer.echo(res["pdf"])
    if res.get("signed"):
        info(t(f"PDF có chữ ký số ({', '.join(res['signed'])}): lưu nguyên vẹn; bản có lớp chữ OCR: {res['ocr_copy']}",
               f"Digitally signed PDF ({', '.join(res['signed'])}): archived unchanged; OCR copy: {res['ocr_copy']}"))
    doc = res.get("document") or {}
    if doc.get("document_number"):
        info(t(f"  số ký hiệu {doc['document_number']}, ngày {doc['document_date'] or '?'}, cơ quan {doc['issuer']}",
               f"  document number {doc['document_number']}, dated {doc['document_date'] or '?'}, issuer {doc['issuer']}"))
    for p in res["pages"]:
        # A blank page has no words, so no confidence to show: say it is blank instead of "None".
        if p.get("confidence") is not None:
            read_vi, read_en = f"độ tin cậy {p['confidence']}", f"confidence {p['confidence']}"
        elif (p.get("text") or "").strip():  # a PDF page whose own text layer was kept
            read_vi, read_en = "giữ lớp chữ có sẵn của PDF", "the PDF's own text layer kept"
        else:
            read_vi, read_en = "trang trắng, không có chữ", "blank page, no text"
        info(t(f"  trang {p['n']}: {p['dpi']} dpi, xoay {p['rotated']}°, chỉnh nghiêng {p['deskew']}°, {read_vi}",
               f"  page {p['n']}: {p['dpi']} dpi, turned {p['rotated']}°, deskewed {p['deskew']}°, {read_en}"))
    if res["moved"]:
        info(t(f"Đã chuyển {len(res['moved'])} tệp sang {Path(res['moved'][0]).parent}",
               f"Moved {len(res['moved'])} files to {Path(res['moved'][0]).parent}"))


def _progress():
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from onestop.common.output import console

    prog = Progress(TextColumn(t("Nhận dạng chữ", "OCR")), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console(stderr=True), transient=True)
    task = prog.add_task("ocr", total=None)

    def update(done: int, total: int):
        # Started at the first page done, after any question: a live bar redraws over a prompt.
        if not prog.live.is_started:
            prog.start()
        prog.update(task, completed=done, total=total)

    return prog, update


@app.command()
def search(query: List[str] = typer.Argument(..., help="Từ khóa (nhiều từ, không cần ngoặc kép; có dấu hay không đều được), "
                                                   "hoặc số định danh / số điện thoại của người nộp."),
           limit: int = typer.Option(20, "--limit", help="Số kết quả tối đa."),
           show_personal: bool = typer.Option(False, "--show-personal",
                                              help="Hiện đủ số giấy tờ và điện thoại, cả trong đoạn trích (mặc định che); việc xem được ghi lại."),
           json_: bool = JSON):
    """Tìm trong nội dung hồ sơ đã số hóa và thông tin hồ sơ (không phân biệt dấu, kể cả đ/Đ);
    số định danh hoặc số điện thoại tìm hồ sơ của người nộp (ghi vào nhật ký truy cập dữ liệu cá nhân).

    Full-text search over OCR text and dossier fields, ranked, with highlighted snippets; an ID or
    phone number finds the applicant's dossiers (recorded in the personal-data access log, shown masked).

    Ví dụ / Example:  onestop search dang ky hoat dong --json ; onestop search 0912345678
    """
    from onestop.archive import search as search_
    from onestop.common.output import console, emit_json

    # Words given separately or in one argument mean the same: all required (as `procedures list`).
    text = " ".join(query)
    cfg, db = context()
    number = search_.personal_number(text)
    if number:
        from onestop.reports import figures as reports
        from onestop.domain.masking import mask_phone

        hits = search_.find_by_personal_number(db, number, show_personal=show_personal, limit=limit)
        # Looking a citizen up by a personal number is an access to personal data: who, when, what.
        reports.record_personal_access(
            db, cfg, "search", f"number={mask_phone(number)} hits={len(hits)}"
            + (" show_personal" if show_personal else ""))
    else:
        hits = search_.search(db, text, limit=limit, show_personal=show_personal)
        if show_personal and hits:
            from onestop.reports.figures import record_personal_access

            record_personal_access(db, cfg, "search", f"hits={len(hits)}")
    if json_:
        emit_json(hits)
        return
    if not sys.stdout.isatty():
        for h in hits:  # a result paper: "KQ1" in the component column
            part = f"KQ{h['result']}" if h.get("result") else (h["component"] or "")
            typer.echo(f"{h['code']}\t{part}\t{h['page'] or ''}\t{h['snippet']}")
        return
    c = console()
    if not hits:
        c.print(t("Không tìm thấy kết quả nào.", "No results."))
    from rich.markup import escape

    for h in hits:
        part = (t(f"Kết quả {h['result']}", f"Result {h['result']}") if h.get("result")
                else f"TP {h['component']}")
        where = (f"{part} tr. {h['page']}" if h["kind"] == "page" else
                 f"{part}, {t('số ký hiệu', 'document number')}" if h["kind"] == "component"
                 else t("hồ sơ", "dossier"))
        snip = escape(h["snippet"]).replace("«", "[bold yellow]").replace("»", "[/bold yellow]")
        c.print(f"[bold]{h['code']}[/bold] ({where}) {escape(h['applicant_name'] or '')}\n    {snip}")


@app.command()
def check(json_: bool = JSON,
          quick: bool = typer.Option(False, "--quick", help="Chỉ so kích thước, không tính lại SHA-256 và không mở PDF.")):
    """Đối chiếu kho lưu trữ với cơ sở dữ liệu: thiếu tệp, sai checksum, tệp mồ côi, PDF hỏng; liệt kê trang cần quét
    lại và số ký hiệu cần cán bộ kiểm tra.

    Verify the archive against the database (exit code 10 when anything is wrong) and list the pages
    recorded as hard to read, to rescan, and the document numbers read with doubts, to correct or
    confirm with `amend CODE --component N --document-number …` (listed, not failures).

    Ví dụ / Example:  onestop check --json
    """
    from onestop.archive import check as archive
    from onestop.common.errors import CheckFailed
    from onestop.common.output import emit_json, info

    cfg, db = context()
    rep = archive.check(db, cfg, verify=not quick)
    if json_:
        emit_json(rep)
    else:
        for p in rep["problems"]:
            info(f"[{p['kind']}] {p['message']}")
        for p in rep["rescan"]:
            info(f"[rescan] {p['message']}")
        for p in rep["documents"]:
            info(f"[document] {p['message']}")
        sg = rep["signatures"]
        info(t(f"Đã kiểm tra {rep['files']} tệp: {len(rep['problems'])} vấn đề. Chữ ký số: {sg['signed']} tệp đã ký, "
               f"{sg['unsigned']} tệp chưa ký" + ("" if sg["configured"] else " (chưa cấu hình [signing])") + ".",
               f"Checked {rep['files']} files: {len(rep['problems'])} problems. Signatures: {sg['signed']} files "
               f"signed, {sg['unsigned']} unsigned" + ("" if sg["configured"] else " ([signing] not set)") + "."))
    if not rep["ok"]:
        raise CheckFailed(f"Kho lưu trữ có {len(rep['problems'])} vấn đề (xem ở trên).",
                          f"The archive has {len(rep['problems'])} problems (see above).")
