"""P13 of PERFORMANCE.md: the P2 JPEG scan (10 A4 300-dpi pages as JPEG files) with ``[signing]`` set,
through a PKCS#12 file and through a PKCS#11 token (SoftHSM2), as a ratio to the same scan without
signing in the same run (target ≤ 1.1×). The test CA of tests/ca.py, the token of tests/softhsm.py.
Scans alternate (unsigned, PKCS#12, token) five times; the best wall time of each is kept, as in P2,
and the median CPU time (which other work on the machine does not skew) is printed beside it.
Prints ``RESULT|...`` lines (see run.py)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
from bench_ocr import a4_page, new_home, onestop, result, scanner_look  # noqa: E402
from ca import P12_PASSWORD, make_ca  # noqa: E402
import softhsm  # noqa: E402

REPS = int(os.environ.get("P13_REPS", "5"))  # alternating rounds; the best wall time of each is kept


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="onestop-bench-signing-"))
    try:
        jpgs = []
        for i in range(10):
            p = root / f"page-{i + 1:02d}.jpg"
            scanner_look(a4_page(i)[0]).save(p, "JPEG", quality=80, dpi=(300, 300))
            jpgs.append(p)
        ca = make_ca(root / "ca")
        setups = {"unsigned": "", "pkcs12": f'[signing]\npkcs12 = "{ca.p12()}"\n'}
        os.environ["ONESTOP_SIGN_PASSWORD"] = P12_PASSWORD
        if softhsm.library():
            tok = softhsm.make_token(root / "softhsm", "bench", "1234", ca.signers["signer"],
                                     chain=[ca.intermediate.cert])  # sets SOFTHSM2_CONF for the scans
            os.environ["ONESTOP_SIGN_PIN"] = tok["pin"]
            setups["pkcs11"] = (f'[signing]\npkcs11_lib = "{tok["lib"]}"\ntoken_label = "bench"\n'
                                f'key_label = "{tok["key_label"]}"\n')
        else:
            print("P13: softhsm2 not installed (apt-get install softhsm2); the token run is skipped", file=sys.stderr)
        walls: dict[str, list[float]] = {k: [] for k in setups}
        cpus: dict[str, list[float]] = {k: [] for k in setups}
        for rep in range(REPS):
            for name, conf in setups.items():
                home, code = new_home(root, f"home-{name}-{rep}")
                (home / "onestop.toml").write_text(conf, encoding="utf-8")
                _out, w, cpu = onestop(home, "scan", code, "--component", 2, *jpgs, "--yes", "--json")
                walls[name].append(w)
                cpus[name].append(cpu)
        print("P13 wall times, s: " + "; ".join(f"{k} {', '.join(f'{w:.2f}' for w in v)}" for k, v in walls.items()),
              file=sys.stderr)
        print("P13 CPU times, s: " + "; ".join(f"{k} {', '.join(f'{w:.2f}' for w in v)}" for k, v in cpus.items()),
              file=sys.stderr)
        base = min(walls["unsigned"])
        for name in [k for k in setups if k != "unsigned"]:
            r = min(walls[name]) / base
            what = "PKCS#12" if name == "pkcs12" else "PKCS#11 token, SoftHSM2"
            result("P13", f"P2 JPEG scan signed ({what}), wall s", f"{min(walls[name]):.2f}",
                   f"{base:.2f} (unsigned, same run)", f"{r:.3f}", "≤ 1.1", r <= 1.1)
            # CPU time (the scan and its tesseracts) does not swing with other work on the machine
            c = sorted(cpus[name])[len(cpus[name]) // 2] / sorted(cpus["unsigned"])[len(cpus["unsigned"]) // 2]
            result("P13", f"P2 JPEG scan signed ({what}), CPU s, median", f"{sorted(cpus[name])[len(cpus[name]) // 2]:.2f}",
                   f"{sorted(cpus['unsigned'])[len(cpus['unsigned']) // 2]:.2f}", f"{c:.3f}", "info", True)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
