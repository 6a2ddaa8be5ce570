"""An online dossier's fees at its take (issues 20 and 23): what the citizen paid on the portal is
recorded as paid online in the take's own transaction, nothing is collected again, a dossier that
must pay first waits in status 6 only if something is still owed; `receive` refuses channel 2."""

from __future__ import annotations

import json

import pytest

from ministry_server import MinistryServer
from online_helpers import text_pdf
from sync_helpers import point_at, write_sync_config
from test_fees import catalog, pay, receive  # noqa: F401 - the fee catalog fixture
from test_fees_report import PORTAL_ITEMS

UNPAID_ITEMS = [dict(x, HinhThucThu="") for x in PORTAL_ITEMS]


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setenv("ONESTOP_NOW", "2026-11-30 16:00")


@pytest.fixture
def srv(home, monkeypatch):
    with MinistryServer() as s:
        write_sync_config(home)
        with (home / "onestop.toml").open("a", encoding="utf-8") as f:
            f.write('\n[fees]\ncollect = "truoc"\n')
        point_at(monkeypatch, s.url)
        yield s


def _ok(r):
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout) if r.stdout.strip().startswith(("{", "[")) else r


def _seed(portal, dvc: str, paid: bool) -> None:
    portal.add(dvc, "9.000001", name="Nguyễn Thị Hương", id_number="001185012345",
               files=[("don.pdf", "GT01", text_pdf(f"Đơn đề nghị {dvc}"))],
               fees=PORTAL_ITEMS if paid else UNPAID_ITEMS, paid=paid)


def test_paid_on_the_portal_is_not_collected_again_and_does_not_wait(run, catalog, srv, rows):  # noqa: F811
    _seed(srv.portal, "DVC-PAID", True)
    _seed(srv.portal, "DVC-UNPAID", False)
    _ok(run("online", "pull"))
    paid = _ok(run("online", "accept", "DVC-PAID", "--json"))
    unpaid = _ok(run("online", "accept", "DVC-UNPAID", "--json"))
    # [fees] collect = "truoc": only the dossier that still owes waits for its fees (status 6)
    assert (paid["status"], unpaid["status"]) == ("2", "6")
    shown = _ok(run("show", paid["code"], "--json"))
    assert shown["status"] == "2" and shown["fee_totals"]["outstanding"] == 0 and shown["fee_totals"]["online"] == "1"
    assert [(f["code"], f["paid"], f["methods"]) for f in shown["fees"]] == [
        ("PHI-01", 1200000, ["truc-tuyen"]), ("LEPHI-01", 200000, ["truc-tuyen"])]
    assert [a for (a,) in rows("SELECT e.action FROM events e JOIN dossiers d ON d.id = e.dossier_id "
                               f"WHERE d.code = '{paid['code']}' ORDER BY e.id")] == ["receive", "fee_payment", "digitize"]
    r = pay(run, paid["code"], "--receipt", "01BLP2-001/AA-26P/5")
    assert r.exit_code == 25  # nothing left to collect at the counter
    owed = _ok(run("show", unpaid["code"], "--json"))
    assert owed["status"] == "6" and owed["fee_totals"]["outstanding"] == 1400000
    _ok(pay(run, unpaid["code"], "--receipt", "01BLP2-001/AA-26P/6"))
    assert _ok(run("show", unpaid["code"], "--json"))["status"] == "4"  # paid at the counter: on to processing

    _ok(run("sync"))
    assert srv.portal.taken() == {"DVC-PAID": paid["code"], "DVC-UNPAID": unpaid["code"]}
    assert srv.portal.violations == []
    sent = srv.state.dossiers
    assert sent[paid["code"]]["DuocThanhToanTrucTuyen"] == "1"
    assert [(x["Gia"], x["HinhThucThu"]) for x in sent[paid["code"]]["DanhSachLePhi"]] == [("1200000", "3"), ("200000", "3")]
    assert sent[unpaid["code"]]["DuocThanhToanTrucTuyen"] == "3"
    assert [x["HinhThucThu"] for x in sent[unpaid["code"]]["DanhSachLePhi"]] == ["1", "1"]
    led = _ok(run("fees", "report", "--period", "2026-11", "--json"))
    assert sorted((x["code"], x["method"], x["amount"]) for x in led["lines"]) == sorted([
        (paid["code"], "truc-tuyen", 1200000), (paid["code"], "truc-tuyen", 200000),
        (unpaid["code"], "tien-mat", 1200000), (unpaid["code"], "tien-mat", 200000)])
    rep = _ok(run("report", "--period", "2026-11", "--json"))
    assert rep["received_by_channel"]["2"] == 2 and rep["fees"]["collected"] == 2800000


def test_receive_refuses_an_online_dossier(run, catalog, rows):  # noqa: F811
    r = receive(run, "--channel", "2", ok=False)
    assert r.exit_code == 4 and "onestop online accept" in r.stderr
    assert rows("SELECT count(*) FROM dossiers") == [(0,)]
