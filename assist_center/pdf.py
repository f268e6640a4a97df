"""PDF rendering and file downloads, shared by every printed record (forms, reports, posters).

WeasyPrint embeds subsets of the Noto CJK fonts, so a file prints the same on any office machine.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import threading
from urllib.parse import quote
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration

# Building a FontConfiguration runs fontconfig over every installed font (~0.1 s): do it once per
# process. Pango's font map is not thread-safe, hence the lock around each render.
_font_config: FontConfiguration | None = None
_render_lock = threading.Lock()

# Characters a file name in a ZIP or a Content-Disposition should not carry.
_UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def render_pdf(html: str) -> bytes:
    """Render self-contained HTML (images as data: URIs, no external files) to PDF bytes."""
    global _font_config
    with _render_lock:
        if _font_config is None:
            _font_config = FontConfiguration()
        # base_url=None and only data: URIs inside: nothing is fetched from disk or network.
        pdf = HTML(string=html, base_url=None).write_pdf(font_config=_font_config)
    assert pdf is not None  # write_pdf without a target returns the bytes
    return bytes(pdf)


def data_uri(content_type: str, data: bytes) -> str:
    """`data` as a base64 data: URI, the only way a rendered PDF takes an image."""
    return f"data:{content_type};base64,{base64.b64encode(data).decode('ascii')}"


def local_time(value: dt.datetime | None) -> str:
    """A timestamp in the county's time zone, to the second; "-" when absent."""
    if value is None:
        return "-"
    return timezone.localtime(value, ZoneInfo(settings.TIME_ZONE)).strftime("%Y-%m-%d %H:%M:%S")


def safe_filename(name: str) -> str:
    """`name` without path separators or characters Windows refuses; keeps Chinese as it is."""
    return _UNSAFE_FILENAME.sub("_", name).strip(" .") or "file"


def content_disposition(filename: str, ascii_fallback: str) -> str:
    """`attachment` with an ASCII name for old clients and the UTF-8 name (RFC 6266 / RFC 5987)."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in ascii_fallback
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(safe_filename(filename), safe='')}"


def attachment_response(
    content: bytes, *, content_type: str, filename: str, ascii_fallback: str
) -> HttpResponse:
    """`content` as a download that no cache keeps: every printed record names residents."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition(filename, ascii_fallback)
    response["Content-Length"] = str(len(content))
    # The files hold names and addresses: no shared or browser cache may keep a copy.
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
