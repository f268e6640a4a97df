"""Paper authorisations: the township assistant uploads the scan of a member's signed form."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from applications.models import Application, ApplicationMember, Authorisation
from assist_center.models import AuditEvent, OutboxMessage

from ..factories import ApplicationFactory
from .test_family import APPLICANT, CONSENT_VERSION, FAMILY, SPOUSE, SUPPORTER

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def jpeg(size: tuple[int, int] = (1240, 1754)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, "white").save(buf, "JPEG", quality=70)
    return buf.getvalue()


def page_url(app: Application, name: str) -> str:
    m = ApplicationMember.objects.get(application=app, name=name)
    return reverse("staff-paper-upload", args=[app.pk, m.pk])


def upload(
    client: Any, url: str, data: bytes, name: str = "scan.pdf", content_type: str = "application/pdf"
) -> Any:
    return client.post(url, {"scan": SimpleUploadedFile(name, data, content_type=content_type)})


@pytest.fixture
def app(county_map: Any) -> Application:
    return ApplicationFactory.create(village=county_map.village_a1, people=list(FAMILY))


def test_an_assistant_uploads_a_pdf_scan_as_the_members_authorisation(
    app: Application, personas: Any, login: Any
) -> None:
    c = login(personas.assistant_a)
    url = page_url(app, SPOUSE.name)
    page = c.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert SPOUSE.name in html and "5 MB" in html and 'type="file"' in html
    r = upload(c, url, PDF, content_type="application/octet-stream")
    assert r.status_code == 302
    auth = Authorisation.objects.get(member__name=SPOUSE.name)
    assert auth.method == Authorisation.Method.PAPER
    assert auth.uploaded_by == personas.assistant_a
    assert auth.content_type == "application/pdf"  # from the bytes, not what the browser claimed
    assert auth.sha256 == hashlib.sha256(PDF).hexdigest()
    assert bytes(auth.image) == PDF
    assert auth.consent_version == CONSENT_VERSION
    assert auth.ip_address == "127.0.0.1"
    assert auth.otp_verified is False
    event = AuditEvent.objects.get(action="authorisation.signed")
    assert event.actor == personas.assistant_a and event.new_values["method"] == "paper"
    after = c.get(url).content.decode()
    assert "纸质授权书已保存" in after and "此人已授权" in after


def test_a_jpeg_photo_is_accepted(app: Application, personas: Any, login: Any) -> None:
    data = jpeg()
    r = upload(login(personas.assistant_a), page_url(app, SPOUSE.name), data, "IMG_0001.JPG", "image/jpeg")
    assert r.status_code == 302
    auth = Authorisation.objects.get()
    assert auth.content_type == "image/jpeg" and auth.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 4000, "scan.pdf", "只能上传照片"),
        (b"<html><script>alert(1)</script></html>", "scan.jpg", "只能上传照片"),
        (PDF[:40], "cut.pdf", "PDF 文件已损坏"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 100, "broken.jpg", "图片无法读取"),
        (b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024) + b"\n%%EOF\n", "huge.pdf", "文件太大"),
    ],
    ids=["exe-renamed-pdf", "html-renamed-jpg", "truncated-pdf", "broken-jpeg", "over-5mb"],
)
def test_a_file_that_is_not_a_usable_scan_is_refused(
    app: Application, personas: Any, login: Any, data: bytes, name: str, message: str
) -> None:
    r = upload(login(personas.assistant_a), page_url(app, SPOUSE.name), data, name)
    assert r.status_code == 400
    assert message in r.content.decode()
    assert not Authorisation.objects.exists()


def test_another_townships_application_is_404_and_a_cadre_gets_403(
    app: Application, personas: Any, login: Any
) -> None:
    url = page_url(app, SPOUSE.name)
    for who in ("assistant_b", "dept_civil", "dept_medical", "auditor", "org_member_1"):
        c = login(getattr(personas, who))
        assert c.get(url).status_code == 404, who
        assert upload(c, url, PDF).status_code == 404, who
    # The village cadre of that very village sees the case exists but does not handle it.
    c = login(personas.cadre_a1)
    assert c.get(url).status_code == 403
    assert upload(c, url, PDF).status_code == 403
    # Not signed in: to the login page, nothing stored.
    r = login(personas.anonymous).get(url)
    assert r.status_code == 302 and "/admin/login/" in r["Location"]
    assert not Authorisation.objects.exists()
    # The coordinator handles any township's case.
    assert upload(login(personas.coordinator), url, PDF).status_code == 302
    assert Authorisation.objects.get().uploaded_by == personas.coordinator


def test_a_member_id_of_another_application_is_404(
    app: Application, county_map: Any, personas: Any, login: Any
) -> None:
    other = ApplicationFactory.create(village=county_map.village_a2, people=list(FAMILY))
    other_member = ApplicationMember.objects.get(application=other, name=SPOUSE.name)
    url = reverse("staff-paper-upload", args=[app.pk, other_member.pk])
    assert login(personas.assistant_a).get(url).status_code == 404


def test_a_minor_has_no_paper_page(app: Application, personas: Any, login: Any) -> None:
    minor = ApplicationMember.objects.get(application=app, must_authorise=False)
    url = reverse("staff-paper-upload", args=[app.pk, minor.pk])
    assert login(personas.assistant_a).get(url).status_code == 404


def test_the_page_shows_who_has_signed_and_who_is_missing(
    app: Application, personas: Any, login: Any
) -> None:
    c = login(personas.assistant_a)
    upload(c, page_url(app, APPLICANT.name), PDF)
    html = c.get(page_url(app, SPOUSE.name)).content.decode()
    rows = html.split("<tbody>")[1].split("</tbody>")[0]
    assert rows.count("<tr") == 3
    applicant_row = rows.split(APPLICANT.name)[1].split("</tr>")[0]
    assert "纸质" in applicant_row and "assistant_a" in applicant_row
    supporter_row = rows.split(SUPPORTER.name)[1].split("</tr>")[0]
    assert "未授权" in supporter_row and "上传纸质授权书" in supporter_row
    # ID numbers masked: first 3 and last 4 only.
    member = ApplicationMember.objects.get(application=app, name=SUPPORTER.name)
    assert member.id_number not in html and f"331***********{member.id_number[-4:]}" in html


def test_a_second_upload_for_the_same_member_is_refused(app: Application, personas: Any, login: Any) -> None:
    c = login(personas.assistant_a)
    url = page_url(app, SPOUSE.name)
    assert upload(c, url, PDF).status_code == 302
    r = upload(c, url, jpeg(), "again.jpg", "image/jpeg")
    assert r.status_code == 409
    assert Authorisation.objects.count() == 1


def test_the_last_paper_authorisation_authorises_the_application(
    app: Application, personas: Any, login: Any
) -> None:
    c = login(personas.assistant_a)
    for p in (APPLICANT, SPOUSE, SUPPORTER):
        assert upload(c, page_url(app, p.name), PDF).status_code == 302
    app.refresh_from_db()
    assert app.status == Application.Status.AUTHORISED
    keys = set(OutboxMessage.objects.values_list("dedupe_key", flat=True))
    assert {f"verify:{app.pk}", f"form:{app.pk}"} <= keys
    event = AuditEvent.objects.get(action="application.status", new_values__status="authorised")
    assert event.actor == personas.assistant_a
