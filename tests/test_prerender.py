"""The receipt helper (onestop/intake/prerender.py) is observable: `receive --debug` says who rendered the
receipt, so a broken helper cannot hide behind its in-process fallback; and a helper that dies
still gives the citizen a receipt, rendered in-process, saying why."""

import json
import os
import signal
import subprocess
import sys

import pypdf

from test_forms import CTX, make_dossier

RECEIVE = ["receive", "-p", "1.003584", "--name", "Nguyễn Văn An", "--id", "001085012345", "--all-components",
           "--json"]


def receive(home, env=None, args=RECEIVE):
    e = dict(os.environ, ONESTOP_HOME=str(home), ONESTOP_NOW="2026-11-30 10:00", **(env or {}))
    r = subprocess.run([sys.executable, "-m", "onestop", "--lang", "en", "--debug", *args],
                       capture_output=True, text=True, env=e)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout), r.stderr


def text(path):
    return " ".join("".join(p.extract_text() for p in pypdf.PdfReader(path).pages).split())


def test_receive_uses_the_helper_and_says_so(home):
    out, err = receive(home)
    assert "Mẫu 01 rendered by helper" in err, err
    assert out["code"] in text(out["receipt"])


def test_receive_without_the_helper_says_why(home):
    out, err = receive(home, {"ONESTOP_NO_PRERENDER": "1"})
    assert "Mẫu 01 rendered by in-process (helper disabled" in err, err
    assert out["code"] in text(out["receipt"])


def test_the_forms_without_a_code_are_drawn_by_the_helper_too(home):
    # Mẫu 02 (papers missing) and Mẫu 03 (refused) used to be drawn in the command itself while the
    # helper, started for nothing, loaded the same PDF engine beside it.
    base = [a for a in RECEIVE if a != "--all-components"]
    out, err = receive(home, args=base)
    assert out["status"] == "incomplete" and "Mẫu 02 rendered by helper" in err, err
    assert "YÊU CẦU BỔ SUNG" in text(out["form"]).upper()
    out, err = receive(home, args=[*base, "--refuse", "Sai thủ tục"])
    assert out["status"] == "3" and "Mẫu 03 rendered by helper" in err, err
    assert "Sai thủ tục" in text(out["form"])
    out, err = receive(home, {"ONESTOP_NO_PRERENDER": "1"}, args=[*base, "--refuse", "Hồ sơ giả"])
    assert "Mẫu 03 rendered by in-process (helper disabled" in err, err
    assert "Hồ sơ giả" in text(out["form"])


def test_a_helper_that_died_falls_back_in_process(tmp_path):
    from onestop.intake.prerender import Renderer

    with Renderer.start() as r:
        assert r.pid is not None
        os.kill(r.pid, signal.SIGKILL)  # the helper dies before the job arrives
        path = r.render("render_receipt", make_dossier(), CTX, tmp_path / "r.pdf")
        assert r.outcome.startswith("in-process (helper failed"), r.outcome
    assert "GIẤY TIẾP NHẬN HỒ SƠ" in text(path)


def test_a_working_helper_renders_the_file_itself(tmp_path):
    from onestop.intake.prerender import Renderer

    with Renderer.start() as r:
        path = r.render("render_receipt", make_dossier(), CTX, tmp_path / "r.pdf")
        assert r.outcome == "helper"
    assert "GIẤY TIẾP NHẬN HỒ SƠ" in text(path)
