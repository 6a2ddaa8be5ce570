"""Excel workbooks for supervisors (``--xlsx FILE`` on list, backlog, report), through openpyxl.

Cells hold real values: times as Excel date-times (shown ``dd/mm/yyyy hh:mm``, Vietnam local time,
without an offset, which Excel cannot store), counts as numbers, rates as percentages. Headers are
Vietnamese (English with ``--lang en``). openpyxl is imported only when a workbook is written.
"""

from __future__ import annotations

import io
import re
from datetime import datetime
from pathlib import Path

from onestop.common.i18n import t

# (key, Vietnamese header, English header)
Column = tuple[str, str, str]

_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

LIST_COLUMNS: list[Column] = [
    ("code", "Mã hồ sơ", "Dossier code"),
    ("received_at", "Thời điểm tiếp nhận", "Received"),
    ("procedure_code", "Mã thủ tục", "Procedure"),
    ("applicant_name", "Người nộp hồ sơ", "Applicant"),
    ("status", "Mã trạng thái", "Status code"),
    ("status_name", "Trạng thái", "Status"),
    ("due_at", "Hẹn trả kết quả", "Due"),
    ("officer", "Cán bộ tiếp nhận", "Officer"),
]
_COUNTS: list[Column] = [
    ("count", "Số hồ sơ", "Dossiers"),
    ("overdue", "Quá hạn", "Overdue"),
    ("due_today", "Đến hạn hôm nay", "Due today"),
    ("due_soon", "Sắp đến hạn", "Due soon"),
]
BACKLOG_STATUS: list[Column] = [("status", "Mã trạng thái", "Status code"), ("name", "Trạng thái", "Status"), *_COUNTS]
BACKLOG_PROCEDURE: list[Column] = [("procedure_code", "Mã TTHC", "Procedure"),
                                   ("procedure_name", "Tên thủ tục", "Procedure name"), *_COUNTS]
OVERDUE: list[Column] = [
    ("code", "Mã hồ sơ", "Dossier code"), ("procedure_code", "Mã TTHC", "Procedure"),
    ("procedure_name", "Tên thủ tục", "Procedure name"), ("applicant_name", "Người nộp hồ sơ", "Applicant"),
    ("id_number", "Số giấy tờ", "ID number"), ("phone", "Điện thoại", "Phone"),
    ("status", "Mã trạng thái", "Status code"), ("received_at", "Thời điểm tiếp nhận", "Received"),
    ("due_at", "Hẹn trả kết quả", "Due"), ("days_late", "Số ngày làm việc quá hạn", "Working days late"),
    ("officer", "Cán bộ tiếp nhận", "Officer"),
]
REPORT_PROCEDURE: list[Column] = [
    ("procedure_code", "Mã TTHC", "Procedure"), ("procedure_name", "Tên thủ tục", "Procedure name"),
    ("received", "Tiếp nhận", "Received"), ("resolved", "Đã giải quyết", "Resolved"),
    ("early", "Trước hạn", "Early"), ("on_time", "Đúng hạn", "On time"), ("late", "Quá hạn", "Late"),
    ("stopped", "Dừng xử lý", "Stopped"), ("withdrawn", "Rút hồ sơ", "Withdrawn"),
    ("in_progress", "Đang giải quyết", "In progress"), ("in_progress_overdue", "Đang giải quyết quá hạn", "In progress, overdue"),
    ("waiting_citizen", "Chờ công dân", "Waiting on the citizen"),
    ("avg_working_days", "Số ngày làm việc trung bình", "Average working days"),
]

_DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
_DATE_FORMAT = "dd/mm/yyyy"


def value(key: str, v):
    """A cell value: ISO times become naive local date-times, code-like numbers stay numbers."""
    if v is None or v == "":
        return None
    if isinstance(v, str):
        if _ISO_TIME.match(v):
            try:
                return datetime.fromisoformat(v).replace(tzinfo=None)
            except ValueError:
                return v
        if _ISO_DAY.match(v):
            return datetime.fromisoformat(v).date()
        if key == "status" and v.isdigit():
            return int(v)
    return v


def write(path: str | Path, sheets: list[tuple[str, list[Column], list[dict]]], *, caption: str = "") -> Path:
    """Write one sheet per (title, columns, rows) to ``path`` atomically (0600); returns the path.

    ``caption`` (what the workbook covers, e.g. the report's period) is the workbook's title and the
    printed page header of every sheet. A row's ``_indent`` indents its ``label`` cell (sub-rows)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from onestop.common.errors import StorageError
    from onestop.common.files import write_atomic

    wb = Workbook()
    wb.remove(wb.active)
    if caption:
        wb.properties.title = caption
    for title, columns, rows in sheets:
        ws = wb.create_sheet(title[:31])  # Excel's limit on sheet names
        if caption:
            ws.oddHeader.center.text = caption
        ws.append([t(vi, en) for _, vi, en in columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.freeze_panes = "A2"
        widths = [max(10, min(40, len(t(vi, en)) + 2)) for _, vi, en in columns]
        for r in rows:
            ws.append([value(k, r.get(k)) for k, _, _ in columns])
            for i, (k, _, _) in enumerate(columns):
                cell = ws.cell(row=ws.max_row, column=i + 1)
                if isinstance(cell.value, datetime):
                    cell.number_format = _DATETIME_FORMAT
                    widths[i] = max(widths[i], 17)
                elif hasattr(cell.value, "isoformat"):
                    cell.number_format = _DATE_FORMAT
                    widths[i] = max(widths[i], 11)
                elif k.endswith("_rate") or k.endswith("_target") or r.get("_percent") and k == "value":
                    cell.number_format = "0.0%"
                elif isinstance(cell.value, str):
                    widths[i] = max(widths[i], min(60, len(cell.value) + 2))
                if k == "label" and r.get("_indent"):
                    cell.alignment = Alignment(indent=2)
        for i, w in enumerate(widths):
            ws.column_dimensions[ws.cell(row=1, column=i + 1).column_letter].width = w
    buf = io.BytesIO()
    wb.save(buf)
    path = Path(path)
    try:
        write_atomic(path, buf.getvalue())
    except OSError as e:
        raise StorageError(f"Không ghi được tệp Excel {path}: {e}. Kiểm tra thư mục và dung lượng đĩa.",
                           f"Cannot write the Excel file {path}: {e}. Check the folder and free disk space.") from e
    return path
