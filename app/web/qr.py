"""QR codes for printed tickets, drawn as inline SVG by segno (pure Python, no image files)."""

import segno


def qr_svg(data: str, *, scale: int = 3) -> str:
    """An SVG element (no XML declaration) that encodes data, for embedding in a page."""
    code = segno.make(data, error="m", micro=False)
    svg: str = code.svg_inline(scale=scale, border=2, omitsize=False)
    return svg
