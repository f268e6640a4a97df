"""QR codes of URLs: as a module matrix, a PNG, an SVG to inline, or an SVG data: URI for <img>.

Core, because every app prints them: the 救助码 posters and ZIPs, the family's signing code
(家庭码) on the receipt, and the receipt code on the application form.
"""

from __future__ import annotations

import base64
import io

import qrcode
import qrcode.constants
import qrcode.image.svg

# M (15 % recovery) survives a poster's scuffs and glare without making the code too dense to
# scan from a cheap phone at arm's length.
ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M
# The quiet zone the QR standard asks for; less and some phone scanners miss the code.
BORDER = 4


def _qr(url: str, *, box_size: int) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=ERROR_CORRECTION, box_size=box_size, border=BORDER)
    code.add_data(url)
    code.make(fit=True)
    return code


def qr_matrix(url: str) -> list[list[bool]]:
    """The QR modules of `url` without the quiet zone (True is dark)."""
    code = _qr(url, box_size=1)
    return [row[BORDER:-BORDER] for row in code.get_matrix()[BORDER:-BORDER]]


def qr_png(url: str, *, box_size: int = 10) -> bytes:
    """A black-on-white PNG of `url`, `box_size` pixels per module, with the standard quiet zone."""
    image = _qr(url, box_size=box_size).make_image()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def qr_svg(url: str) -> str:
    """The SVG markup of `url`'s QR code, without an XML declaration so that it can be inlined."""
    image = _qr(url, box_size=10).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    return str(image.to_string(encoding="unicode"))


def qr_svg_data_uri(url: str) -> str:
    """`url`'s QR code as an SVG data: URI, for an <img> (img-src allows data:, and the SVG's own
    attributes then never meet the strict style-src) or a PDF (which fetches nothing)."""
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(url).encode("utf-8")).decode("ascii")
