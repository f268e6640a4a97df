"""Evidence photos: checked by content, size-limited, EXIF and GPS stripped, re-encoded, hash kept."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image, PngImagePlugin

from charity.models import Claim, ClaimUpdate, EvidencePhoto
from charity.services.claims import need_claim

from .helpers import org_with_member, visible_need

pytestmark = pytest.mark.django_db

CAMERA = "TestPhone-X9"


def jpeg_with_gps(width: int = 64, height: int = 32) -> bytes:
    """A camera-like JPEG: maker, a GPS position in the county and orientation 6 (rotated 90°)."""
    img = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = CAMERA
    exif[ExifTags.Base.Orientation] = 6
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (29.0, 6.0, 30.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (121.0, 22.0, 40.0)
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif, comment=b"home of the family")
    return out.getvalue()


def png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "上叶村12号")
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (0, 120, 0)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def _upload(name: str, data: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture
def claim_and_client(personas: Any, county_map: Any, login: Any) -> tuple[Claim, Any]:
    _org, member = org_with_member()
    need = visible_need(personas.coordinator, county_map.village_a1)
    return need_claim(actor=member, public_id=need.public_id), login(member)


def test_a_completion_photo_is_stored_without_exif_or_gps_re_encoded_and_hashed(
    claim_and_client: tuple[Claim, Any],
) -> None:
    claim, client = claim_and_client
    raw = jpeg_with_gps()
    # The original really carries what must go.
    with Image.open(io.BytesIO(raw)) as original:
        assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert CAMERA.encode() in raw and b"home of the family" in raw

    r = client.post(
        f"/charity/portal/claims/{claim.pk}/",
        {
            "action": "complete",
            "text": "轮椅已送到家中",
            "in_kind": "轮椅一台",
            "photos": [_upload("IMG_0001.jpg", raw), _upload("label.png", png_with_text(), "image/png")],
        },
    )
    assert r.status_code == 302
    update = ClaimUpdate.objects.get(claim=claim, kind=ClaimUpdate.Kind.COMPLETION)
    photos = list(EvidencePhoto.objects.filter(update=update).order_by("id"))
    assert len(photos) == 2
    stored = bytes(photos[0].image)
    assert stored != raw
    assert CAMERA.encode() not in stored and b"home of the family" not in stored and b"Exif" not in stored
    with Image.open(io.BytesIO(stored)) as clean:
        assert clean.format == "JPEG"
        assert len(clean.getexif()) == 0 and not clean.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert "exif" not in clean.info and "comment" not in clean.info
        # The orientation was applied to the pixels before the tag went: 64x32 turned upright.
        assert clean.size == (32, 64) == (photos[0].width, photos[0].height)
    assert photos[0].sha256 == hashlib.sha256(stored).hexdigest()
    assert photos[0].original_sha256 == hashlib.sha256(raw).hexdigest()

    png_stored = bytes(photos[1].image)
    assert "上叶村".encode() not in png_stored
    with Image.open(io.BytesIO(png_stored)) as clean:
        assert clean.format == "JPEG" and "Location" not in clean.info
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.REPORTED


def test_a_progress_photo_is_cleaned_the_same_way(claim_and_client: tuple[Claim, Any]) -> None:
    claim, client = claim_and_client
    r = client.post(
        f"/charity/portal/claims/{claim.pk}/",
        {"action": "progress", "text": "已上门测量", "photos": [_upload("a.jpg", jpeg_with_gps())]},
    )
    assert r.status_code == 302
    (photo,) = EvidencePhoto.objects.filter(update__claim=claim)
    assert CAMERA.encode() not in bytes(photo.image)
    with Image.open(io.BytesIO(bytes(photo.image))) as clean:
        assert len(clean.getexif()) == 0


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, format="GIF")
    return out.getvalue()


def _huge_png() -> bytes:
    out = io.BytesIO()
    Image.new("1", (10_000, 5_000)).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    "files, message",
    [
        (lambda: [_upload("photo.jpg", b"%PDF-1.4 not a picture")], "无法识别该图片"),
        (lambda: [_upload("photo.jpg", _gif())], "只能上传JPEG、PNG或WebP格式"),
        (lambda: [_upload("photo.jpg", jpeg_with_gps()[:200])], "无法识别该图片"),
        (lambda: [_upload("big.jpg", b"\xff\xd8" + b"0" * (8 * 1024 * 1024))], "照片太大"),
        (lambda: [_upload("huge.png", _huge_png(), "image/png")], "照片像素过大"),
        (lambda: [_upload(f"{i}.jpg", jpeg_with_gps()) for i in range(7)], "最多上传6张"),
    ],
    ids=["not-an-image", "gif", "truncated", "too-large", "too-many-pixels", "too-many"],
)
def test_a_bad_photo_is_refused_in_chinese_and_nothing_is_saved(
    claim_and_client: tuple[Claim, Any], files: Any, message: str
) -> None:
    claim, client = claim_and_client
    r = client.post(
        f"/charity/portal/claims/{claim.pk}/",
        {"action": "complete", "text": "已完成", "in_kind": "轮椅", "photos": files()},
    )
    assert r.status_code == 400 and message in r.content.decode()
    assert not ClaimUpdate.objects.filter(claim=claim).exists()
    assert not EvidencePhoto.objects.exists()
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.ACTIVE


def test_evidence_is_never_public(claim_and_client: tuple[Claim, Any], personas: Any, login: Any) -> None:
    from django.test import Client
    from django.urls import get_resolver

    claim, client = claim_and_client
    client.post(
        f"/charity/portal/claims/{claim.pk}/",
        {
            "action": "complete",
            "text": "已送到，老人很满意",
            "in_kind": "轮椅",
            "photos": [_upload("a.jpg", jpeg_with_gps())],
        },
    )
    photo = EvidencePhoto.objects.get()
    # No route serves photo bytes; pages name them by hash prefix only (the centre's claim page).
    routes = [str(p.pattern) for p in get_resolver().url_patterns]
    assert not any("photo" in r or "evidence" in r for r in routes)
    public = Client().get(f"/charity/needs/{claim.need.public_id}/").content.decode()
    assert "认领" in public  # the need's page itself, not a 404
    assert photo.sha256[:12] not in public and "老人很满意" not in public
    staff = login(personas.assistant_a).get(f"/charity/staff/claims/{claim.pk}/").content.decode()
    assert photo.sha256[:12] in staff
