"""Real faults at the edges: a full disk (file-size limit), a read-only home, Ctrl-C."""

import json
import os
import signal
import subprocess
import sys
import time


PROC = "1.003584"
RECEIVE = [sys.executable, "-m", "onestop", "receive", "-p", PROC, "--name", "Nguyễn Văn An", "--id",
           "001085012345", "--all-components", "--json"]


def _env(home):
    return dict(os.environ, ONESTOP_HOME=str(home), ONESTOP_NOW="2026-11-30 10:00")


def _limited(limit_bytes):
    def pre():
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return pre


def _receipt_fails(home, *, lang: str | None = None, json_out: bool = True, **kw):
    """One receive after a first good one, with the receipt made impossible by the caller."""
    cmd = [a for a in RECEIVE if json_out or a != "--json"]
    if lang:
        cmd[3:3] = ["--lang", lang]
    return subprocess.run(cmd, capture_output=True, text=True, env=_env(home), stdin=subprocess.DEVNULL, **kw)


def _block_forms_folder(home) -> None:
    # A real fault that root cannot bypass (unlike chmod): a file where this month's forms folder goes.
    month = home / "forms" / "202611"
    for f in month.iterdir():
        f.unlink()
    month.rmdir()
    month.write_text("not a folder")


def test_a_receipt_that_cannot_be_written_keeps_the_dossier_and_says_how_to_print(home, db, rows):
    # Since P11 the receipt is rendered after the dossier commits (the code counter is not held while
    # the PDF is drawn): a receipt that cannot be written no longer undoes the receive. The citizen's
    # papers ARE received; the command says so, still gives the code, and how to print the receipt again.
    first = subprocess.run(RECEIVE, capture_output=True, text=True, env=_env(home))
    assert first.returncode == 0, first.stderr
    _block_forms_folder(home)
    r = _receipt_fails(home)
    assert r.returncode == 7, r.stderr
    out = json.loads(r.stdout)  # the code is still given as data
    code = out["code"]
    assert code.endswith("-0002") and out["receipt"] == ""
    assert "onestop: lỗi:" in r.stderr and "giấy tiếp nhận" in r.stderr
    assert f"Hồ sơ {code} ĐÃ được tiếp nhận" in r.stderr and f"onestop print {code}" in r.stderr
    assert rows("SELECT count(*) FROM dossiers") == [(2,)]
    assert rows("SELECT receipt_path FROM dossiers WHERE code = ?", [code]) == [("",)]
    assert rows("SELECT max(last) FROM code_sequences") == [(2,)]
    # the high-water mark was written before the receipt was tried
    assert 2 in json.loads((home / "codes-issued.json").read_text())["seq"].values()
    (home / "forms" / "202611").unlink()  # the officer fixes the folder, then prints again
    again = subprocess.run([sys.executable, "-m", "onestop", "print", code], capture_output=True, text=True,
                           env=_env(home))
    assert again.returncode == 0, again.stderr
    from pypdf import PdfReader

    printed = again.stdout.strip()
    assert code in "".join(page.extract_text() for page in PdfReader(printed).pages)
    assert rows("SELECT receipt_path FROM dossiers WHERE code = ?", [code]) == [(printed,)]
    ok = subprocess.run(RECEIVE, capture_output=True, text=True, env=_env(home))
    assert json.loads(ok.stdout)["code"].endswith("-0003")  # no gap, nothing lost


def test_receipt_not_printed_in_english_names_the_code(home, db):
    assert subprocess.run(RECEIVE, capture_output=True, env=_env(home)).returncode == 0
    _block_forms_folder(home)
    r = _receipt_fails(home, lang="en", json_out=False)
    assert r.returncode == 7, r.stderr
    code = r.stdout.strip()
    assert code.endswith("-0002")
    assert f"Dossier {code} IS registered" in r.stderr and f"onestop print {code}" in r.stderr, r.stderr


def test_disk_full_while_writing_the_receipt_on_an_office_desk(home, pg_url, monkeypatch):
    # A real full disk (a file-size limit) hits only the desk's own files when the database is on the
    # office server: the receipt fails, the dossier stays registered. (On SQLite the same limit hits the
    # database file first: the receive then stores nothing, exit 7 too.)
    monkeypatch.setenv("ONESTOP_DATABASE_URL", pg_url)
    first = subprocess.run(RECEIVE, capture_output=True, text=True, env=_env(home))
    assert first.returncode == 0, first.stderr
    size = os.path.getsize(json.loads(first.stdout)["receipt"])
    r = _receipt_fails(home, preexec_fn=_limited(size // 2))
    assert r.returncode == 7, r.stderr
    code = json.loads(r.stdout)["code"]
    assert code.endswith("-0002") and "đĩa" in r.stderr and f"onestop print {code}" in r.stderr, r.stderr
    assert not list(home.rglob(f"{code}_Mau01*.pdf"))  # no half-written receipt left behind
    assert not list(home.rglob("*.tmp"))


def test_ctrl_c_leaves_the_database_consistent(home, db, rows):
    script = (
        "import os\n"
        "from onestop.common import config; from onestop.intake import dossiers\n"
        "from onestop.store import connect\n"
        "cfg = config.load(); db = connect(cfg)\n"
        "at = dossiers.parse_when('2026-11-23 09:00', cfg)\n"
        "print('ready', flush=True)\n"
        "for i in range(100000):\n"
        "    dossiers.receive(db, cfg, dossiers.ReceiveRequest('1.003584', dossiers.Applicant('A', '001085012345'), at=at), render=False)\n"
    )
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=_env(home))
    assert p.stdout.readline().strip() == "ready"
    # Ctrl-C once receives are being stored: waiting for rows, not a fixed second (a loaded machine,
    # or a parallel test run, may not have stored one by then)
    deadline = time.monotonic() + 60
    while rows("SELECT count(*) FROM dossiers")[0][0] < 5 and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    p.send_signal(signal.SIGINT)
    p.wait(timeout=30)
    (n,), = rows("SELECT count(*) FROM dossiers")
    assert n > 0
    # every stored dossier has its event and both outbox rows, and the sequence matches the rows
    assert rows("SELECT count(*) FROM events") == [(n,)]
    assert rows("SELECT count(*) FROM outbox") == [(2 * n,)]
    assert rows("SELECT last FROM code_sequences") == [(n,)]


def test_cli_ctrl_c_exit_code(run, monkeypatch):
    from onestop.intake import lookup

    def boom(*a, **k):
        raise KeyboardInterrupt

    # Ctrl-C cannot be typed into an in-process runner: raise it where the officer would press it.
    monkeypatch.setattr(lookup, "list_dossiers", boom)
    r = run("list")
    assert r.exit_code == 130 and "Ctrl-C" in r.stderr
