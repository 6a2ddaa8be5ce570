"""One error type with a stable exit code per failure kind (docs/exit-codes.md).

The CLI's single top-level handler prints ``onestop: lỗi: <message>`` on stderr and exits
with ``exit_code``. Messages name the dossier or file and say what to do next.
"""

from onestop.common.i18n import t

OK = 0
UNEXPECTED = 1
USAGE = 2
NOT_FOUND = 3
INVALID_INPUT = 4
TRANSITION_REFUSED = 5
DATABASE_BUSY = 6
STORAGE = 7
CONFIG = 8
SCAN_REJECTED = 9
CHECK_FAILED = 10
SYNC_PARTIAL = 11
SYNC_LOCKED = 12
DATABASE_DAMAGED = 13
HOME_MISMATCH = 14
SCAN_CONFLICT = 15  # the component already has a current file, or another scan took it / its inbox files first
AMBIGUOUS_CODE = 16
DATABASE_UNREACHABLE = 17
DATABASE_AUTH = 18
SCHEMA_MISMATCH = 19
SCAN_LOW_DPI = 21
SCAN_PAGE_COUNT = 22
OCR_FAILED = 23
SCANNER_UNAVAILABLE = 24
PAYMENT_REFUSED = 25  # an overpayment, a second payment of paid fees, a refund above what was paid
DUPLICATE_RECEIPT = 26  # a receipt number already recorded in its series (two desks, one book)
SIGNING_UNAVAILABLE = 27  # [signing] set but its key cannot be used: no token, wrong PIN/password, expired/revoked
SIGNATURE_REQUIRED = 28  # [results] signed_required: the result file must carry the agency's signature first
ONLINE_BLOCKED = 29  # an online dossier cannot be taken as it is (blocked at the pull, papers missing)
ONLINE_TAKEN = 30    # another desk took (or refused) the online dossier first
PORTAL_REFUSED = 31  # the portal refused a take or a refusal (CapNhatDaNhanHoSo / TuChoiTiepNhanHoSo)
SYNC_UNREACHABLE = 75  # EX_TEMPFAIL: a scheduler should retry later
INTERRUPTED = 130


class OnestopError(Exception):
    """Base of every expected failure; carries both languages and an exit code."""

    exit_code = UNEXPECTED

    def __init__(self, vi: str, en: str | None = None, *, exit_code: int | None = None):
        self.vi = vi
        self.en = en or vi
        if exit_code is not None:
            self.exit_code = exit_code
        super().__init__(self.en)

    @property
    def message(self) -> str:
        return t(self.vi, self.en)


class NotFound(OnestopError):
    exit_code = NOT_FOUND


class InvalidInput(OnestopError):
    exit_code = INVALID_INPUT


class TransitionRefused(OnestopError):
    exit_code = TRANSITION_REFUSED


class DatabaseBusy(OnestopError):
    exit_code = DATABASE_BUSY


class DatabaseDamaged(OnestopError):
    exit_code = DATABASE_DAMAGED


class HomeMismatch(OnestopError):
    exit_code = HOME_MISMATCH


class StorageError(OnestopError):
    exit_code = STORAGE


class ReceiptNotPrinted(StorageError):
    """``receive``: the dossier IS registered (its code committed) but its receipt could not be written
    (or, before it, this home's codes-issued.json). Exit 7 like any file that cannot be written;
    ``result`` is what the receive returned without the receipt, so the CLI still prints the code."""

    def __init__(self, vi: str, en: str | None = None, *, result: dict | None = None):
        super().__init__(vi, en)
        self.result = dict(result or {})

    @classmethod
    def after(cls, code: str, cause: BaseException, result: dict) -> "ReceiptNotPrinted":
        vi = en = f"{type(cause).__name__}: {cause}"
        if isinstance(cause, OnestopError):
            vi, en = cause.vi, cause.en
        return cls(
            f"Hồ sơ {code} ĐÃ được tiếp nhận (mã đã cấp, đã lưu) nhưng chưa in được giấy tiếp nhận: {vi} "
            f"Khắc phục rồi in lại giấy tiếp nhận: onestop print {code}",
            f"Dossier {code} IS registered (code issued and stored) but its receipt could not be printed: {en} "
            f"Fix that, then print the receipt again: onestop print {code}",
            result=result)


class PaymentRefused(OnestopError):
    exit_code = PAYMENT_REFUSED


class DuplicateReceipt(OnestopError):
    exit_code = DUPLICATE_RECEIPT


class ConfigError(OnestopError):
    exit_code = CONFIG


class AmbiguousCode(OnestopError):
    """A short dossier code that matches several dossiers; ``candidates`` holds their full codes."""

    exit_code = AMBIGUOUS_CODE

    def __init__(self, vi: str, en: str | None = None, *, candidates: list[str] | None = None):
        super().__init__(vi, en)
        self.candidates = list(candidates or [])


class ScanRejected(OnestopError):
    exit_code = SCAN_REJECTED


class ScanConflict(OnestopError):
    exit_code = SCAN_CONFLICT


class CheckFailed(OnestopError):
    exit_code = CHECK_FAILED


class SigningUnavailable(OnestopError):
    """The configured signing key cannot be used (docs/signing.md); raised before anything is read or stored."""

    exit_code = SIGNING_UNAVAILABLE


class SignatureRequired(OnestopError):
    exit_code = SIGNATURE_REQUIRED


class SyncPartial(OnestopError):
    exit_code = SYNC_PARTIAL


class SyncLocked(OnestopError):
    exit_code = SYNC_LOCKED


class SyncUnreachable(OnestopError):
    exit_code = SYNC_UNREACHABLE


class DatabaseUnreachable(OnestopError):
    """The office database server cannot be reached, or the database in the URL does not exist."""

    exit_code = DATABASE_UNREACHABLE


class DatabaseAuth(OnestopError):
    """The office database server refused the user or password."""

    exit_code = DATABASE_AUTH


class SchemaMismatch(OnestopError):
    """The database schema is newer than this program, or not onestop's."""

    exit_code = SCHEMA_MISMATCH


class OnlineBlocked(OnestopError):
    exit_code = ONLINE_BLOCKED


class OnlineTaken(OnestopError):
    exit_code = ONLINE_TAKEN


class PortalRefused(OnestopError):
    exit_code = PORTAL_REFUSED


class Interrupted(OnestopError):
    exit_code = INTERRUPTED


class Cancelled(Interrupted):
    """The officer answered "no" to a confirmation: not a failure, so the CLI prints the message
    as a plain line (``onestop: đã hủy …``), without "lỗi"; the exit code is still 130."""
