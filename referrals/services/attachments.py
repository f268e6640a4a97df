"""Files the centre attaches to its answer to a department's question (issue 16).

The type is decided by the bytes, never by the name or the browser's content type: a PDF with its
end-of-file marker, or a PNG or JPEG that Pillow opens as what its signature says. The size is
capped by REFERRAL_ATTACHMENT_MAX_BYTES, the count per answer by MAX_FILES. Stored in the
database like the paper authorisation scans.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image

from assist_center.errors import field_error

from ..models import InfoAttachment, Referral

MAX_FILES = 5
MAX_PIXELS = 40_000_000
NAME_MAX = 120
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
_PDF_MAGIC = b"%PDF-"
EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}


@dataclass(frozen=True)
class CheckedFile:
    name: str
    content_type: str
    data: bytes


def max_bytes() -> int:
    return int(settings.REFERRAL_ATTACHMENT_MAX_BYTES)


def _too_large(name: str) -> Any:
    megabytes = max_bytes() / (1024 * 1024)
    return field_error(
        "attachments",
        _("%(name)s is too large: each file may be at most %(mb)s MB.")
        % {"name": name, "mb": f"{megabytes:g}"},
    )


def content_type_of(data: bytes, name: str) -> str:
    """The file's real type from its bytes; a field error naming the file otherwise."""
    if not data:
        raise field_error("attachments", _("%(name)s is empty.") % {"name": name})
    if data.startswith(_PDF_MAGIC):
        if b"%%EOF" not in data[-4096:]:
            raise field_error("attachments", _("%(name)s is a damaged PDF file.") % {"name": name})
        return "application/pdf"
    if data.startswith(_PNG_MAGIC):
        expected, content_type = "PNG", "image/png"
    elif data.startswith(_JPEG_MAGIC):
        expected, content_type = "JPEG", "image/jpeg"
    else:
        raise field_error(
            "attachments",
            _("%(name)s is not a photo (JPEG or PNG) or a PDF file; only these can be attached.")
            % {"name": name},
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if img.format != expected or img.width * img.height > MAX_PIXELS:
                    raise ValueError
                img.verify()
    except Exception:
        # Pillow raises many types for a damaged or hostile file; each means "not a usable image".
        raise field_error("attachments", _("%(name)s cannot be read as an image.") % {"name": name}) from None
    return content_type


def clean_name(raw: str, content_type: str) -> str:
    """A display name: no path, no control characters, short, with the extension of its real type."""
    base = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip()
    stem = base.rsplit(".", 1)[0] if "." in base else base
    ext = EXTENSIONS[content_type]
    stem = stem[: NAME_MAX - len(ext)].strip() or _("attachment")
    return stem + ext


def attachments_check(uploads: Sequence[Any]) -> list[CheckedFile]:
    """Read and check every upload before anything is saved: one bad file refuses the answer."""
    if len(uploads) > MAX_FILES:
        raise field_error("attachments", _("At most %(n)s files per answer.") % {"n": MAX_FILES})
    checked = []
    limit = max_bytes()
    for upload in uploads:
        name = str(getattr(upload, "name", "") or "")[:NAME_MAX]
        if (getattr(upload, "size", None) or 0) > limit:
            raise _too_large(name)
        upload.seek(0)
        data = upload.read(limit + 1)
        if len(data) > limit:
            raise _too_large(name)
        content_type = content_type_of(data, name)
        checked.append(CheckedFile(name=clean_name(name, content_type), content_type=content_type, data=data))
    return checked


def attachments_save(*, referral: Referral, files: Sequence[CheckedFile], actor: Any) -> list[InfoAttachment]:
    """Inside the answer's transaction: one row per checked file."""
    user = actor if getattr(actor, "pk", None) else None
    return [
        InfoAttachment.objects.create(
            referral=referral,
            name=f.name,
            content_type=f.content_type,
            size=len(f.data),
            sha256=hashlib.sha256(f.data).hexdigest(),
            data=f.data,
            uploaded_by=user,
        )
        for f in files
    ]
