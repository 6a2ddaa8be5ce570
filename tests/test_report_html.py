"""`onestop report --html`: one self-contained page, opened in headless Chromium (Debian `chromium`)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from test_backlog import P5, P5B, build_month

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def page(run, db, cfg, tmp_path):
    build_month(db, cfg)
    out = tmp_path / "bao-cao.html"
    r = run("report", "--period", "2026-10", "--html", out)
    assert r.exit_code == 0, r.output
    assert r.stdout == ""  # --html alone writes the file only
    assert str(out) in r.stderr
    return out


def test_self_contained(page):
    html = page.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html)  # no network
    assert "<script" not in html and "@page" in html and "A4" in html
    assert html.count("<svg") == 6  # timeliness, received, in progress, fees by method, reuse rate, online share
    assert 'class="chart bar online"' in html
    assert 'data-figure="online_target"><td>Mục tiêu hồ sơ trực tuyến</td><td class="num">50%</td>' in html
    assert 'data-figure="online_rate"><td>Tỷ lệ hồ sơ trực tuyến</td><td class="num">14,3%</td>' in html
    assert 'data-figure="received"' in html and "BÁO CÁO" not in html  # the title keeps its case
    assert "Báo cáo tình hình giải quyết thủ tục hành chính từ 01/10/2026 đến 31/10/2026" in html
    # Vietnamese figures, sub-rows indented, no path of the source repository in the footer.
    assert re.search(r'<tr data-figure="on_time_rate"><td>[^<]*</td><td class="num">\d+(,\d)?%</td>', html)
    assert 'data-figure="digitization_target"><td>Mục tiêu số hóa</td><td class="num">80%</td>' in html
    assert '<tr data-figure="late" class="sub"><td>Quá hạn</td>' in html
    assert '<tr data-figure="in_progress_overdue" class="sub"><td>Quá hạn</td>' in html
    assert "tr.sub td:first-child" in html
    footer = html[html.index("<footer>"):]
    assert "docs/" not in footer and ".md" not in footer and "766/QĐ-TTg" in footer


@pytest.mark.skipif(CHROMIUM is None, reason="needs the Debian package chromium")
def test_chromium_renders_tables_and_charts(page, tmp_path):
    from PIL import Image

    png = tmp_path / "shot.png"
    p = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=1000,1600", f"--screenshot={png}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    dom = p.stdout
    # the figures as the browser parsed them
    cells = dict(re.findall(r'<tr data-figure="([a-z_.0-9]+)"[^>]*><td>[^<]*</td><td class="num">([^<]*)</td></tr>', dom))
    assert cells["received"] == "14" and cells["carried_over"] == "2" and cells["resolved"] == "7"
    assert (cells["early"], cells["on_time"], cells["late"]) == ("2", "2", "3")
    assert cells["digitization_rate"] == "42,9%" and cells["sync_rate"] == "28,6%"
    assert f'data-procedure="{P5}"' in dom and f'data-procedure="{P5B}"' in dom
    # charts: the pie's three slices and one bar per procedure received
    slices = re.findall(r'class="slice" data-label="([^"]+)" data-value="(\d+)"', dom)
    assert slices == [("Trước hạn", "2"), ("Đúng hạn", "2"), ("Quá hạn", "3")]
    received = dom[dom.index('class="chart bar received"'):dom.index('class="chart bar in-progress"')]
    bars = dict(re.findall(r'class="bar" data-label="([^"]+)" data-value="(\d+)"', received))
    assert bars == {P5: "10", P5B: "3", "1.003593": "1"}
    # the screenshot is not blank: the chart colours are on it
    img = Image.open(png).convert("RGB")
    colors = img.getcolors(maxcolors=1_000_000)
    assert len(colors) > 50
    present = {c for _, c in colors}
    assert (46, 125, 50) in present and (198, 40, 40) in present and (21, 101, 192) in present
