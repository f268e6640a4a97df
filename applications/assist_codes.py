"""救助码 and 家庭码: the URLs behind the QR codes, the QR images, and the printable posters.

A QR code leaves the site on paper and stays on a wall for years, so its URL is part of the
public contract (design.md) and carries only a region code or the family token, never personal
data (stack.md).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from assist_center.models import Region
from assist_center.pdf import render_pdf, safe_filename
from assist_center.qr import qr_png, qr_svg_data_uri

if TYPE_CHECKING:
    from .models import Application


def assist_code_url(region: Region) -> str:
    """The public URL a region's 救助码 opens: `/apply/<region_code>/` (design.md)."""
    return f"{settings.SITE_URL}/apply/{region.code}/"


def family_url(application: Application) -> str:
    """The family signing page of an application (家庭码), keyed by its unguessable token."""
    return f"{settings.SITE_URL}/family/{application.family_token}/"


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
        posters.append(_Poster(region=region, path=region_path(region), url=url, qr_uri=qr_svg_data_uri(url)))
    # Posters are for residents: always in the county's language, whatever the staff member's.
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string(
            "applications/pdf/poster.html",
            {"posters": posters, "county_name": settings.COUNTY_NAME, "printed_at": timezone.localtime()},
        )


def poster_pdf(regions: Sequence[Region]) -> bytes:
    """An A4 PDF with one poster page per region: title, region path, instructions, a large QR code."""
    return render_pdf(poster_html(regions))


def assist_codes_zip(regions: Sequence[Region]) -> bytes:
    """A ZIP of one PNG per region, named `<code>-<name>.png` (UTF-8 names)."""
    buffer = io.BytesIO()
    # PNGs are already deflated: storing them again compressed only costs time.
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for region in regions:
            archive.writestr(region_png_filename(region), qr_png(assist_code_url(region)))
    return buffer.getvalue()
