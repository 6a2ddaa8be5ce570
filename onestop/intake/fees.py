"""The counter's fee ledger (issue 20, docs/fees.md): the fees a dossier owes at receive, payments and
refunds (``onestop pay``) appended as ledger lines and history events, never edits; a dossier that must
pay before processing (``[fees] collect = "truoc"``) waits in status 6 until paid, then goes on to 4;
what a citizen paid on the portal for an online dossier (:func:`record_portal_payments`)."""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import TYPE_CHECKING, Callable

from onestop.common.config import Config
from onestop.common.errors import DuplicateReceipt, InvalidInput, PaymentRefused
from onestop.common.output import money
from onestop.common.text import clean_field, nfc
from onestop.domain import fees as rules
from onestop.domain import states
from onestop.intake.applicants import officer_name
from onestop.intake.clock import iso, now
from onestop.store import dossiers as dossier_store
from onestop.store import fees as store
from onestop.store import transaction

if TYPE_CHECKING:
    from onestop.intake.catalog import Procedure
    from onestop.store.sqlite import Database

PORTAL_OFFICER = "Cổng Dịch vụ công"  # who recorded a payment the citizen made online


def collect_rule(cfg: Config) -> str:
    """``[fees] collect``: "truoc" (before processing; status 6 until paid) or "sau" (default: at result time)."""
    value = str(cfg.get("fees.collect", "sau") or "sau").strip().lower()
    if value not in rules.COLLECT:
        from onestop.common.errors import ConfigError

        raise ConfigError(f"[fees] collect = '{value}' không hợp lệ: dùng \"truoc\" hoặc \"sau\".",
                          f"[fees] collect = '{value}' is invalid: use \"truoc\" or \"sau\".")
    return value


def parse_fee_amounts(values: list[str]) -> dict[str, int]:
    """``--fee-amount`` values: ``MÃ=SỐ`` (a fee's code or number as `procedures show` lists it) or
    a bare ``SỐ`` for the one fee whose amount the catalog leaves open (key "")."""
    out: dict[str, int] = {}
    for v in values or []:
        key, sep, amount = str(v).rpartition("=")
        out[key.strip() if sep else ""] = rules.money_input(amount, "--fee-amount", "--fee-amount")
    return out


def open_fees(proc: "Procedure", channel: str = "1") -> list[dict]:
    """The fees of ``channel`` whose amount the catalog leaves open ("theo quy định", a range)."""
    return [f for f in proc.fees_for(channel) if rules.parse_amount(f.get("amount")) is None]


def varying_fees(proc: "Procedure", channel: str = "1") -> list[dict]:
    """The fees of ``channel`` whose catalog amount depends on the dossier (``rules.varies``)."""
    return [f for f in proc.fees_for(channel) if rules.varies(f)]


def dues_for(proc: "Procedure", channel: str = "1", exempt: str | None = None,
             amounts: dict[str, int] | None = None) -> list[dict]:
    """The fees a dossier of ``proc`` received on ``channel`` owes: the catalog's amount, the amount
    given for an open one (``amounts``: by fee code, number, or "" for the only open fee), 0 with the
    reason when ``exempt``. InvalidInput names an open fee without an amount."""
    items = proc.fees_for(channel)
    amounts = dict(amounts or {})
    reason = clean_field(exempt, "Lý do miễn (--exempt)", "The exemption reason (--exempt)") if exempt is not None else ""
    if exempt is not None and not reason:
        raise InvalidInput("Cần ghi lý do miễn phí, lệ phí (--exempt \"lý do\").",
                           "An exemption needs its reason (--exempt \"reason\").")
    if exempt is not None and not items:
        raise InvalidInput(f"Thủ tục {proc.code} không có phí, lệ phí nào để miễn.",
                           f"Procedure {proc.code} has no fee to exempt.")
    opened = [f for f in items if rules.parse_amount(f.get("amount")) is None]
    known = {str(f.get("code")) for f in items} | {str(i) for i in range(1, len(items) + 1)}
    unknown = [k for k in amounts if k and k not in known]
    if unknown or ("" in amounts and len(opened) != 1 and not exempt):
        listing = "; ".join(f"{i}. {f.get('code')} {f.get('name')}" for i, f in enumerate(items, 1)) or "không có"
        raise InvalidInput(
            f"--fee-amount '{unknown[0] if unknown else ''}' không khớp phí nào của thủ tục {proc.code} ({listing}). "
            "Dùng --fee-amount MÃ=SỐ_TIỀN.",
            f"--fee-amount '{unknown[0] if unknown else ''}' matches no fee of procedure {proc.code} ({listing}). "
            "Use --fee-amount CODE=AMOUNT.")
    dues = []
    for i, f in enumerate(items, 1):
        catalog_amount = rules.parse_amount(f.get("amount"))
        given = amounts.get(str(f.get("code")), amounts.get(str(i)))
        if given is None and catalog_amount is None and "" in amounts:
            given = amounts[""]
        amount = given if given is not None else catalog_amount
        if amount is None and not reason:
            text = f.get("amount_text") or "theo quy định"
            raise InvalidInput(
                f"Danh mục không ghi số tiền cố định cho '{f.get('name')}' ({text}). Nhập số tiền phải nộp: "
                f"--fee-amount {f.get('code') or i}=SỐ_TIỀN (đồng).",
                f"The catalog gives no fixed amount for '{f.get('name')}' ({text}). Give the amount due: "
                f"--fee-amount {f.get('code') or i}=AMOUNT (đồng).")
        dues.append({"n": i, "code": str(f.get("code") or ""), "name": nfc(f.get("name") or "Lệ phí"),
                     "kind": rules.fee_kind(f.get("name", ""), str(f.get("code") or "")),
                     "amount": 0 if reason else int(amount), "catalog_amount": catalog_amount,
                     "exempt_reason": reason, "unit": str(f.get("unit") or "VNĐ"),
                     # the catalog's figure taken for a fee that depends on the dossier: receive says so
                     "estimated": given is None and not reason and rules.varies(f)})
    return dues


def dues_json(dues: list[dict]) -> str:
    """The dossier's ``fees`` column (what Mẫu 01 prints): integers, the exemption's reason."""
    return json.dumps([{"code": f["code"], "name": f["name"], "kind": f["kind"], "amount": f["amount"], "unit": f.get("unit") or "VNĐ",
                        "exempt_reason": f["exempt_reason"]} for f in dues], ensure_ascii=False)


def record_at_receive(db: "Database", dossier_id: int, dues: list[dict]) -> None:
    """Inside receive's transaction: store the dues (then :func:`hold_until_paid`)."""
    store.insert_dues(db, dossier_id, dues)


def hold_until_paid(db: "Database", cfg: Config, dossier_id: int, dues: list[dict], at: str, officer: str,
                    stamp: str) -> str:
    """Inside receive's transaction, once the dues (``dues``, as recorded) and anything already paid
    (an online dossier's portal payments) are stored: when the fees must be paid before processing and
    some are still owed, the dossier goes to status 6 (an event and a step for the sync). Returns its
    status. Reads the ledger back only then: the usual receive ("sau", or nothing to pay) reads nothing."""
    if not sum(f["amount"] for f in dues) or collect_rule(cfg) != "truoc":
        return "2"
    owed = rules.fee_state(store.dues_of(db, [dossier_id]).get(dossier_id, []),
                           store.entries_of(db, [dossier_id]).get(dossier_id, []))
    if not sum(f["outstanding"] for f in owed):
        return "2"
    dossier_store.update_dossier(db, dossier_id, {"status": "6"})
    ev = dossier_store.add_event(db, dossier_id, at, officer, cfg.unit, "status_6", states.ACTIONS_VI["6"], "2", "6",
                                 {"fees_due": sum(f["outstanding"] for f in owed)})
    dossier_store.queue_outbox(db, dossier_id, "step", ev, stamp)
    return "6"


def summary(dues: list[dict], entries: list[dict]) -> dict:
    """The fees of a dossier as `show` lists them: each fee with due, paid, outstanding, methods and
    receipts; the totals; ``DuocThanhToanTrucTuyen``; the ledger lines."""
    items = rules.fee_state(dues, entries)
    return {"items": items, "due": sum(f["amount"] for f in items), "paid": sum(f["paid"] for f in items),
            "refunded": sum(f["refunded"] for f in items), "outstanding": sum(f["outstanding"] for f in items),
            "online": rules.online_flag(entries),
            "entries": [{k: e[k] for k in ("fee_n", "entry", "method", "amount", "receipt", "reason", "officer", "at")}
                        for e in entries]}


def fees_of(db: "Database", dossier_id: int) -> dict:
    """:func:`summary` of one dossier from the store."""
    return summary(store.dues_of(db, [dossier_id]).get(dossier_id, []),
                   store.entries_of(db, [dossier_id]).get(dossier_id, []))


def _refused(code: str, e: rules.Refused, amount: int | None, receipts: list[str], fee: dict | None = None) -> PaymentRefused:
    if e.why == "paid" and fee is not None:
        return PaymentRefused(
            f"Khoản '{fee['name']}' ({fee['code']}) của hồ sơ {code} đã nộp đủ; không thu lần nữa. Xem 'onestop show {code}'.",
            f"The fee '{fee['name']}' ({fee['code']}) of dossier {code} is paid in full; nothing more is collected. "
            f"See 'onestop show {code}'.")
    if e.why == "paid":
        shown = f" (biên lai {', '.join(receipts)})" if receipts else ""
        return PaymentRefused(
            f"Hồ sơ {code} đã nộp đủ phí, lệ phí{shown}; không thu lần nữa. Xem 'onestop show {code}'.",
            f"Dossier {code} has paid its fees in full{shown}; nothing more is collected. See 'onestop show {code}'.")
    if e.why == "overpay":
        return PaymentRefused(
            f"Hồ sơ {code} chỉ còn phải nộp {money(e.limit)}; không nhận {money(amount)}. Nhập đúng số tiền "
            "(bỏ --amount để thu đủ số còn thiếu).",
            f"Dossier {code} owes only {money(e.limit)}; {money(amount)} is refused. Give the right amount "
            "(leave out --amount to collect what is owed).")
    if e.why == "nothing_paid":
        return PaymentRefused(f"Hồ sơ {code} chưa nộp khoản phí, lệ phí nào: không có gì để hoàn.",
                              f"Dossier {code} has paid no fee: there is nothing to refund.")
    return PaymentRefused(
        f"Hồ sơ {code} mới nộp {money(e.limit)}; không hoàn được {money(amount)}. Hoàn tối đa {money(e.limit)}.",
        f"Dossier {code} has paid {money(e.limit)}; {money(amount)} cannot be refunded. Refund at most {money(e.limit)}.")


def _fee_number(dues: list[dict], fee: str | None, code: str) -> int | None:
    if fee is None or str(fee).strip() == "":
        return None
    for f in dues:
        if str(fee).strip() in (str(f["n"]), f["code"]):
            return f["n"]
    listing = "; ".join(f"{f['n']}. {f['code']} {f['name']}" for f in dues) or "không có"
    raise InvalidInput(f"Hồ sơ {code} không có khoản phí '{fee}' (các khoản: {listing}).",
                       f"Dossier {code} has no fee '{fee}' (its fees: {listing}).")


def pay(db: "Database", cfg: Config, code: str, *, method: str = "tien-mat", amount: int | None = None,
        receipt: str = "", fee: str | None = None, refund: str | None = None, at: datetime | None = None) -> dict:
    """Record a payment (or, with ``refund`` = its reason, a refund) of dossier ``code``'s fees.

    ``amount`` None: everything still owed (a refund: everything paid). A payment at the counter needs
    the official receipt's number (``"mẫu số/ký hiệu/số"``), unique in its series across every desk
    (DuplicateReceipt, exit 26). An overpayment, a second payment of paid fees, a refund above what was
    paid: PaymentRefused (exit 25). Appends the ledger lines and one history event and queues an update
    for the sync, in one transaction; a dossier in status 6 whose fees are now paid moves on to 4.
    """
    from onestop.intake.changes import _check_event_time, lock_for_change
    from onestop.intake.lookup import resolve_for_change
    from onestop.store import desk_name

    seen = resolve_for_change(db, cfg, code)  # a wrong code is said first (exit 3), before what is missing
    code = seen["code"]
    method = rules.check_method(method)
    series = number = printed = ""
    if receipt and str(receipt).strip():
        series, number, printed = rules.parse_receipt(receipt)
    elif refund is None and method != "truc-tuyen":
        raise InvalidInput(
            "Cần số biên lai thu tiền: --receipt \"mẫu số/ký hiệu/số\" như in trên biên lai (vd. \"01BLP2-001/AA-26P/0000123\").",
            "The receipt's number is needed: --receipt \"form/symbol/number\" as printed on it (e.g. \"01BLP2-001/AA-26P/0000123\").")
    reason = ""
    if refund is not None:
        reason = clean_field(refund, "Lý do hoàn (--refund)", "The refund reason (--refund)")
        if not reason:
            raise InvalidInput("Cần ghi lý do hoàn tiền (--refund \"lý do\").", "A refund needs its reason (--refund \"reason\").")
    when = _check_event_time(db, cfg, seen, at or now(cfg))
    officer, unit, desk = officer_name(cfg), cfg.unit, desk_name(cfg)
    txn = os.urandom(8).hex()
    with transaction(db):
        d = lock_for_change(db, seen)
        dues = store.dues_of(db, [d["id"]]).get(d["id"], [])
        if refund is None and dues and all(f["exempt_reason"] for f in dues):
            raise PaymentRefused(f"Hồ sơ {code} được miễn phí, lệ phí ({dues[0]['exempt_reason']}): không thu.",
                                 f"Dossier {code} is exempted from its fees ({dues[0]['exempt_reason']}): nothing to collect.")
        if not any(f["amount"] for f in dues):  # none listed, or the catalog's "Không thu phí" (0 đồng)
            raise PaymentRefused(f"Hồ sơ {code} không có khoản phí, lệ phí nào phải nộp.",
                                 f"Dossier {code} owes no fee.")
        entries = store.entries_of(db, [d["id"]]).get(d["id"], [])
        state = rules.fee_state(dues, entries)
        n = _fee_number(dues, fee, code)
        try:
            parts = (rules.allocate_refund if refund is not None else rules.allocate_payment)(state, amount, n)
        except rules.Refused as e:
            raise _refused(code, e, amount, [r for f in state for r in f["receipts"]],
                           next((f for f in dues if f["n"] == n), None)) from None
        if series and refund is None and not store.take_receipt(db, series, number, d["id"], txn):
            holder = store.receipt_holder(db, series, number)
            raise DuplicateReceipt(
                f"Biên lai số {number} quyển {series} đã được ghi cho hồ sơ {holder}. Mỗi số biên lai chỉ dùng một lần: "
                "kiểm tra lại số in trên biên lai.",
                f"Receipt number {number} of series {series} is already recorded for dossier {holder}. Each receipt "
                "number is used once: check the number printed on the receipt.")
        entry = "refund" if refund is not None else "payment"
        store.insert_entries(db, [{"dossier_id": d["id"], "fee_n": fn, "txn": txn, "entry": entry, "method": method,
                                   "amount": part, "receipt": printed, "online": "", "reason": reason,
                                   "officer": officer, "desk": desk, "at": iso(when)} for fn, part in parts])
        total = sum(p for _, p in parts)
        stamp = iso(now(cfg))
        note = (f"Hoàn {money(total)}: {reason}" if refund is not None else
                f"Thu phí, lệ phí {money(total)} ({rules.METHODS[method][0].lower()}"
                + (f", biên lai {printed})" if printed else ")"))
        dossier_store.add_event(db, d["id"], iso(when), officer, unit, f"fee_{entry}", note, d["status"], d["status"],
                                {"txn": txn, "method": method, "amount": total, "receipt": printed, "reason": reason,
                                 "fees": [[fn, part] for fn, part in parts]})
        after = rules.fee_state(dues, entries + [{"fee_n": fn, "entry": entry, "method": method, "amount": part}
                                                 for fn, part in parts])
        outstanding = sum(f["outstanding"] for f in after)
        status = d["status"]
        if status == "6" and outstanding == 0 and refund is None:
            status = _paid_move_on(db, unit, d, when, officer, stamp)
        else:
            dossier_store.update_dossier(db, d["id"], {"updated_at": stamp})
        dossier_store.queue_outbox(db, d["id"], "update", None, stamp)
    return {"code": code, "entry": entry, "method": method, "amount": total, "receipt": printed, "reason": reason,
            "at": iso(when), "outstanding": outstanding, "paid": sum(f["paid"] for f in after),
            "status": status, "previous_status": d["status"], "fees": [[fn, part] for fn, part in parts]}


def _paid_move_on(db, unit: str, d: dict, when: datetime, officer: str, stamp: str) -> str:
    """6 → 4 once the fees are paid (the move of `onestop move CODE 4`, in the payment's transaction)."""
    states.check_move("6", "4")
    dossier_store.update_dossier(db, d["id"], {"status": "4", "updated_at": stamp})
    ev = dossier_store.add_event(db, d["id"], iso(when), officer, unit, "status_4",
                                 "Đã thực hiện nghĩa vụ tài chính; chuyển hồ sơ đến cơ quan giải quyết", "6", "4")
    dossier_store.queue_outbox(db, d["id"], "step", ev, stamp)
    return "4"


def record_portal_payments(db: "Database", dossier: dict, danh_sach_le_phi: list[dict],
                           duoc_thanh_toan_truc_tuyen: str, clock: Callable[[], datetime] | datetime, *,
                           own_transaction: bool = True) -> dict:
    """Record what the citizen paid on the portal for an online (channel 2) dossier, at its accept.

    ``dossier``: the stored dossier row (``id``, ``code``); ``danh_sach_le_phi``: the portal's
    ``DanhSachLePhi`` items (``MaPhiLePhi``, ``TenPhiLePhi``, ``Gia``, ``LoaiPhiLePhi``);
    ``duoc_thanh_toan_truc_tuyen``: "1" paid on the national portal, "2" through the ministry's gateway,
    "3" (or "") not paid online: then nothing is recorded and the counter collects as usual. Each paid
    item becomes a payment line (method truc-tuyen, no receipt of the counter's books) on the fee with
    the same code (else the same name; a fee the dossier does not list yet is added with the portal's
    amount), so nothing is left to collect for it. Idempotent: an item already paid online is skipped.
    ``clock``: the time of the accept (a datetime or a function returning one). ``own_transaction``
    False: the caller's transaction is open (e.g. the accept's), run inside it.
    Returns ``{"recorded": [(fee n, amount)], "online": flag, "outstanding": đồng}``."""
    flag = str(duoc_thanh_toan_truc_tuyen or "").strip()
    when = clock() if callable(clock) else clock

    def run() -> dict:
        did = dossier["id"]
        dues = store.dues_of(db, [did]).get(did, [])
        entries = store.entries_of(db, [did]).get(did, [])
        recorded: list[tuple[int, int]] = []
        if flag in ("1", "2"):
            added = []
            for item in danh_sach_le_phi or []:
                price = rules.parse_amount(item.get("Gia"))
                if not price:
                    continue
                code, name = str(item.get("MaPhiLePhi") or ""), nfc(item.get("TenPhiLePhi") or "")
                fee = next((f for f in dues if code and f["code"] == code), None) or \
                    next((f for f in dues if name and f["name"] == name), None)
                if fee is None:
                    fee = {"n": len(dues) + 1, "code": code, "name": name or "Lệ phí",
                           "kind": "le_phi" if str(item.get("LoaiPhiLePhi")) == "2" else rules.fee_kind(name, code),
                           "amount": price, "catalog_amount": None, "exempt_reason": ""}
                    dues.append(fee)
                    added.append(fee)
                state = {f["n"]: f for f in rules.fee_state(dues, entries)}[fee["n"]]
                if any(e["fee_n"] == fee["n"] and e["method"] == "truc-tuyen" and e["entry"] == "payment"
                       for e in entries):
                    continue  # recorded at an earlier accept of the same dossier
                part = min(price, state["outstanding"])
                if part:
                    recorded.append((fee["n"], part))
                    entries.append({"fee_n": fee["n"], "entry": "payment", "method": "truc-tuyen", "amount": part,
                                    "online": flag})
            store.insert_dues(db, did, added)
            txn = os.urandom(8).hex()
            if recorded:
                store.insert_entries(db, [{"dossier_id": did, "fee_n": n, "txn": txn, "entry": "payment",
                                           "method": "truc-tuyen", "amount": part, "receipt": "", "online": flag,
                                           "reason": "", "officer": PORTAL_OFFICER, "desk": "", "at": iso(when)}
                                          for n, part in recorded])
                total = sum(p for _, p in recorded)
                row = dossier_store.dossier_for_update(db, did)
                dossier_store.add_event(db, did, iso(when), PORTAL_OFFICER, "", "fee_payment",
                                        f"Đã thanh toán trực tuyến {money(total)}", row["status"], row["status"],
                                        {"txn": txn, "method": "truc-tuyen", "amount": total, "online": flag,
                                         "fees": [list(r) for r in recorded]})
                if row["status"] == "6" and not sum(f["outstanding"] for f in rules.fee_state(dues, entries)):
                    _paid_move_on(db, row["unit"], row, when, PORTAL_OFFICER, iso(when))
                dossier_store.queue_outbox(db, did, "update", None, iso(when))
        after = rules.fee_state(dues, entries)
        return {"recorded": recorded, "online": rules.online_flag(entries),
                "outstanding": sum(f["outstanding"] for f in after)}

    if not own_transaction:
        return run()
    with transaction(db):
        return run()


def owed_warning(db: "Database", code: str) -> str:
    """A line for the officer when a dossier whose result is ready or returned still owes fees; ""
    otherwise."""
    d = dossier_store.dossier_by_code(db, code)
    owed = fees_of(db, d["id"])["outstanding"] if d else 0
    if not owed:
        return ""
    from onestop.common.i18n import t

    return t(f"Lưu ý: hồ sơ {code} còn phải nộp {money(owed)} phí, lệ phí. Thu khi trả kết quả: onestop pay {code} "
             "--receipt \"mẫu số/ký hiệu/số\".",
             f"Note: dossier {code} still owes {money(owed)} in fees. Collect them with the result: onestop pay {code} "
             "--receipt \"form/symbol/number\".")
