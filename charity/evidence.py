"""Evidence photos: checked by content, size-limited, re-encoded without EXIF/GPS, hashed."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from assist_center.errors import field_error

MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_SIDE = 2000
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}


@dataclass(frozen=True)
class CleanPhoto:
    data: bytes
    sha256: str
    original_sha256: str
    width: int
    height: int


def clean_photo(raw: bytes) -> CleanPhoto:
    """A JPEG re-encoded from the pixels alone (no EXIF, GPS, XMP or comments), or a field error."""
    if not raw:
        raise field_error("photos", "照片为空，请重新选择。")
    if len(raw) > MAX_BYTES:
        raise field_error("photos", "照片太大（每张不超过8MB）。")
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            fmt = probe.format
            if fmt not in ALLOWED_FORMATS:
                raise field_error("photos", "只能上传JPEG、PNG或WebP格式的照片。")
            if probe.width * probe.height > MAX_PIXELS:
                raise field_error("photos", "照片像素过大。")
            probe.verify()
        with Image.open(io.BytesIO(raw)) as opened:
            opened.load()
            img = ImageOps.exif_transpose(opened).convert("RGB")
            img.thumbnail((MAX_SIDE, MAX_SIDE))
            # A new image from the pixels only: nothing of the original's metadata is carried over.
            clean = Image.new("RGB", img.size)
            clean.paste(img)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise field_error("photos", "无法识别该图片，请上传照片文件。") from None
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=85)
    data = out.getvalue()
    return CleanPhoto(
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        original_sha256=hashlib.sha256(raw).hexdigest(),
        width=clean.width,
        height=clean.height,
    )
