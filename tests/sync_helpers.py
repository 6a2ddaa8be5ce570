"""Shared set-up for the sync tests: a home pointed at a test ministry server, dossiers, files."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from ministry_server import MinistryServer

APPLICANTS = [
    ("Nguyễn Văn An", "001085012345", "0912345678"),
    ("Trần Thị Bích Ngọc", "033190004567", "0987654321"),
    ("Lê Đức Thắng", "079092003210", "0905111222"),
    ("Phạm Thị Hoa", "036185009876", "0977000111"),
]
PASSWORD = "mat-khau-thu"


def write_sync_config(home: Path, **sync) -> None:
    opts = {"batch_size": 5, "timeout": 1.0, "retries": 3, "backoff": 0.01,
            "dstcode": "VN:GOV:000.00.00.G22:vpcpdvcprovider"}
    opts.update(sync)
    lines = ["[sync]"] + [f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v}" for k, v in opts.items()]
    (home / "onestop.toml").write_text("\n".join(lines).replace("'", '"') + "\n", encoding="utf-8")


def point_at(monkeypatch, url: str) -> None:
    monkeypatch.setenv("ONESTOP_SYNC_URL", url)
    monkeypatch.setenv("ONESTOP_SYNC_USER", "canbo")
    monkeypatch.setenv("ONESTOP_SYNC_PASSWORD", PASSWORD)


def make_dossiers(db, cfg, n: int, *, moves: bool = True) -> list[str]:
    """``n`` dossiers received earlier today (no PDFs); every third moved to 4, every fifth to 4 then 9."""
    from onestop.intake import catalog, dossiers

    procs = [p["code"] for p in catalog.search(db, "", limit=0)]
    start = dossiers.now(cfg) - timedelta(minutes=n + 10)
    codes = []
    for i in range(n):
        name, idn, phone = APPLICANTS[i % len(APPLICANTS)]
        r = dossiers.receive(db, cfg, dossiers.ReceiveRequest(
            procedure_code=procs[i % len(procs)], applicant=dossiers.Applicant(name=name, id_number=idn, phone=phone),
            at=start + timedelta(minutes=i)), render=False)
        codes.append(r["code"])
        if moves and i % 3 == 0:
            dossiers.move(db, cfg, r["code"], "4", note="Chuyển phòng chuyên môn", render=False)
        if moves and i % 5 == 0 and i % 3 == 0:
            dossiers.move(db, cfg, r["code"], "9", render=False)
    return codes


def expected_steps(db) -> dict[str, int]:
    return dict(db.execute(
        "SELECT d.code, count(*) FROM outbox o JOIN dossiers d ON d.id = o.dossier_id WHERE o.kind = 'step' "
        "GROUP BY d.code").fetchall())


def files_table(db) -> str | None:
    from onestop.sync.payloads import files_table as ft

    return ft(db)


def add_file(db, cfg, code: str, component_n: int, content: bytes) -> int:
    """A stored PDF of a component, as the archive records it (row + outbox "file")."""
    from onestop.intake import dossiers
    from onestop.store.sqlite import transaction

    table = files_table(db)
    d = dossiers.resolve_code(db, cfg, code)
    folder = cfg.archive_dir / code
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{code}_{component_n}_{hashlib.sha1(content).hexdigest()[:8]}.pdf"
    path.write_bytes(content)
    row = {"dossier_id": d["id"], "component_n": component_n, "path": str(path),
           "sha256": hashlib.sha256(content).hexdigest(), "size": len(content), "pages": 1, "dpi": 300,
           "created_at": dossiers.iso(dossiers.now(cfg))}
    with transaction(db):
        fid = db.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                              list(row.values())).lastrowid
        db.execute("UPDATE dossier_components SET digitized = 1 WHERE dossier_id = ? AND n = ?", [d["id"], component_n])
        dossiers._outbox(db, d["id"], "file", fid, dossiers.iso(dossiers.now(cfg)))
    return fid


def fake_pdf(i: int, size: int = 4000) -> bytes:
    body = (f"scan {i} ".encode() * (size // 8 + 1))[:size]
    return b"%PDF-1.4\n" + body + b"\n%%EOF\n"


def assert_exactly_once(srv, db) -> None:
    """The server holds every dossier, step and file of the database exactly once."""
    st = srv.state
    codes = [c for (c,) in db.execute("SELECT code FROM dossiers")]
    assert sorted(st.dossiers) == sorted(codes)
    assert all(v == 1 for v in st.creates.values()), {k: v for k, v in st.creates.items() if v != 1}
    exp = expected_steps(db)
    got = {c: len(v) for c, v in st.steps.items()}
    assert got == exp
    for c, lines in st.steps.items():
        keys = [(l["ThoiDiemXuLy"], l["TrangThai"], l["NoiDungXuLy"]) for l in lines]
        assert len(keys) == len(set(keys)), f"duplicate step for {c}"
    table = files_table(db)
    if table:
        shas = {s for (s,) in db.execute(f"SELECT sha256 FROM {table}")}
        assert set(st.files) == shas
        # every record points at the uploaded files of its components
        # (and of its result papers, component_n < 0, in DanhSachGiayToKetQua)
        for code, path_sha, n in db.execute(
                f"SELECT d.code, f.sha256, f.component_n FROM {table} f JOIN dossiers d ON d.id = f.dossier_id"):
            urls = ({t["DuongDanTepTinKetQua"] for t in st.dossiers[code]["DanhSachGiayToKetQua"]} if n < 0
                    else {t["DuongDanTaiTepTin"] for t in st.dossiers[code]["TaiLieuNop"]})
            assert st.files[path_sha]["DuongDan"] in urls, code


@pytest.fixture
def srv():
    """A test ministry server on 127.0.0.1 for one test."""
    with MinistryServer() as s:
        yield s


@pytest.fixture
def env(home, monkeypatch, srv):
    """(cfg, db) of a home configured for ``srv``."""
    from onestop.intake import catalog
    from onestop.common import config
    from onestop.store import connect

    write_sync_config(home)
    point_at(monkeypatch, srv.url)
    cfg = config.load()
    db = connect(cfg)
    catalog.ensure_loaded(db, cfg.catalog_file)
    return cfg, db
