"""救助码 and 家庭码: the URLs behind the QR codes, the QR images, and the printable posters.

A QR code leaves the site on paper and stays on a wall for years, so its URL is part of the
public contract (design.md) and carries only a region code or the family token, never personal
data (stack.md).
"""

from __future__ import annotations

import base64
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import qrcode
import qrcode.constants
import qrcode.image.svg
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from assist_center.models import Region

if TYPE_CHECKING:
    from .models import Application

# M (15 % recovery) survives a poster's scuffs and glare without making the code too dense to
# scan from a cheap phone at arm's length.
ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M
# The quiet zone the QR standard asks for; less and some phone scanners miss the code.
BORDER = 4

# Characters a file name in a ZIP or a Content-Disposition should not carry.
_UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def assist_code_url(region: Region) -> str:
    """The public URL a region's 救助码 opens: `/apply/<region_code>/` (design.md)."""
    return f"{settings.SITE_URL}/apply/{region.code}/"


def family_url(application: Application) -> str:
    """The family signing page of an application (家庭码), keyed by its unguessable token."""
    return f"{settings.SITE_URL}/family/{application.family_token}/"


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


def safe_filename(name: str) -> str:
    """`name` without path separators or characters Windows refuses; keeps Chinese as it is."""
    return _UNSAFE_FILENAME.sub("_", name).strip(" .") or "file"


def region_png_filename(region: Region) -> str:
    return safe_filename(f"{region.code}-{region.name}.png")


def region_path(region: Region) -> list[Region]:
    """The region and its ancestors, county first."""
    chain: list[Region] = []
    node: Region | None = region
    while node is not None and len(chain) < 4:  # three levels; the bound guards a cycle in bad data
        chain.append(node)
        node = node.parent
    return list(reversed(chain))


def township_batch(township: Region) -> list[Region]:
    """A township and all its villages, in code order: what one township's assistant prints."""
    villages = Region.objects.filter(township=township, level=Region.Level.VILLAGE).select_related(
        "parent__parent"
    )
    return [township, *villages.order_by("code")]


@dataclass(frozen=True)
class _Poster:
    region: Region
    path: list[Region]
    url: str
    qr_uri: str


def poster_html(regions: Sequence[Region]) -> str:
    """The HTML of the posters, one A4 page per region (rendered by poster_pdf)."""
    posters = []
    for region in regions:
        url = assist_code_url(region)
        svg = base64.b64encode(qr_svg(url).encode("utf-8")).decode("ascii")
        posters.append(
            _Poster(
                region=region, path=region_path(region), url=url, qr_uri=f"data:image/svg+xml;base64,{svg}"
            )
        )
    # Posters are for residents: always in the county's language, whatever the staff member's.
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string(
            "applications/pdf/poster.html",
            {"posters": posters, "county_name": settings.COUNTY_NAME, "printed_at": timezone.localtime()},
        )


def poster_pdf(regions: Sequence[Region]) -> bytes:
    """An A4 PDF with one poster page per region: title, region path, instructions, a large QR code."""
    from .pdf import render_pdf  # the PDF module imports this one for its QR codes

    return render_pdf(poster_html(regions))


def assist_codes_zip(regions: Sequence[Region]) -> bytes:
    """A ZIP of one PNG per region, named `<code>-<name>.png` (UTF-8 names)."""
    buffer = io.BytesIO()
    # PNGs are already deflated: storing them again compressed only costs time.
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for region in regions:
            archive.writestr(region_png_filename(region), qr_png(assist_code_url(region)))
    return buffer.getvalue()
