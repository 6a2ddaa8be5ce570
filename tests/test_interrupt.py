"""A Ctrl-C that Python drops where it lands (inside one of its own callbacks) still stops the
command at its next safe point (onestop/common/interrupt.py). Real processes, real SIGINT."""

from __future__ import annotations

import subprocess
import sys

# SIGINT delivered while Python runs a weakref callback, as when it lands in the import system's
# module-lock callback during a scan: Python prints "Exception ignored" and carries on.
_SCRIPT = """
import os, signal, sys, weakref
{install}
class Thing: pass
thing = Thing()
def callback(_):
    os.kill(os.getpid(), signal.SIGINT)
    sum(range(1000))  # the handler runs here, inside the callback
ref = weakref.ref(thing, callback)
del thing
print("ran on", flush=True)
from onestop.common import interrupt
try:
    interrupt.check()
except KeyboardInterrupt:
    sys.exit(130)
sys.exit(0)
"""


def _run(install: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _SCRIPT.format(install=install)], capture_output=True, text=True,
                          timeout=60)


def test_python_alone_drops_a_ctrl_c_that_lands_in_a_callback():
    r = _run("")
    assert "Exception ignored" in r.stderr and "KeyboardInterrupt" in r.stderr
    assert r.returncode == 0  # the command would have run on to the end


def test_the_dropped_ctrl_c_stops_at_the_next_check():
    r = _run("from onestop.common import interrupt; interrupt.install()")
    assert "Exception ignored" in r.stderr and r.stdout == "ran on\n"
    assert r.returncode == 130


def test_the_cli_takes_over_sigint():
    code = ("import signal; from onestop import cli; from onestop.common import interrupt;"
            "cli.load_commands = lambda name: (_ for _ in ()).throw(SystemExit(signal.getsignal(signal.SIGINT)"
            " is interrupt._on_sigint and 3 or 4)); cli.main('version')")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 3, r.stderr


def test_a_ctrl_c_caught_after_passing_through_compiled_code_still_exits_130(tmp_path):
    """``python -m``: a KeyboardInterrupt that passed through code compiled from a string (as when a
    dataclass is built during an import) made CPython 3.11 end the process by SIGINT (-2) although
    onestop caught it and printed its message."""
    (tmp_path / "stopped_at_start.py").write_text(
        "import sys\n"
        "from onestop import cli\n"
        "def load(name):\n"
        "    exec('import os, signal\\nos.kill(os.getpid(), signal.SIGINT)\\nx = sum(range(100))')\n"
        "cli.load_commands = load\n"
        "sys.argv = ['onestop', 'version']\n"
        "cli.main('version')\n", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "stopped_at_start"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 130, r.stderr
