"""P8 of PERFORMANCE.md: full-text search over 100,000 OCRed pages, p50 ≤ 30 ms in-process,
against the same FTS5 query run directly on the same database. Prints ``RESULT|...`` lines."""

from __future__ import annotations

import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from pages import LINES, SAMPLES  # noqa: E402

PAGES = int(os.environ.get("BENCH_SEARCH_PAGES", 100_000))
PAGES_PER_FILE = 20
QUERIES = ["dang ky hoat dong", "Nguyễn Văn An", "dieu le to chuc", "khoa hoc va cong nghe", "hung yen",
           "giay chung nhan", "tru so chinh", "Đăng ký", "thanh vien sang lap", "chuyen giao cong nghe",
           "ke toan truong", "so dinh danh", "pho noi", "bien ban hop", "\"cam doan\"", "thu nghiem",
           "nghien cuu ung dung", "Trần Thị Bích Ngọc", "quy dinh chung", "van lam"]
EXTRA = ["Biên bản họp hội đồng khoa học", "Quyết định thành lập", "thử nghiệm mẫu vật liệu", "hợp đồng",
         "Phụ lục kèm theo", "Báo cáo tài chính năm 2025", "Giấy phép môi trường", "Sở Tài chính"]


INITIALS = ["b", "c", "ch", "d", "đ", "g", "gi", "h", "k", "kh", "l", "m", "n", "ng", "nh", "p", "ph", "qu", "r",
            "s", "t", "th", "tr", "v", "x", ""]
RHYMES = ["a", "ai", "am", "an", "ang", "anh", "ao", "at", "ac", "ach", "e", "em", "en", "eng", "i", "ich", "im", "in",
          "inh", "it", "o", "oi", "om", "on", "ong", "ot", "u", "ui", "um", "un", "ung", "ut", "uy", "ư", "ưa", "ưng",
          "ươc", "ương"]
TONES = ["", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"]


def vocabulary(rnd: random.Random) -> list[str]:
    """Vietnamese-looking syllables in a Zipf order: the filler of OCRed pages beside the real phrases."""
    import unicodedata

    syl = [unicodedata.normalize("NFC", i + r[0] + t + r[1:]) for i in INITIALS for r in RHYMES for t in TONES]
    rnd.shuffle(syl)
    return syl


def result(pid, what, value, baseline, ratio, target, ok):
    print(f"RESULT|{pid}|{what}|{value}|{baseline}|{ratio}|{target}|{'PASS' if ok else 'FAIL'}", flush=True)


def build(home: Path):
    os.environ["ONESTOP_HOME"] = str(home)
    from onestop.intake import catalog, dossiers
    from onestop.common import config
    from onestop.archive import search
    from onestop.store.sqlite import connect, transaction

    cfg = config.load(officer="bench")
    db = connect(cfg.db_path)
    catalog.ensure_loaded(db, cfg.catalog_file)
    code = dossiers.receive(db, cfg, dossiers.ReceiveRequest(procedure_code="1.003604", applicant=dossiers.Applicant(
        name="Nguyễn Văn An", id_number="001085012345"), components=None), render=False)["code"]
    cols = [c[1] for c in db.execute("PRAGMA table_info(dossiers)")]
    base = dict(zip(cols, db.execute("SELECT * FROM dossiers WHERE code = ?", [code]).fetchone()))
    sentences = LINES + [l for ls in SAMPLES.values() for l in ls] + EXTRA
    names = ["Nguyễn Văn An", "Trần Thị Bích Ngọc", "Lê Đức Thắng", "Phạm Thị Hoa", "Đặng Văn Đức", "Hoàng Minh Tâm"]
    rnd = random.Random(8)
    vocab = vocabulary(rnd)
    weights = [1 / (i + 1) for i in range(len(vocab))]
    # Each file is one kind of document: its few typical sentences, then ordinary text.
    doc_kinds = [rnd.sample(sentences, 4) for _ in range(25)]
    files = PAGES // PAGES_PER_FILE
    t = time.perf_counter()
    with transaction(db):
        for i in range(1, files):
            row = dict(base, id=None, code=f"{base['code'][:-4]}{i:05d}", applicant_name=rnd.choice(names),
                       book_no=i + 1)
            row.pop("id")
            db.conn.execute(f"INSERT INTO dossiers ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
        ids = [r[0] for r in db.execute("SELECT id FROM dossiers ORDER BY id")]
        for did in ids:
            fid = db.conn.execute(
                "INSERT INTO archive_files (dossier_id, component_n, path, sha256, size, pages, created_at) "
                "VALUES (?, 1, ?, '', 0, ?, '2026-11-22')", [did, f"/bench/{did}.pdf", PAGES_PER_FILE]).lastrowid
            kind = rnd.choice(doc_kinds)
            for n in range(1, PAGES_PER_FILE + 1):
                filler = rnd.choices(vocab, weights, k=260)
                lines = [" ".join(filler[i:i + 13]) for i in range(0, len(filler), 13)]
                lines[rnd.randrange(len(lines))] = rnd.choice(kind)
                if n == 1:
                    lines[0:0] = kind[:2]
                text = "\n".join(lines)
                pid = db.conn.execute("INSERT INTO archive_pages (file_id, n, text, confidence) VALUES (?, ?, ?, 95)",
                                      [fid, n, text]).lastrowid
                search.index_page(db, pid, did, text)
    db.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
    search.refresh_dossiers(db)
    n = db.execute("SELECT count(*) FROM archive_pages").fetchone()[0]
    print(f"P8: built {n} pages in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    return db, n


def main():
    root = Path(tempfile.mkdtemp(prefix="onestop-bench-search-"))
    try:
        db, n = build(root / "home")
        from onestop.archive import search

        direct = "SELECT rowid, bm25(search_fts) AS s FROM search_fts WHERE search_fts MATCH ? ORDER BY s LIMIT 20"
        ours, base = [], []
        for q in QUERIES:
            m = search.fts_query(q)
            search.search(db, q)  # warm
            for _ in range(5):
                t = time.perf_counter()
                search.search(db, q, limit=20)
                ours.append(time.perf_counter() - t)
                t = time.perf_counter()
                db.conn.execute(direct, [m]).fetchall()
                base.append(time.perf_counter() - t)
        p50, b50 = statistics.median(ours) * 1000, statistics.median(base) * 1000
        p95 = sorted(ours)[int(len(ours) * 0.95)] * 1000
        result("P8", f"search p50 over {n} pages (20 queries, snippets)", f"{p50:.1f} ms (p95 {p95:.1f})",
               f"{b50:.1f} ms (FTS5 direct)", f"{p50 / b50:.2f}", "p50 ≤ 30 ms", p50 <= 30)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
