"""Issue 16: the centre answers a department's request for documents with files.

Type checked by content, size capped by REFERRAL_ATTACHMENT_MAX_BYTES, stored in the database, and
opened only by the referral's department and the centre in scope (another department: 404).
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from PIL import Image

from applications.models import AccessPurpose, HouseholdAccess
from referrals.models import InfoAttachment, Referral
from tests.referrals.test_workbench import NOW, make_referral

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def jpeg_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 30, 200)).save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture
def clock() -> Any:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def asked(login: Any, personas: Any, county_map: Any, clock: Any) -> Referral:
    """A civil-affairs referral of township A whose department asked for documents."""
    r = make_referral(village=county_map.village_a1, department=county_map.dept_civil, items=["dibao"])
    response = login(personas.dept_civil).post(
        reverse("workbench-referral-request-info", args=[r.pk]), {"question": "请补充户口本复印件"}
    )
    assert response.status_code == 302
    r.refresh_from_db()
    assert r.status == Referral.Status.INFO_REQUESTED
    return r


def answer(client: Any, referral: Referral, *files: SimpleUploadedFile) -> Any:
    return client.post(
        reverse("workbench-referral-answer-info", args=[referral.pk]),
        {"answer": "户口本复印件见附件", "attachments": list(files)},
    )


def test_the_answer_carries_files_the_department_downloads_with_their_checked_type(
    login: Any, personas: Any, asked: Referral
) -> None:
    png = png_bytes()
    centre = login(personas.assistant_a)
    response = answer(
        centre,
        asked,
        SimpleUploadedFile("户口本.png", png, content_type="image/png"),
        # A PDF whose name and browser type lie: stored by what its bytes are.
        SimpleUploadedFile("证明.jpg", PDF, content_type="image/jpeg"),
    )
    assert response.status_code == 302
    asked.refresh_from_db()
    assert asked.status != Referral.Status.INFO_REQUESTED
    rows = list(InfoAttachment.objects.filter(referral=asked).order_by("id"))
    assert [(a.name, a.content_type, a.size) for a in rows] == [
        ("户口本.png", "image/png", len(png)),
        ("证明.pdf", "application/pdf", len(PDF)),
    ]
    assert rows[0].sha256 == hashlib.sha256(png).hexdigest() and bytes(rows[0].data) == png

    dept = login(personas.dept_civil)
    page = dept.get(reverse("workbench-referral", args=[asked.pk])).content.decode()
    url = reverse("workbench-referral-attachment", args=[asked.pk, rows[0].pk])
    assert f'href="{url}"' in page and "户口本.png" in page and "中心提供的附件" in page
    download = dept.get(url)
    assert download.status_code == 200
    assert download.content == png
    assert download["Content-Type"] == "image/png"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in download["Cache-Control"]
    assert HouseholdAccess.objects.filter(
        household_id=asked.case.application.household_id,
        purpose=AccessPurpose.DOWNLOAD,
        actor=personas.dept_civil,
    ).exists()
    # The centre in scope opens it too: the assistant who answered and the coordinator.
    assert centre.get(url).status_code == 200
    assert login(personas.coordinator).get(url).status_code == 200


def test_another_department_or_township_gets_404_and_no_file(
    login: Any, personas: Any, county_map: Any, asked: Referral, clock: Any
) -> None:
    assert answer(login(personas.assistant_a), asked, SimpleUploadedFile("a.pdf", PDF)).status_code == 302
    attachment = InfoAttachment.objects.get(referral=asked)
    url = reverse("workbench-referral-attachment", args=[asked.pk, attachment.pk])
    for persona in (personas.dept_medical, personas.assistant_b):
        response = login(persona).get(url)
        assert response.status_code == 404
        assert PDF not in response.content
    # Another referral's URL with this file's id: the file is not found through it.
    other = make_referral(
        village=county_map.village_a1, department=county_map.dept_medical, items=["medical"]
    )
    medical = login(personas.dept_medical)
    wrong = reverse("workbench-referral-attachment", args=[other.pk, attachment.pk])
    assert medical.get(wrong).status_code == 404
    # Roles without the workbench: 403; anonymous: the login page.
    assert login(personas.cadre_a1).get(url).status_code == 403
    assert login(personas.auditor).get(url).status_code == 403


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("户口本.png", b"<html><script>alert(1)</script></html>", "不是照片（JPEG、PNG）或 PDF 文件"),
        ("证明.pdf", b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n", "损坏的 PDF"),
        ("照片.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 64, "无法作为图片读取"),
        ("空.pdf", b"", "空文件"),
    ],
)
def test_a_file_that_is_not_what_it_claims_is_refused_in_chinese_and_nothing_changes(
    login: Any, personas: Any, asked: Referral, name: str, data: bytes, message: str
) -> None:
    response = answer(
        login(personas.assistant_a),
        asked,
        SimpleUploadedFile("好.png", png_bytes()),
        SimpleUploadedFile(name, data, content_type="image/png"),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and 'id="errors"' in html
    assert not InfoAttachment.objects.exists()
    asked.refresh_from_db()
    assert asked.status == Referral.Status.INFO_REQUESTED  # the answer was not sent either


def test_size_and_count_are_capped(login: Any, personas: Any, asked: Referral) -> None:
    jpeg = jpeg_bytes()
    centre = login(personas.assistant_a)
    with override_settings(REFERRAL_ATTACHMENT_MAX_BYTES=len(jpeg) - 1):
        response = answer(centre, asked, SimpleUploadedFile("大.jpg", jpeg))
    assert response.status_code == 400
    assert "太大：每个文件不能超过" in response.content.decode()
    many = [SimpleUploadedFile(f"{n}.jpg", jpeg) for n in range(6)]
    response = answer(centre, asked, *many)
    assert response.status_code == 400 and "最多附 5 个文件" in response.content.decode()
    assert not InfoAttachment.objects.exists()
    # Within the limits it goes through.
    fresh = [SimpleUploadedFile(f"{n}.jpg", jpeg) for n in range(5)]
    assert answer(centre, asked, *fresh).status_code == 302
    assert InfoAttachment.objects.filter(referral=asked, content_type="image/jpeg").count() == 5
