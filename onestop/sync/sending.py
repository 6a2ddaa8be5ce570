"""Sending items to the server without sending anything twice: each item's outcome, and the rules
for what may already be there. Used by the outbox loop (outbox.py) and by a spool's delivery
(spool_delivery.py).

Records (``DongBoHoSoMC``) are idempotent; a request refused as a whole is halved until the bad item
is found, so it does not hold back the others. Creates answered "đã tồn tại" are checked with
``TraCuuHoSo`` first: the same dossier (a lost answer) is resent as an update (a full record,
idempotent); another dossier under the same code (two offices configured with one agency code) is
never overwritten, the entry is held with ``COLLISION``. Steps (``CapNhatTienDoHoSoMC``) are the only
non-idempotent call: a step that may have been applied without an answer (lost answer, kill -9) is
looked up with ``TraCuuHoSo`` and only the missing ones are resent.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from onestop.sync.payloads import step_key
from onestop.sync.redact import redact
from onestop.sync.transport import Rejected, Temporary

log = logging.getLogger("onestop.sync")

SENT, ALREADY, FAILED = "sent", "already", "failed"

# The reason stored on a create whose code the server already holds for another dossier.
COLLISION = "mã hồ sơ đã được dùng cho hồ sơ khác: kiểm tra mã cơ quan"


@dataclass
class Stats:
    """What a run did, for the summary on stderr and the sync_runs row."""

    sent: Counter = field(default_factory=Counter)      # by kind
    already: Counter = field(default_factory=Counter)   # by kind
    failed: Counter = field(default_factory=Counter)    # by reason
    failures: list = field(default_factory=list)        # (code, kind, reason), capped
    held: int = 0
    waiting_spool: int = 0       # entries of dossiers with entries still on a spool (url runs)
    resent_in_doubt: int = 0
    unreachable: str = ""

    def fail(self, code: str, kind: str, reason: str) -> None:
        reason = redact(reason)
        self.failed[reason] += 1
        if len(self.failures) < 200:
            self.failures.append((code, kind, reason))

    def as_dict(self) -> dict:
        return {"sent": sum(self.sent.values()), "already": sum(self.already.values()),
                "failed": sum(self.failed.values()), "sent_by_kind": dict(self.sent),
                "already_by_kind": dict(self.already), "failed_by_reason": dict(self.failed),
                "failures": [{"code": c, "kind": k, "reason": r} for c, k, r in self.failures],
                "held": self.held, "waiting_spool": self.waiting_spool, "resent_in_doubt": self.resent_in_doubt,
                "unreachable": redact(self.unreachable)}


class Unreachable(Exception):
    """The server stayed unreachable after the retries: stop the run, try again later."""


def answer_ok(code) -> bool:
    """The server's error_code says accepted (0 or absent)."""
    return str(code if code is not None else 0) == "0"


def _exists(item: dict) -> bool:
    msg = str(item.get("message", "")).lower()
    return str(item.get("error_code")) in ("3", "-3") or "đã tồn tại" in msg or "already exist" in msg


def _call(transport, service: str, items: list[dict], *, updating: bool) -> tuple[dict, bool]:
    """One request with the transport's retries; also says whether an earlier attempt of it went
    unanswered (a timeout, a dropped connection: the server may have applied it)."""
    lost = False
    for attempt in range(transport.retries + 1):
        try:
            return transport.service_once(service, items, updating=updating), lost
        except Rejected as e:
            return {"error_code": e.code or 1, "message": e.message}, lost
        except Temporary as e:
            lost = True
            if attempt >= transport.retries:
                raise Unreachable(str(e)) from None
            log.warning("temporary failure (%s), retry %d", e, attempt + 1)
            transport.pause(attempt)
    raise AssertionError("unreachable")


def send_items(transport, service: str, items: list[dict], *, updating: bool,
               in_doubt: list[bool] | None = None) -> list[tuple]:
    """Send ``items`` (idempotent service) and return one outcome per item, in order:
    (SENT,) / (ALREADY,) / (FAILED, reason). A whole-request rejection is bisected so one bad item
    does not hold back the others.

    A create answered "đã tồn tại" is ours only if an earlier attempt of it may have reached the
    server without its answer: ``in_doubt[i]`` (an earlier run, a spool) or a retry inside this
    call. Then it is looked up and resent as an update (unless the server shows another dossier).
    On a first attempt the code belongs to another dossier (two offices with one agency code): the
    create is held with ``COLLISION``, nothing is overwritten. ``in_doubt`` None: every item."""
    if not items:
        return []
    doubt = list(in_doubt) if in_doubt is not None else [True] * len(items)
    body, lost = _call(transport, service, items, updating=updating)
    outs = _outcomes(body, items)
    if outs is None:  # the whole request refused
        if len(items) > 1:
            mid = len(items) // 2
            return (send_items(transport, service, items[:mid], updating=updating,
                               in_doubt=[d or lost for d in doubt[:mid]])
                    + send_items(transport, service, items[mid:], updating=updating,
                                 in_doubt=[d or lost for d in doubt[mid:]]))
        return [(FAILED, answer_reason(body))]
    if service == "DongBoHoSoMC" and not updating:
        again = [i for i, o in enumerate(outs) if o[0] == "exists"]
        first = [i for i in again if not (doubt[i] or lost)]
        for i in first:  # no attempt of ours can have put it there
            outs[i] = (FAILED, f"{COLLISION} ({outs[i][1]})")
            log.warning("create %s: answered 'already exists' on its first attempt; another dossier holds "
                        "this code on the server; held", items[i].get("MaHoSo"))
        again = [i for i in again if i not in first]
        if again:
            verdict = same_on_server(transport, [items[i] for i in again])
            resend = []
            for i, same in zip(again, verdict):
                if same is False:  # another dossier holds the code there: overwriting it would merge two citizens
                    outs[i] = (FAILED, COLLISION)
                    log.warning("create %s: the server holds another dossier under this code; held", items[i].get("MaHoSo"))
                else:
                    if same is None:
                        log.warning("create %s: already on the server after an unanswered attempt of ours, and "
                                    "TraCuuHoSo does not say whose; resent as an update", items[i].get("MaHoSo"))
                    resend.append(i)
            res = send_items(transport, service, [items[i] for i in resend], updating=True)
            for i, o in zip(resend, res):
                outs[i] = (ALREADY,) if o[0] == SENT else o
    return [(FAILED, "đã tồn tại") if o[0] == "exists" else o for o in outs]


# What tells two dossiers apart when the server already holds a code: the applicant, the procedure
# and the receipt time. A lost answer resends exactly the same values.
IDENTITY = ("ChuHoSo", "MaTTHC", "NgayTiepNhan")


def _norm(value) -> str:
    import unicodedata

    return " ".join(unicodedata.normalize("NFC", str(value)).casefold().split())


def same_dossier(ours: dict, theirs: dict) -> bool | None:
    """True when the server's record is ours, False when it is another dossier, None when the
    server's answer carries none of the identifying fields."""
    checks = [_norm(ours.get(k, "")) == _norm(theirs[k]) for k in IDENTITY if str(theirs.get(k) or "").strip()]
    return all(checks) if checks else None


def same_on_server(transport, items: list[dict]) -> list[bool | None]:
    """``same_dossier`` for each item, from one ``TraCuuHoSo`` call (None where it cannot tell)."""
    try:
        known = transport.lookup([str(it.get("MaHoSo")) for it in items])
    except Rejected:
        known = None
    except Temporary as e:
        raise Unreachable(str(e)) from None
    if not known:
        return [None] * len(items)
    return [same_dossier(it, known[str(it.get("MaHoSo"))]) if str(it.get("MaHoSo")) in known else None
            for it in items]


def answer_reason(body: dict) -> str:
    """A refusal as stored and shown: ``[code] message``, personal numbers masked, bounded."""
    msg = " ".join(redact(body.get("message") or "").split())[:160]
    return f"[{body.get('error_code')}] {msg}".strip()


def _outcomes(body: dict, items: list[dict]) -> list[tuple] | None:
    results = body.get("results")
    if not results:
        if answer_ok(body.get("error_code")):
            return [(SENT,)] * len(items)
        return None
    if len(results) == len(items):
        aligned = results
    else:  # by code; a code missing from the results was accepted
        by_code = {}
        for r in results:
            by_code.setdefault(str(r.get("MaHoSo")), r)
        aligned = [by_code.get(str(it.get("MaHoSo")), {"error_code": 0}) for it in items]
    out = []
    for r in aligned:
        if answer_ok(r.get("error_code")):
            out.append((SENT,))
        elif _exists(r):
            out.append(("exists", answer_reason(r)))
        else:
            out.append((FAILED, answer_reason(r)))
    return out


def applied_in_doubt(transport, doubtful: list[dict], done_by_code: dict[str, list[dict]]) -> list[bool | None]:
    """For steps that may already be on the server: True applied, False not, None cannot tell.

    The server's ``TraCuuHoSo`` answer lists the progress lines it holds (``QuaTrinhXuLy``);
    lines already acknowledged to us are subtracted, what remains was applied without an answer."""
    codes = list(dict.fromkeys(r["MaHoSo"] for r in doubtful))
    try:
        known = transport.lookup(codes)
    except Rejected:
        known = None
    except Temporary as e:
        raise Unreachable(str(e)) from None
    if known is None:
        return [None] * len(doubtful)
    remaining: dict[str, Counter] = {}
    out: list[bool | None] = []
    for rec in doubtful:
        code = rec["MaHoSo"]
        item = known.get(code)
        if item is None:
            out.append(False)
            continue
        lines = item.get("QuaTrinhXuLy")
        if not isinstance(lines, list):
            out.append(None)
            continue
        if code not in remaining:
            c = Counter(step_key(dict(l, MaHoSo=code)) for l in lines)
            c.subtract(step_key(d) for d in done_by_code.get(code, []))
            remaining[code] = c
        k = step_key(rec)
        if remaining[code][k] > 0:
            remaining[code][k] -= 1
            out.append(True)
        else:
            out.append(False)
    return out


def send_steps(transport, steps: list[dict], *, mark_attempt, is_doubtful: list[bool], done_by_code,
               on_applied, stats: Stats) -> list[tuple]:
    """Send progress lines without ever sending one twice.

    ``mark_attempt(indexes)`` must durably record that those steps are about to go out;
    ``done_by_code()`` gives the lines already acknowledged, per code, for the doubt check.
    Returns outcomes per step: SENT / ALREADY (found on the server) / FAILED."""
    outs: list[tuple | None] = [None] * len(steps)
    doubt = list(is_doubtful)
    attempt = 0
    while True:
        todo = [i for i in range(len(steps)) if outs[i] is None]
        if not todo:
            return outs
        check = [i for i in todo if doubt[i]]
        if check:
            done = {k: list(v) for k, v in done_by_code().items()}
            for i, o in enumerate(outs):  # resolved earlier in this call, not yet in the database
                if o is not None and o[0] != FAILED:
                    done.setdefault(steps[i]["MaHoSo"], []).append(steps[i])
            verdict = applied_in_doubt(transport, [steps[i] for i in check], done)
            for i, v in zip(check, verdict):
                if v is True:
                    outs[i] = (ALREADY,)
                    on_applied(i)
                elif v is None:
                    stats.resent_in_doubt += 1
                    log.warning("cannot tell whether step of %s reached the server; resending", steps[i]["MaHoSo"])
            todo = [i for i in todo if outs[i] is None]
            if not todo:
                return outs
        mark_attempt(todo)
        for i in todo:
            doubt[i] = True
        try:
            body = transport.service_once("CapNhatTienDoHoSoMC", [steps[i] for i in todo], updating=False)
        except Temporary as e:
            if attempt >= transport.retries:
                raise Unreachable(str(e)) from None
            log.warning("temporary failure sending steps (%s); checking the server before resending", e)
            transport.pause(attempt)
            attempt += 1
            continue
        except Rejected as e:
            body = {"error_code": e.code or 1, "message": e.message}
        res = _outcomes(body, [steps[i] for i in todo])
        if res is None:
            if len(todo) == 1:
                outs[todo[0]] = (FAILED, answer_reason(body))
                continue
            # refused as a whole: nothing was applied; send halves to find the bad line
            mid = len(todo) // 2
            for part in (todo[:mid], todo[mid:]):
                sub = send_steps(transport, [steps[i] for i in part], mark_attempt=lambda ix, p=part: None,
                                 is_doubtful=[False] * len(part), done_by_code=done_by_code,
                                 on_applied=lambda j, p=part: on_applied(p[j]), stats=stats)
                for i, o in zip(part, sub):
                    outs[i] = o
            continue
        for i, o in zip(todo, res):
            outs[i] = (FAILED, "đã tồn tại") if o[0] == "exists" else o
