"""P14 of PERFORMANCE.md: online intake (issue 23), against the test portal on 127.0.0.1.

The portal (tests/ministry_server.py with tests/portal.py) runs in its own process with
``BENCH_ONLINE_N`` (200) online dossiers waiting, two PDFs each (a page of text and a scanned-looking
image, ~``BENCH_ONLINE_KB`` KB each).
- pull: ``onestop online pull`` into a new data home (the listing, the records, every file
  downloaded and SHA-256 checked, the queue committed; its own ``seconds``, from the login on, as
  P10 counts the sync) vs a plain httpx loop logging in, listing, reading the records and
  downloading the same files one after the other, each saved with a plain write (bytes/s; median of ``BENCH_ONLINE_RUNS``
  interleaved runs; the process's wall time is logged too);
- accept: ``onestop online accept DVC --json`` (code, Mẫu 01, two files archived, the portal told)
  vs a paper ``onestop receive -c 1 -c 3 --json`` (the same papers: code and Mẫu 01) in the same home,
  interleaved, medians over
  ``BENCH_ONLINE_ACCEPTS`` of each.
Prints ``RESULT|P14|…`` lines (tests/bench/run.py).
"""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path[:0] = [str(REPO / "tests"), str(HERE)]

from common import result  # noqa: E402

N = int(os.environ.get("BENCH_ONLINE_N", "200"))
KB = int(os.environ.get("BENCH_ONLINE_KB", "300"))
RUNS = int(os.environ.get("BENCH_ONLINE_RUNS", "3"))
ACCEPTS = int(os.environ.get("BENCH_ONLINE_ACCEPTS", "15"))
P2 = "1.003604"
# The papers the online dossiers carry (GT01, GT03): the paper receive gets them too, so it issues a code
# and Mẫu 01 as the accept does. Without them it was a Mẫu 02 (papers missing, no code): not a receive.
PAPERS = ("-c", "1", "-c", "3")
USER, PASSWORD = "canbo", "mat-khau-thu"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def citizen_pdf(i: int, k: int) -> bytes:
    """A page of text over a noisy photo-like image (~KB kilobytes), as a citizen uploads."""
    from PIL import Image
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    if "DejaVu" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVu", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"))
    rnd = random.Random(i * 10 + k)
    side = int((KB * 1024 / 3) ** 0.5 * 0.9)
    img = Image.frombytes("RGB", (side, side), rnd.randbytes(side * side * 3))
    jpg = io.BytesIO()
    img.save(jpg, "JPEG", quality=95)
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    c.setFont("DejaVu", 12)
    c.drawString(60, 780, f"Đơn đề nghị số {i} - giấy tờ {k}")
    c.drawImage(ImageReader(io.BytesIO(jpg.getvalue())), 60, 300, width=400, height=400)
    c.showPage()
    c.save()
    return buf.getvalue()


def serve(n: int, conn) -> None:
    """The portal process: ``n`` waiting dossiers, then serve until terminated."""
    from datetime import datetime

    from ministry_server import MinistryServer

    srv = MinistryServer(light=True)
    for i in range(1, n + 1):
        srv.portal.add(f"DVC-2026-{i:06d}", P2, name="Nguyễn Văn An", id_number=f"0010850{i:05d}",
                       submitted=datetime(2026, 12, 1, 8, i % 60),
                       files=[(f"don-{i}.pdf", f"{P2}-GT01", citizen_pdf(i, 1)),
                              (f"xac-nhan-{i}.pdf", f"{P2}-GT03", citizen_pdf(i, 2))])
    conn.send(srv.url)
    srv.httpd.serve_forever()


def env_for(home: Path, url: str) -> dict:
    env = dict(os.environ, ONESTOP_HOME=str(home), ONESTOP_CONFIG_DIR=str(REPO / "config"),
               ONESTOP_SYNC_URL=url, ONESTOP_SYNC_USER=USER, ONESTOP_SYNC_PASSWORD=PASSWORD,
               ONESTOP_OFFICER="Trần Thị Cán Bộ")
    env.pop("ONESTOP_DATABASE_URL", None)
    return env


def plain_download(url: str, folder: Path) -> tuple[float, int]:
    """The baseline: list and read the records, then GET every file with one httpx client and save
    it in ``folder`` (a plain write: no checksum, no fsync)."""
    import httpx

    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with httpx.Client(timeout=60) as c:
        tok = c.post(f"{url}/login", json={"username": USER, "password": PASSWORD}).json()["session"]
        body = {"session": tok, "madonvi": "000.00.12.H26", "isUpdating": "False"}
        listed = c.post(f"{url}/service", json=dict(body, service="LayDanhSachHoSo", data=[{}])).json()["result"]
        urls = []
        ids = [x["MaHoSoDVC"] for x in listed]
        for i in range(0, len(ids), 20):
            recs = c.post(f"{url}/service", json=dict(
                body, service="LayChiTietHoSo", data=[{"MaHoSoDVC": d} for d in ids[i:i + 20]])).json()["result"]
            urls += [f["DuongDanTaiTepTin"] for r in recs for f in r["TaiLieuNop"]]
        total = 0
        for i, u in enumerate(urls):
            data = c.get(u).content
            (folder / f"{i}.pdf").write_bytes(data)
            total += len(data)
    return time.perf_counter() - t0, total


def main() -> int:
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe()
    log(f"P14: seeding {N} online dossiers × 2 PDFs of ~{KB} KB")
    server = ctx.Process(target=serve, args=(N, child), daemon=True)
    server.start()
    url = parent.recv()
    onestop = [sys.executable, "-m", "onestop"]
    try:
        with tempfile.TemporaryDirectory(prefix="p14-") as tmp:
            root = Path(tmp)
            pulls, plains, total = [], [], 0
            for r in range(RUNS):
                home = root / f"pull{r}"
                home.mkdir()
                env = env_for(home, url)
                subprocess.run([*onestop, "procedures", "list"], env=env, check=True, stdout=subprocess.DEVNULL)
                t0 = time.perf_counter()
                out = subprocess.run([*onestop, "online", "pull", "--json"], env=env, check=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
                wall = time.perf_counter() - t0
                pulls.append(json.loads(out)["seconds"])  # from the login on, like the loop's (as P10)
                log(f"  (pull process wall {wall:.2f} s)")
                secs, total = plain_download(url, root / f"plain{r}")
                plains.append(secs)
                log(f"  pull {pulls[-1]:.2f} s, plain loop {secs:.2f} s ({total / 1e6:.1f} MB)")
            got = sum(p.stat().st_size for p in (root / "pull0" / "online").rglob("*.pdf"))
            assert got == total, (got, total)
            pull_bps, plain_bps = total / statistics.median(pulls), total / statistics.median(plains)
            result("P14", f"online pull of {N} dossiers × 2 PDFs ({total / 1e6:.1f} MB), MB/s", pull_bps / 1e6,
                   plain_bps / 1e6, 0.8, unit="MB/s", lower_is_better=False, target_text="≥ 0.8×")

            if not ACCEPTS:
                return 0
            # accept vs a paper receive, interleaved, in the first pull's home. An empty folder of this run
            # on PYTHONPATH: the archive helper is matched by the import path and code (portal_early._stamp),
            # so the first accept finds no warm helper left by an earlier run and forks one.
            pool = root / "helper-pool"
            pool.mkdir()
            env = dict(env_for(root / "pull0", url), PYTHONPATH=str(pool), ONESTOP_HELPER_IDLE="120")
            cold_env = dict(env, ONESTOP_HELPER_IDLE="0")  # no warm helper: each accept forks its own
            acc, rec, cold = [], [], []
            n = 0

            def accept(e) -> float:
                nonlocal n
                n += 1
                t0 = time.perf_counter()
                out = subprocess.run([*onestop, "online", "accept", f"DVC-2026-{n:06d}", "--json"], env=e, check=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
                took_s = time.perf_counter() - t0
                took = json.loads(out)
                assert took["code"] and len(took["files"]) == 2 and took["portal"]["sent"], out
                return took_s

            for i in range(1, ACCEPTS + 1):
                acc.append(accept(env))
                cold.append(accept(cold_env))
                t0 = time.perf_counter()
                out = subprocess.run([*onestop, "receive", "-p", P2, "--name", "Lê Văn Giấy", "--id", f"0790920{i:05d}",
                                      *PAPERS, "--json"], env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
                assert json.loads(out)["code"], out  # a dossier received, with its code and Mẫu 01
                rec.append(time.perf_counter() - t0)
            a, p, c = statistics.median(acc), statistics.median(rec), statistics.median(cold)
            log(f"  accept median {a:.3f} s (the first, helper forked: {acc[0]:.3f} s), each forking its helper "
                f"{c:.3f} s, paper receive median {p:.3f} s")
            result("P14", "online accept DVC --json (code, Mẫu 01, 2 PDFs archived, portal told; one after another) "
                   "vs paper receive --json", a, p, 1.5, target_text="≤ 1.5×")
            result("P14", "online accept DVC --json, each forking its archive helper ([online] helper_idle = 0; info) "
                   "vs paper receive --json", c, p, None, target_text="info: the first accept of a session")
    finally:
        server.terminate()
        server.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
