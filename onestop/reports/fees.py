"""Fee figures of the period report and the ledger an accountant reconciles with the receipt books
(issue 20, docs/fees.md): collected by kind and by method, refunds, outstanding, exemptions, and the
online payment share beside ``[report] online_payment_target`` (QĐ 1205/QĐ-BKHCN: 45% of payment
transactions). The report's money and the ledger's totals come from the same ledger lines, so they
agree to the đồng."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from onestop.common.config import Config
from onestop.common.i18n import t
from onestop.common.output import money
from onestop.domain import fees as rules
from onestop.store import fees as store

if TYPE_CHECKING:
    from onestop.store.sqlite import Database

ONLINE_PAYMENT_TARGET = 0.45


def online_target(cfg: Config) -> float:
    """``[report] online_payment_target``: a share (0.45) or a percentage (45)."""
    v = float(cfg.get("report.online_payment_target", ONLINE_PAYMENT_TARGET) or 0)
    return round(v / 100, 4) if v > 1 else v


def figures(db: "Database", cfg: Config, lo: str, hi: str) -> dict:
    """The fee figures of [lo, hi) (ISO days or times): money from the ledger lines recorded in it;
    ``outstanding`` what dossiers received before ``hi`` still owed at ``hi``; the online share is the
    payment transactions (one per `pay` or portal payment) made online over all of them."""
    lines = store.ledger(db, lo, hi)
    by_kind = {k: 0 for k in rules.KINDS}
    by_method = {m: 0 for m in rules.METHODS}
    collected = refunded = 0
    txns: dict[str, str] = {}
    refunds = set()
    for e in lines:
        if e["entry"] == "payment":
            collected += e["amount"]
            by_kind[e["fee_kind"] or "phi"] = by_kind.get(e["fee_kind"] or "phi", 0) + e["amount"]
            by_method[e["method"]] += e["amount"]
            txns[e["txn"]] = e["method"]
        else:
            refunded += e["amount"]
            refunds.add(e["txn"])
    owing = store.owing_ids(db, received_before=hi)
    dues, entries = store.dues_of(db, owing), store.entries_of(db, owing, before=hi)
    outstanding = sum(f["outstanding"] for did in owing for f in rules.fee_state(dues.get(did, []), entries.get(did, [])))
    online = sum(1 for m in txns.values() if m == "truc-tuyen")
    return {
        "collected": collected, "collected_by_kind": by_kind, "collected_by_method": by_method,
        "refunded": refunded, "refunds": len(refunds), "net": collected - refunded,
        "outstanding": outstanding, "dossiers_owing": len(owing),
        "exempted": len(store.exempt_ids(db, lo, hi)),
        "payments": len(txns), "online_payments": online,
        "online_payment_rate": round(online / len(txns), 4) if txns else None,
        "online_payment_target": online_target(cfg),
    }


LABELS = {
    "collected": ("Phí, lệ phí đã thu", "Fees collected"),
    "collected_by_kind.phi": ("  Phí", "  Fees (phí)"),
    "collected_by_kind.le_phi": ("  Lệ phí", "  Charges (lệ phí)"),
    "collected_by_method.tien-mat": ("  Tiền mặt", "  Cash"),
    "collected_by_method.chuyen-khoan": ("  Chuyển khoản", "  Bank transfer"),
    "collected_by_method.truc-tuyen": ("  Trực tuyến", "  Online"),
    "refunded": ("Đã hoàn trả", "Refunded"),
    "net": ("Thực thu (đã thu − hoàn trả)", "Net (collected − refunded)"),
    "outstanding": ("Còn phải thu cuối kỳ", "Outstanding at the period end"),
    "dossiers_owing": ("  Số hồ sơ còn nợ phí", "  Dossiers owing"),
    "exempted": ("Hồ sơ được miễn phí, lệ phí", "Dossiers exempted"),
    "payments": ("Số giao dịch thanh toán", "Payment transactions"),
    "online_payments": ("  Thanh toán trực tuyến", "  Paid online"),
    "online_payment_rate": ("Tỷ lệ thanh toán trực tuyến", "Online payment share"),
    "online_payment_target": ("Mục tiêu thanh toán trực tuyến", "Online payment target"),
}
MONEY = {"collected", "refunded", "net", "outstanding"}


def raw(f: dict, key: str):
    """A figure by its dotted key ("collected_by_method.tien-mat")."""
    head, _, sub = key.partition(".")
    return f[head][sub] if sub else f[head]


def lines(f: dict) -> list[tuple[str, str, str]]:
    """(key "fees.…", label, formatted value) for the report's table, TSV, Excel and HTML."""
    out = []
    for k, (vi, en) in LABELS.items():
        v = raw(f, k)
        shown = ("—" if v is None else f"{v * 100:.1f}%") if k.endswith(("_rate", "_target")) else \
            money(v) if (k in MONEY or k.startswith("collected_by")) else str(v)
        out.append((f"fees.{k}", t(vi, en), shown))
    return out


def csv_rows(f: dict) -> list[dict]:
    """The report's long CSV rows (``figure, key, value``) of the fee figures: amounts in whole đồng."""
    rows = []
    for k in LABELS:
        head, _, sub = k.partition(".")
        v = raw(f, k)
        rows.append({"figure": f"fees_{head}", "key": sub, "value": "" if v is None else v})
    return rows


def chart_svg(f: dict) -> str:
    """The HTML report's chart: collected by method, and the online share beside its target."""
    from onestop.reports.charts import bar_svg

    rate = f["online_payment_rate"]
    share = "—" if rate is None else f"{rate * 100:.1f}%".replace(".", ",")
    target = f"{f['online_payment_target'] * 100:.0f}%"
    return bar_svg([(t(*LABELS[f"collected_by_method.{m}"]).strip(), f["collected_by_method"][m]) for m in rules.METHODS],
                   title=t(f"Phí, lệ phí theo hình thức thu (trực tuyến {share} giao dịch; mục tiêu {target})",
                           f"Fees by method (online {share} of payments; target {target})"),
                   color="#6a1b9a", css_class="chart bar fees")


# ---------------------------------------------------------------- the ledger

LEDGER_COLUMNS = [("at", "Thời điểm", "Time"), ("code", "Mã hồ sơ", "Dossier code"),
                  ("fee_code", "Mã phí", "Fee code"), ("fee_name", "Khoản thu", "Fee"),
                  ("fee_kind", "Loại", "Kind"), ("entry", "Nghiệp vụ", "Entry"), ("method", "Hình thức", "Method"),
                  ("receipt", "Biên lai (mẫu số/ký hiệu/số)", "Receipt"), ("amount", "Số tiền (đồng)", "Amount (đồng)"),
                  ("reason", "Lý do", "Reason"), ("officer", "Cán bộ thu", "Officer"), ("desk", "Quầy", "Desk")]
DAY_COLUMNS = [("day", "Ngày", "Day"), ("collected", "Đã thu", "Collected"), ("refunded", "Hoàn trả", "Refunded"),
               ("net", "Thực thu", "Net"), ("tien-mat", "Tiền mặt", "Cash"), ("chuyen-khoan", "Chuyển khoản", "Transfer"),
               ("truc-tuyen", "Trực tuyến", "Online"), ("lines", "Số dòng", "Lines")]


def ledger(db: "Database", cfg: Config, first: date, last: date) -> dict:
    """Every payment and refund line of [first, last] (local days) in the order recorded, a refund's
    amount negative, with the totals per day and for the period."""
    lo, hi = first.isoformat(), (last + timedelta(days=1)).isoformat()
    rows, days = [], {}
    for e in store.ledger(db, lo, hi):
        signed = e["amount"] if e["entry"] == "payment" else -e["amount"]
        rows.append({"at": e["at"], "code": e["code"], "fee_code": e["fee_code"] or "", "fee_name": e["fee_name"] or "",
                     "fee_kind": e["fee_kind"] or "", "entry": e["entry"], "method": e["method"],
                     "receipt": e["receipt"], "amount": signed, "reason": e["reason"], "officer": e["officer"],
                     "desk": e["desk"]})
        day = datetime.fromisoformat(e["at"]).date().isoformat()
        d = days.setdefault(day, {"day": day, "collected": 0, "refunded": 0, "net": 0, "tien-mat": 0,
                                  "chuyen-khoan": 0, "truc-tuyen": 0, "lines": 0})
        d["collected" if signed > 0 else "refunded"] += abs(signed)
        d["net"] += signed
        d[e["method"]] += signed
        d["lines"] += 1
    total = {k: sum(d[k] for d in days.values()) for k in ("collected", "refunded", "net", "tien-mat", "chuyen-khoan",
                                                           "truc-tuyen", "lines")}
    return {"from": lo, "to": last.isoformat(), "lines": rows, "days": list(days.values()), "total": total}
