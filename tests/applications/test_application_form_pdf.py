"""The electronic application form: what the PDF holds, that it is archived once, and its task."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import shutil
import subprocess
import zlib
from typing import Any
from urllib.parse import unquote

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.http import Http404
from PIL import Image, ImageDraw

from applications import tasks
from applications.models import Application, ApplicationMember, Authorisation
from applications.pdf import application_form_html, application_form_pdf, application_form_response
from applications.services.forms import application_form_archive, application_form_regenerate
from assist_center.errors import ApplicationError, ConflictError
from assist_center.identity import make_id_number
from assist_center.models import AuditEvent
from assist_center.pii import id_number_index, phone_index

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
SUBMITTED = dt.datetime(2026, 3, 2, 9, 30, tzinfo=SHANGHAI)
SIGNED = dt.datetime(2026, 3, 2, 20, 15, 7, tzinfo=SHANGHAI)

ADDRESS = '幸福路1号<script>alert("x")</script><b>粗</b>'
APPLICANT_ID = make_id_number(region6="331022", birth=dt.date(1958, 4, 12), seq=31)
SPOUSE_ID = make_id_number(region6="331022", birth=dt.date(1960, 9, 3), seq=42)
GRANDCHILD_ID = make_id_number(region6="331022", birth=dt.date(2016, 6, 1), seq=53)
SUPPORTER_ID = make_id_number(region6="330102", birth=dt.date(1985, 1, 20), seq=15)
APPLICANT_PHONE = "+8613800138000"
SUPPORTER_PHONE = "+8613912345678"
FULL_VALUES = [APPLICANT_ID, SPOUSE_ID, GRANDCHILD_ID, SUPPORTER_ID, "13800138000", "13912345678"]


def signature_png(text: str = "签") -> bytes:
    """A small real PNG like signature_pad's: transparent background, dark strokes."""
    image = Image.new("RGBA", (300, 120), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.line([(20, 90), (80, 30), (140, 95), (200, 25), (280, 80)], fill=(20, 20, 20, 255), width=5)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def scan_pdf() -> bytes:
    """A tiny, valid one-page PDF standing for a scanned paper authorisation."""
    image = Image.new("RGB", (200, 280), "white")
    buffer = io.BytesIO()
    image.save(buffer, format="PDF")
    return buffer.getvalue()


def _member(
    app: Application,
    position: int,
    role: str,
    name: str,
    number: str,
    relation: str,
    *,
    phone: str = "",
    must_authorise: bool = True,
) -> ApplicationMember:
    return ApplicationMember.objects.create(
        application=app,
        role=role,
        position=position,
        name=name,
        id_number=number,
        id_number_hash=id_number_index(number),
        document_type="resident_id",
        sex="M" if int(number[16]) % 2 else "F",
        birth_date=dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
        phone=phone,
        phone_hash=phone_index(phone) if phone else "",
        relation=relation,
        must_authorise=must_authorise,
    )


def _sign(
    member: ApplicationMember,
    *,
    method: str = Authorisation.Method.SCREEN,
    data: bytes | None = None,
    content_type: str = "image/png",
    uploaded_by: Any = None,
) -> Authorisation:
    data = data if data is not None else signature_png()
    return Authorisation.objects.create(
        member=member,
        method=method,
        image=data,
        content_type=content_type,
        sha256=hashlib.sha256(data).hexdigest(),
        signed_at=SIGNED,
        ip_address="203.0.113.9",
        user_agent="Mozilla/5.0 (Linux; Android 10)",
        consent_version="2026-01",
        otp_verified=method == Authorisation.Method.SCREEN,
        uploaded_by=uploaded_by,
    )


def make_application(
    county_map: Any,
    *,
    status: str = Application.Status.AUTHORISED,
    paper_uploader: Any = None,
    receipt: str = "K7M2Q9XW",
) -> Application:
    """Applicant + spouse + a grandchild (minor), one supporter; two screen signatures, one paper PDF."""
    c = county_map
    with time_machine.travel(SUBMITTED, tick=False):
        app = Application.objects.create(
            receipt_code=receipt,
            family_token=f"tok-{receipt}",
            status=status,
            channel="self",
            code_region=c.village_a1,
            village=c.village_a1,
            township=c.town_a,
            address=ADDRESS,
            needs=["dibao", "medical"],
            need_note="老伴腿脚不便，需要轮椅。",
            consent_data_check=True,
            consent_share=True,
            consent_publish=False,
            guardian_confirmed=True,
            consent_version="2026-01",
            authorised_at=SIGNED if status != Application.Status.AWAITING_AUTHORISATION else None,
        )
    applicant = _member(app, 0, "applicant", "王建国", APPLICANT_ID, "self", phone=APPLICANT_PHONE)
    spouse = _member(app, 1, "member", "李秀英", SPOUSE_ID, "spouse")
    _member(app, 2, "member", "王小明", GRANDCHILD_ID, "grandchild", must_authorise=False)
    supporter = _member(app, 3, "supporter", "王志强", SUPPORTER_ID, "child", phone=SUPPORTER_PHONE)
    _sign(applicant)
    _sign(supporter)
    if paper_uploader is not None:
        _sign(
            spouse,
            method=Authorisation.Method.PAPER,
            data=scan_pdf(),
            content_type="application/pdf",
            uploaded_by=paper_uploader,
        )
    return app


def inflated(pdf: bytes) -> bytes:
    """The PDF with every Flate stream decompressed (WeasyPrint packs objects into streams)."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n", pdf):
        try:
            parts.append(zlib.decompressobj().decompress(pdf[match.end() : match.end() + 20_000_000]))
        except zlib.error:
            continue
    return b"\n".join(parts)


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", inflated(pdf)))


def embedded_fonts(pdf: bytes) -> list[str]:
    return [m.decode() for m in re.findall(rb"/FontName\s*/([A-Z]{6}\+[^\s/<>\[\]]+)", inflated(pdf))]


def pdf_titles(pdf: bytes) -> list[str]:
    """The /Title strings (UTF-16BE hex, as WeasyPrint writes them): the document's and the bookmarks'."""
    found = re.findall(rb"/Title\s*<feff([0-9a-fA-F]+)>", inflated(pdf))
    return [bytes.fromhex(m.decode()).decode("utf-16-be") for m in found]


@pytest.fixture
def application(county_map: Any, personas: Any) -> Application:
    return make_application(county_map, paper_uploader=personas.assistant_a)


# --- what the form shows -----------------------------------------------------------------------


def test_the_form_is_an_a4_pdf_with_embedded_noto_cjk_subsets_and_the_chinese_title(
    application: Application, settings: Any
) -> None:
    settings.COUNTY_NAME = "S县"
    pdf = application_form_pdf(application)

    assert pdf.startswith(b"%PDF-")
    assert page_count(pdf) >= 1
    fonts = embedded_fonts(pdf)
    assert fonts and all("Noto-Sans-CJK" in f or "Noto-Sans-Mono-CJK" in f for f in fonts), fonts
    titles = pdf_titles(pdf)
    assert "困难群众救助一件事 电子申请表 K7M2Q9XW" in titles  # the document's
    assert "S县困难群众救助一件事 电子申请表" in titles  # the bookmark of its heading
    # A4 is 595 x 842 points.
    assert re.search(rb"/MediaBox\s*\[\s*0 0 595\.\d+ 841\.\d+", inflated(pdf))


def test_the_form_lists_household_supporters_needs_consents_and_every_signature(
    application: Application, settings: Any
) -> None:
    settings.COUNTY_NAME = "S县"
    html = application_form_html(application, generated_at=dt.datetime(2026, 3, 3, 8, 0, tzinfo=SHANGHAI))

    assert "S县" in html and "困难群众救助一件事 电子申请表" in html
    assert "K7M2Q9XW" in html
    assert "2026-03-02 09:30:00" in html  # submission time in Asia/Shanghai
    assert "生成时间 2026-03-03 08:00:00" in html
    for name in ("王建国", "李秀英", "王小明", "王志强"):
        assert name in html
    assert "海游街道" in html and "上叶村" in html
    assert "331***********" + APPLICANT_ID[-4:] in html
    assert "138****8000" in html and "139****5678" in html
    assert "最低生活保障" in html or "低保" in html
    assert "需要轮椅" in html
    assert "2026-01" in html  # consent version
    # Two screen signatures embedded as PNG, the paper scan shown as its hash.
    assert html.count("data:image/png;base64,") == 2
    assert "纸质授权书（PDF 扫描件）" in html
    paper = Authorisation.objects.get(method=Authorisation.Method.PAPER)
    assert paper.sha256 in html
    assert "2026-03-02 20:15:07" in html


def test_the_form_never_contains_a_full_id_number_or_phone(application: Application) -> None:
    html = application_form_html(application)
    pdf = application_form_pdf(application)
    raw = inflated(pdf)
    for value in FULL_VALUES:
        assert value not in html
        assert value.encode() not in raw
        assert value.encode("utf-16-be").hex().encode() not in raw.lower()


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_the_text_layer_reads_the_title_and_masks(application: Application, settings: Any) -> None:
    settings.COUNTY_NAME = "S县"
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=application_form_pdf(application), capture_output=True, check=True
    ).stdout.decode()
    assert "困难群众救助一件事 电子申请表" in text
    assert "138****8000" in text
    assert not any(v in text for v in FULL_VALUES)
    assert '<script>alert("x")</script>' in text  # markup in the address is printed as text


def test_markup_in_the_address_is_rendered_as_text(application: Application) -> None:
    html = application_form_html(application)
    assert "<script>" not in html and "<b>粗</b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;b&gt;粗&lt;/b&gt;" in html
    assert application_form_pdf(application).startswith(b"%PDF-")


def test_a_jpeg_paper_scan_is_embedded_scaled(county_map: Any, personas: Any) -> None:
    app = make_application(county_map)
    spouse = ApplicationMember.objects.get(application=app, relation="spouse")
    photo = io.BytesIO()
    Image.new("RGB", (3000, 4000), "white").save(photo, format="JPEG")
    _sign(
        spouse,
        method=Authorisation.Method.PAPER,
        data=photo.getvalue(),
        content_type="image/jpeg",
        uploaded_by=personas.assistant_a,
    )

    html = application_form_html(app)

    uris = re.findall(r"data:image/jpeg;base64,([A-Za-z0-9+/=]+)", html)
    assert len(uris) == 1
    import base64

    with Image.open(io.BytesIO(base64.b64decode(uris[0]))) as shown:
        assert max(shown.size) <= 1600


def test_an_image_that_is_not_what_it_claims_is_shown_as_its_hash(county_map: Any) -> None:
    app = make_application(county_map)
    spouse = ApplicationMember.objects.get(application=app, relation="spouse")
    auth = _sign(spouse, data=b"<svg onload=alert(1)>", content_type="image/png")

    html = application_form_html(app)

    assert "onload" not in html
    assert auth.sha256 in html


# --- archive, task, regeneration -----------------------------------------------------------------


def test_archiving_stores_the_pdf_and_its_hash_once(application: Application) -> None:
    with time_machine.travel(dt.datetime(2026, 3, 3, 8, 0, tzinfo=SHANGHAI), tick=False):
        application_form_archive(application_id=application.pk)
    application.refresh_from_db()
    first = bytes(application.form_pdf)
    assert first.startswith(b"%PDF-")
    assert application.form_sha256 == hashlib.sha256(first).hexdigest()
    assert application.form_generated_at == dt.datetime(2026, 3, 3, 8, 0, tzinfo=SHANGHAI)
    event = AuditEvent.objects.get(action="application.form_generated")
    assert event.subject_id == str(application.pk)
    assert event.new_values == {"form_sha256": application.form_sha256}

    with time_machine.travel(dt.datetime(2026, 3, 9, 8, 0, tzinfo=SHANGHAI), tick=False):
        application_form_archive(application_id=application.pk)
    application.refresh_from_db()
    assert bytes(application.form_pdf) == first
    assert application.form_sha256 == hashlib.sha256(first).hexdigest()
    assert application.form_generated_at == dt.datetime(2026, 3, 3, 8, 0, tzinfo=SHANGHAI)
    assert AuditEvent.objects.filter(action="application.form_generated").count() == 1


@pytest.mark.parametrize("status", ["submitted", "awaiting_authorisation"])
def test_archiving_refuses_an_application_not_yet_authorised(county_map: Any, status: str) -> None:
    app = make_application(county_map, status=status)
    with pytest.raises(ConflictError):
        application_form_archive(application_id=app.pk)
    app.refresh_from_db()
    assert app.form_pdf is None and app.form_sha256 == "" and app.form_generated_at is None
    assert not AuditEvent.objects.filter(action="application.form_generated").exists()


def test_the_task_archives_the_form_and_is_idempotent(application: Application) -> None:
    tasks.application_form_generate.apply(kwargs={"application_id": application.pk}).get()
    application.refresh_from_db()
    sha = application.form_sha256
    assert sha and bytes(application.form_pdf).startswith(b"%PDF-")

    tasks.application_form_generate.apply(kwargs={"application_id": application.pk}).get()
    application.refresh_from_db()
    assert application.form_sha256 == sha
    assert AuditEvent.objects.filter(action="application.form_generated").count() == 1


def test_the_task_for_an_unauthorised_application_changes_nothing(county_map: Any) -> None:
    app = make_application(county_map, status="awaiting_authorisation")
    tasks.application_form_generate.apply(kwargs={"application_id": app.pk}).get()
    app.refresh_from_db()
    assert app.form_pdf is None


def test_regenerating_records_the_old_and_new_hash_and_the_reason(
    application: Application, personas: Any
) -> None:
    with time_machine.travel(dt.datetime(2026, 3, 3, 8, 0, tzinfo=SHANGHAI), tick=False):
        application_form_archive(application_id=application.pk)
    application.refresh_from_db()
    old = application.form_sha256

    with time_machine.travel(dt.datetime(2026, 3, 5, 10, 0, tzinfo=SHANGHAI), tick=False):
        application_form_regenerate(
            actor=personas.assistant_a, application_id=application.pk, reason="更正模板中的村名"
        )
    application.refresh_from_db()
    assert application.form_sha256 != old  # the footer's generation time differs
    assert application.form_sha256 == hashlib.sha256(bytes(application.form_pdf)).hexdigest()
    event = AuditEvent.objects.get(action="application.form_regenerated")
    assert event.actor == personas.assistant_a
    assert event.old_values["form_sha256"] == old
    assert event.new_values["form_sha256"] == application.form_sha256
    assert event.reason == "更正模板中的村名"


def test_regenerating_is_404_out_of_scope_403_for_a_cadre_and_needs_a_reason(
    application: Application, personas: Any
) -> None:
    application_form_archive(application_id=application.pk)
    with pytest.raises(Http404):
        application_form_regenerate(
            actor=personas.assistant_b, application_id=application.pk, reason="更正模板"
        )
    with pytest.raises(PermissionDenied):
        application_form_regenerate(actor=personas.cadre_a1, application_id=application.pk, reason="更正模板")
    with pytest.raises(ApplicationError):
        application_form_regenerate(actor=personas.coordinator, application_id=application.pk, reason="  ")
    assert not AuditEvent.objects.filter(action="application.form_regenerated").exists()


def test_the_download_response_is_an_attachment_named_after_the_receipt(application: Application) -> None:
    application_form_archive(application_id=application.pk)
    application.refresh_from_db()

    response = application_form_response(application)

    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store"
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="application-form-K7M2Q9XW.pdf"; ')
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "申请表-K7M2Q9XW.pdf"
    assert response.content == bytes(application.form_pdf)


def test_there_is_no_download_before_the_form_is_archived(application: Application) -> None:
    with pytest.raises(Http404):
        application_form_response(application)
