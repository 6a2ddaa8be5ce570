"""Fee ledger rows (issue 20, docs/fees.md): the fees each dossier owes (``dossier_fees``), every
payment and refund line (``fee_payments``, appended, never edited) and the receipt numbers taken
(``fee_receipts``: its primary key keeps one receipt number per series across every desk)."""

from __future__ import annotations

_ENTRY_COLS = "p.id, p.dossier_id, p.fee_n, p.txn, p.entry, p.method, p.amount, p.receipt, p.online, p.reason, " \
              "p.officer, p.desk, p.at"


def _ph(values) -> str:
    return ", ".join("?" * len(values))


def insert_dues(db, dossier_id: int, dues: list[dict]) -> None:
    """The fees a dossier owes, in order (keys n, code, name, kind, amount, catalog_amount, exempt_reason)."""
    if not dues:
        return
    db.execute("INSERT INTO dossier_fees (dossier_id, n, code, name, kind, amount, catalog_amount, exempt_reason) "
               "VALUES " + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?)"] * len(dues)),
               [v for f in dues for v in (dossier_id, f["n"], f["code"], f["name"], f["kind"], f["amount"],
                                          f["catalog_amount"], f["exempt_reason"])])


def dues_of(db, dossier_ids: list[int]) -> dict[int, list[dict]]:
    """Each dossier's fees in order, keyed by dossier id."""
    out: dict[int, list[dict]] = {}
    if not dossier_ids:
        return out
    for r in db.query("SELECT dossier_id, n, code, name, kind, amount, catalog_amount, exempt_reason FROM dossier_fees "
                      f"WHERE dossier_id IN ({_ph(dossier_ids)}) ORDER BY dossier_id, n", list(dossier_ids)):
        out.setdefault(r["dossier_id"], []).append(dict(r))
    return out


def entries_of(db, dossier_ids: list[int], before: str | None = None) -> dict[int, list[dict]]:
    """Each dossier's ledger lines in the order recorded (``before``: only lines at an earlier time)."""
    out: dict[int, list[dict]] = {}
    if not dossier_ids:
        return out
    sql = f"SELECT {_ENTRY_COLS} FROM fee_payments p WHERE p.dossier_id IN ({_ph(dossier_ids)})"
    params = list(dossier_ids)
    if before is not None:
        sql += " AND p.at < ?"
        params.append(before)
    for r in db.query(sql + " ORDER BY p.id", params):
        out.setdefault(r["dossier_id"], []).append(dict(r))
    return out


def receipt_holder(db, series: str, number: str) -> str | None:
    """The code of the dossier a receipt number of this series was taken for, or None."""
    row = next(db.query("SELECT d.code FROM fee_receipts r JOIN dossiers d ON d.id = r.dossier_id "
                        "WHERE r.series = ? AND r.number = ?", [series, number]), None)
    return row["code"] if row else None


def take_receipt(db, series: str, number: str, dossier_id: int, txn: str) -> bool:
    """Record a receipt number as used; False when the series already has it (another desk, same book).
    The primary key decides, so two desks writing the same number at once cannot both succeed."""
    cur = db.execute("INSERT INTO fee_receipts (series, number, dossier_id, txn) VALUES (?, ?, ?, ?) "
                     "ON CONFLICT (series, number) DO NOTHING RETURNING txn", [series, number, dossier_id, txn])
    return cur.fetchone() is not None


def insert_entries(db, rows: list[dict]) -> None:
    """Append ledger lines (keys dossier_id, fee_n, txn, entry, method, amount, receipt, online, reason,
    officer, desk, at)."""
    cols = ("dossier_id", "fee_n", "txn", "entry", "method", "amount", "receipt", "online", "reason", "officer",
            "desk", "at")
    db.execute(f"INSERT INTO fee_payments ({', '.join(cols)}) VALUES "
               + ", ".join([f"({_ph(cols)})"] * len(rows)), [r[c] for r in rows for c in cols])


def ledger(db, start: str, end: str) -> list[dict]:
    """Every payment and refund line recorded at a time in [start, end), in order, with its dossier's
    code and the fee's code, name and kind."""
    return list(db.query(
        f"SELECT {_ENTRY_COLS}, d.code, f.code AS fee_code, f.name AS fee_name, f.kind AS fee_kind "
        "FROM fee_payments p JOIN dossiers d ON d.id = p.dossier_id "
        "LEFT JOIN dossier_fees f ON f.dossier_id = p.dossier_id AND f.n = p.fee_n "
        "WHERE p.at >= ? AND p.at < ? ORDER BY p.at, p.id", [start, end]))


def owing_ids(db, received_before: str | None = None) -> list[int]:
    """Ids of the dossiers (received before ``received_before`` when given) whose fees were not all paid
    then (now when None): due minus the payments plus the refunds recorded before it above 0. Refused,
    withdrawn and stopped dossiers are left out."""
    sql = ("SELECT f.dossier_id FROM dossier_fees f JOIN dossiers d ON d.id = f.dossier_id "
           "WHERE d.status NOT IN ('3', '7', '8')")
    params: list = []
    if received_before is not None:
        sql += " AND d.received_at < ?"
        params.append(received_before)
    sql += (" GROUP BY f.dossier_id HAVING sum(f.amount) > (SELECT coalesce(sum(CASE WHEN p.entry = 'payment' "
            "THEN p.amount ELSE -p.amount END), 0) FROM fee_payments p WHERE p.dossier_id = f.dossier_id"
            + (" AND p.at < ?)" if received_before is not None else ")"))
    if received_before is not None:
        params.append(received_before)
    return [r["dossier_id"] for r in db.query(sql, params)]


def exempt_ids(db, start: str, end: str) -> list[int]:
    """Ids of the dossiers received in [start, end) with an exempted fee."""
    return [r["dossier_id"] for r in db.query(
        "SELECT DISTINCT f.dossier_id FROM dossier_fees f JOIN dossiers d ON d.id = f.dossier_id "
        "WHERE f.exempt_reason <> '' AND d.received_at >= ? AND d.received_at < ?", [start, end])]


def owing_dossiers(db, columns: list[str], *, start: str | None = None, end: str | None = None,
                   status: str | None = None, limit: int = 0) -> list[dict]:
    """Dossier rows (``columns``) whose fees are not all paid, as ``dossiers.list_dossiers`` lists them
    (received in [start, end), in ``status``), newest first, each with ``fees_outstanding`` in đồng."""
    from onestop.store.dossiers import list_dossiers

    ids = owing_ids(db)
    if not ids:
        return []
    rows = [dict(r) for r in list_dossiers(db, ["id AS _id", *columns], start=start, end=end, status=status,
                                           limit=limit, ids=ids)]
    dues, entries = dues_of(db, [r["_id"] for r in rows]), entries_of(db, [r["_id"] for r in rows])
    for r in rows:
        did = r.pop("_id")
        paid = sum(e["amount"] if e["entry"] == "payment" else -e["amount"] for e in entries.get(did, []))
        r["fees_outstanding"] = sum(f["amount"] for f in dues.get(did, [])) - paid
    return rows
