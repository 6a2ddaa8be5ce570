"""The receipt's QR code: the encoder (loaded without segno's heavy writers) and the symbol
drawn as vector paths on the canvas."""

from __future__ import annotations

import sys
from typing import Any, Callable

_qr_encode: Callable[..., Any] | None = None


def _qr_encoder() -> Callable[..., Any]:
    """segno's encoder function, loaded without ``segno/__init__``.

    ``import segno`` pulls in its writers, whose ``xml.sax.saxutils`` import drags in
    ``urllib.request`` and ``http.client`` (~12 ms, about a tenth of the receipt's time
    budget). The encoder module alone needs none of it, so we load the package's modules
    under a private name. Any surprise (another segno layout) falls back to ``import segno``.
    """
    global _qr_encode
    if _qr_encode is not None:
        return _qr_encode
    if "segno" in sys.modules:
        _qr_encode = sys.modules["segno"].encoder.encode
        return _qr_encode
    try:
        import importlib
        import importlib.util

        private = "_onestop_segno"
        if private not in sys.modules:
            spec = importlib.util.find_spec("segno")
            if spec is None or not spec.submodule_search_locations:
                raise ImportError("segno")
            pkg = importlib.util.module_from_spec(
                importlib.util.spec_from_loader(private, loader=None, is_package=True)
            )
            pkg.__path__ = list(spec.submodule_search_locations)
            sys.modules[private] = pkg
        _qr_encode = importlib.import_module(private + ".encoder").encode
    except Exception:  # noqa: BLE001 - any failure of the shortcut: use the public API
        sys.modules.pop("_onestop_segno", None)
        import segno

        _qr_encode = segno.encoder.encode
    return _qr_encode


def _qr_matrix(payload: str) -> tuple:
    # Error correction M as the brief requires; boost_error off so the level is exactly M.
    # A fixed mask skips segno's evaluation of the 8 masks (~10 ms in pure Python); every
    # mask is valid QR and decodes the same, the choice only tunes contrast patterns.
    encode = _qr_encoder()
    code = encode(payload, error="m", micro=False, boost_error=False, mask=2)
    return code.matrix


def _draw_qr(c: Any, x: float, top: float, module: float, matrix: tuple) -> None:
    """Dark modules as one filled vector path: no raster image, no seams between modules.

    Horizontal runs become one ``re`` each, written in module units under a ``cm`` that
    scales them, as literal operators: going through reportlab's path object costs ~13 ms
    per symbol in its pure-Python number formatting.
    """
    ops = []
    for r, row in enumerate(matrix):
        col, n = 0, len(row)
        while col < n:
            if row[col]:
                start = col
                while col < n and row[col]:
                    col += 1
                ops.append(f"{start} {r} {col - start} 1 re")
            else:
                col += 1
    c.saveState()
    c.setFillGray(0)
    c.addLiteral(f"{module:.4f} 0 0 {-module:.4f} {x:.3f} {top:.3f} cm\n" + "\n".join(ops) + "\nf")
    c.restoreState()
