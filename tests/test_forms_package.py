"""The forms package (onestop/intake/forms/): its public names, the shipped fonts, and what importing it
costs ``receive``, whose own process only builds a ``FormContext`` (the forked helper renders)."""

import subprocess
import sys
from pathlib import Path

import onestop
from onestop.intake import forms


def test_every_public_name_of_the_package_resolves():
    for name in [*forms.__all__, *forms._EXPORTS]:
        assert getattr(forms, name) is not None, name
    assert callable(forms.render_receipt) and forms.RECEIPT_TITLE.startswith("GIẤY TIẾP NHẬN")


def test_the_forms_are_set_in_the_fonts_shipped_with_onestop():
    data = Path(onestop.__file__).parent / "data"
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf"):
        assert forms.font_path(name) == data / name


def test_importing_the_package_loads_none_of_its_parts_nor_the_pdf_engine():
    code = ("import sys\nfrom onestop.intake.forms import FormContext\nFormContext(agency_name='X')\n"
            "print(sorted(m for m in sys.modules if m.startswith(('onestop.intake.forms', 'reportlab', 'segno'))))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert p.stdout.strip() == "['onestop.intake.forms']"
