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
from PIL import Image

from applications import tasks
from applications.intake import CONSENT_VERSION
from applications.models import Application, ApplicationMember, Authorisation
from applications.pdf import application_form_html, application_form_pdf, application_form_response
from applications.services.forms import application_form_archive, application_form_regenerate
from assist_center.errors import ApplicationError, ConflictError
from assist_center.identity import make_id_number
from assist_center.models import AuditEvent

from .. import factories as f

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
SUBMITTED = dt.datetime(2026, 3, 2, 9, 30, tzinfo=SHANGHAI)
SIGNED = dt.datetime(2026, 3, 2, 20, 15, 7, tzinfo=SHANGHAI)

ADDRESS = '幸福路1号<script>alert("x")</script><b>粗</b>'
APPLICANT_ID = make_id_number(region6="331022", birth=dt.date(1958, 4, 12), seq=31)
SPOUSE_ID = make_id_number(region6="331022", birth=dt.date(1960, 9, 3), seq=42)
GRANDCHILD_ID = make_id_number(region6="331022", birth=dt.date(2016, 6, 1), seq=53)
SUPPORTER_ID = make_id_number(region6="330102", birth=dt.date(1985, 1, 20), seq=15)
APPLICANT_PHONE = "13800138000"
SUPPORTER_PHONE = "13912345678"
FULL_VALUES = [APPLICANT_ID, SPOUSE_ID, GRANDCHILD_ID, SUPPORTER_ID, "13800138000", "13912345678"]


def _sign(member: ApplicationMember, *, data: bytes, content_type: str) -> Authorisation:
    """An authorisation row written past the services' checks: stored evidence that is not what
    it claims to be, which the form must still render safely."""
    return Authorisation.objects.create(
        member=member,
        method=Authorisation.Method.SCREEN,
        image=data,
        content_type=content_type,
        sha256=hashlib.sha256(data).hexdigest(),
        signed_at=SIGNED,
        consent_version=CONSENT_VERSION,
        otp_verified=True,
    )


# Applicant + spouse + a grandchild (minor), one supporter; the applicant and the supporter sign
# on screen, the spouse's paper form is uploaded by the assistant.
PEOPLE = [
    f.applicant(
        name="王建国",
        birth=dt.date(1958, 4, 12),
        id_number=APPLICANT_ID,
        phone=APPLICANT_PHONE,
        sign=f.Sign.SCREEN,
    ),
    f.member("spouse", name="李秀英", birth=dt.date(1960, 9, 3), id_number=SPOUSE_ID),
    f.member("grandchild", name="王小明", birth=dt.date(2016, 6, 1), id_number=GRANDCHILD_ID),
    f.supporter(
        "child",
        name="王志强",
        birth=dt.date(1985, 1, 20),
        id_number=SUPPORTER_ID,
        phone=SUPPORTER_PHONE,
        sign=f.Sign.SCREEN,
    ),
]


def awaiting_the_spouse(county_map: Any, assistant: Any = None) -> Application:
    """Submitted on 2 March at 09:30; the applicant and the supporter signed at 20:15:07."""
    with time_machine.travel(SUBMITTED, tick=False):
        app = f.ApplicationFactory.create(
            village=county_map.village_a1,
            people=PEOPLE,
            address=ADDRESS,
            needs=["dibao", "medical"],
            need_note="老伴腿脚不便，需要轮椅。",
            consent_share=True,
            **({"assistant": assistant} if assistant is not None else {}),
        )
    with time_machine.travel(SIGNED, tick=False):
        for role in ("applicant", "supporter"):
            f.sign_on_screen(ApplicationMember.objects.get(application=app, role=role))
    return app


def spouse_of(app: Application) -> ApplicationMember:
    return ApplicationMember.objects.get(application=app, relation="spouse")


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
    app = awaiting_the_spouse(county_map, personas.assistant_a)
    with time_machine.travel(SIGNED, tick=False):
        f.sign_on_paper(spouse_of(app), actor=personas.assistant_a)
    app.refresh_from_db()
    assert app.status == Application.Status.AUTHORISED
    return app


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
    assert f"困难群众救助一件事 电子申请表 {application.receipt_code}" in titles  # the document's
    assert "S县困难群众救助一件事 电子申请表" in titles  # the bookmark of its heading
    # A4 is 595 x 842 points.
    assert re.search(rb"/MediaBox\s*\[\s*0 0 595\.\d+ 841\.\d+", inflated(pdf))


def test_the_form_lists_household_supporters_needs_consents_and_every_signature(
    application: Application, settings: Any
) -> None:
    settings.COUNTY_NAME = "S县"
    html = application_form_html(application, generated_at=dt.datetime(2026, 3, 3, 8, 0, tzinfo=SHANGHAI))

    assert "S县" in html and "困难群众救助一件事 电子申请表" in html
    assert application.receipt_code in html
    assert "2026-03-02 09:30:00" in html  # submission time in Asia/Shanghai
    assert "生成时间 2026-03-03 08:00:00" in html
    for name in ("王建国", "李秀英", "王小明", "王志强"):
        assert name in html
    assert "海游街道" in html and "上叶村" in html
    assert "331***********" + APPLICANT_ID[-4:] in html
    assert "138****8000" in html and "139****5678" in html
    assert "最低生活保障" in html or "低保" in html
    assert "需要轮椅" in html
    assert CONSENT_VERSION in html
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
    app = awaiting_the_spouse(county_map)
    photo = io.BytesIO()
    Image.new("RGB", (3000, 4000), "white").save(photo, format="JPEG")
    f.sign_on_paper(
        spouse_of(app),
        actor=personas.assistant_a,
        data=photo.getvalue(),
        name="scan.jpg",
        content_type="image/jpeg",
    )

    html = application_form_html(app)

    uris = re.findall(r"data:image/jpeg;base64,([A-Za-z0-9+/=]+)", html)
    assert len(uris) == 1
    import base64

    with Image.open(io.BytesIO(base64.b64decode(uris[0]))) as shown:
        assert max(shown.size) <= 1600


def test_an_image_that_is_not_what_it_claims_is_shown_as_its_hash(county_map: Any) -> None:
    app = awaiting_the_spouse(county_map)
    auth = _sign(spouse_of(app), data=b"<svg onload=alert(1)>", content_type="image/png")

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
    app = awaiting_the_spouse(county_map)
    # "submitted" lasts only inside the submission's transaction; the archive must refuse it too.
    Application.objects.filter(pk=app.pk).update(status=status)
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
    app = awaiting_the_spouse(county_map)
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
    code = application.receipt_code
    assert disposition.startswith(f'attachment; filename="application-form-{code}.pdf"; ')
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == f"申请表-{code}.pdf"
    assert response.content == bytes(application.form_pdf)


def test_there_is_no_download_before_the_form_is_archived(application: Application) -> None:
    with pytest.raises(Http404):
        application_form_response(application)
