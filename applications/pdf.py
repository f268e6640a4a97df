"""The electronic application form (一件事电子申请表) as a PDF (rendered by assist_center.pdf).

The form is the official record staff print and file, so it shows what security.md lets staff
see by default: names, but ID numbers and phones masked.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import Http404, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext
from PIL import Image, UnidentifiedImageError

from assist_center.identity import age_on
from assist_center.pdf import attachment_response, data_uri, local_time, render_pdf
from assist_center.phones import mask_phone
from assist_center.pii import mask_id_number
from assist_center.qr import qr_svg_data_uri

from .models import Application, ApplicationMember, Authorisation, NeedItem, Person

# A phone photo of a paper form can be 10 MB; the PDF needs it legible, not at full resolution.
# The SHA-256 printed next to it is that of the original upload, which stays in the database.
SCAN_MAX_PIXELS = 1600
SCAN_JPEG_QUALITY = 80

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
PDF_MAGIC = b"%PDF-"


def _sniff(data: bytes) -> str:
    """The real type of an upload from its first bytes; the stored content type is only a claim."""
    if data.startswith(PNG_MAGIC):
        return "image/png"
    if data.startswith(JPEG_MAGIC):
        return "image/jpeg"
    if data.startswith(PDF_MAGIC):
        return "application/pdf"
    return ""


def _scan_data_uri(data: bytes) -> str | None:
    """A paper scan (JPEG/PNG) shrunk for print, as a data: URI; None if Pillow cannot read it."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.thumbnail((SCAN_MAX_PIXELS, SCAN_MAX_PIXELS))
            out = io.BytesIO()
            image.convert("RGB").save(out, format="JPEG", quality=SCAN_JPEG_QUALITY)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    return data_uri("image/jpeg", out.getvalue())


@dataclass(frozen=True)
class PersonRow:
    number: int
    name: str
    role: str
    relation: str
    id_number: str
    sex: str
    age: int
    phone: str


@dataclass(frozen=True)
class SignatureRow:
    name: str
    role: str
    method: str
    is_paper: bool
    signed_at: str
    sha256: str
    consent_version: str
    otp_verified: bool
    image_uri: str | None
    # Shown instead of an image for a PDF scan, or when an image cannot be read.
    note: str = ""


@dataclass
class FormContext:
    application: Application
    county_name: str
    receipt_qr: str
    submitted_at: str
    authorised_at: str
    generated_at: str
    channel: str
    submitted_by: str
    township: str
    village: str
    address: str
    household: list[PersonRow] = field(default_factory=list)
    supporters: list[PersonRow] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)
    signatures: list[SignatureRow] = field(default_factory=list)
    missing_signatures: list[str] = field(default_factory=list)


def _person_row(number: int, member: ApplicationMember, day: dt.date) -> PersonRow:
    try:
        sex = str(Person.Sex(member.sex).label)
    except ValueError:
        sex = "-"
    return PersonRow(
        number=number,
        name=member.name,
        role=member.get_role_display(),
        relation=member.get_relation_display(),
        id_number=mask_id_number(member.id_number) if member.id_number else "-",
        sex=sex,
        age=age_on(member.birth_date, day),
        phone=mask_phone(member.phone) if member.phone else "-",
    )


def _signature_row(member: ApplicationMember, auth: Authorisation) -> SignatureRow:
    data = bytes(auth.image)
    kind = _sniff(data)
    image_uri: str | None = None
    note = ""
    is_paper = auth.method == Authorisation.Method.PAPER
    if kind == "application/pdf":
        note = gettext("Paper authorisation (PDF scan)")
    elif kind == "image/png" and not is_paper:
        # The signature exactly as drawn: these bytes are what the SHA-256 below proves.
        image_uri = data_uri(kind, data)
    elif kind in ("image/png", "image/jpeg"):
        image_uri = _scan_data_uri(data)
    if image_uri is None and not note:
        note = gettext("The image cannot be displayed; the original is kept in the system.")
    return SignatureRow(
        name=member.name,
        role=member.get_role_display(),
        method=auth.get_method_display(),
        is_paper=is_paper,
        signed_at=local_time(auth.signed_at),
        sha256=auth.sha256,
        consent_version=auth.consent_version,
        otp_verified=auth.otp_verified,
        image_uri=image_uri,
        note=note,
    )


def _needs(codes: list[str]) -> list[str]:
    labels = []
    for code in codes:
        try:
            labels.append(str(NeedItem(code).label))
        except ValueError:
            labels.append(code)
    return labels


def _staff_name(user: object | None) -> str:
    if user is None:
        return ""
    full = getattr(user, "get_full_name", lambda: "")()
    return str(full or getattr(user, "get_username", lambda: "")())


def form_context(application: Application, *, generated_at: dt.datetime) -> FormContext:
    """Everything the form shows, masked and formatted; reads the members and signatures once."""
    members = list(
        ApplicationMember.objects.filter(application=application)
        .select_related("authorisation")
        .order_by("position")
    )
    day = timezone.localtime(application.created_at, ZoneInfo(settings.TIME_ZONE)).date()
    ctx = FormContext(
        application=application,
        county_name=settings.COUNTY_NAME,
        receipt_qr=qr_svg_data_uri(application.receipt_code),
        submitted_at=local_time(application.created_at),
        authorised_at=local_time(application.authorised_at),
        generated_at=local_time(generated_at),
        channel=application.get_channel_display(),
        submitted_by=_staff_name(application.submitted_by),
        township=application.township.name,
        village=application.village.name,
        address=application.address,
        needs=_needs(list(application.needs)),
    )
    household = [m for m in members if m.role != ApplicationMember.Role.SUPPORTER]
    supporters = [m for m in members if m.role == ApplicationMember.Role.SUPPORTER]
    ctx.household = [_person_row(i, m, day) for i, m in enumerate(household, start=1)]
    ctx.supporters = [_person_row(i, m, day) for i, m in enumerate(supporters, start=1)]
    for m in members:
        auth = getattr(m, "authorisation", None)
        if auth is not None:
            ctx.signatures.append(_signature_row(m, auth))
        elif m.must_authorise:
            ctx.missing_signatures.append(m.name)
    return ctx


def _css_string(text: str) -> str:
    # Goes into a CSS `content:` string inside <style>, where HTML escaping does not apply.
    return "".join(c for c in text if c not in '"\\<>\n\r')


def application_form_html(application: Application, *, generated_at: dt.datetime | None = None) -> str:
    """The form as self-contained HTML, in the county's language (it is an official record)."""
    generated_at = generated_at or timezone.now()
    with translation.override(settings.LANGUAGE_CODE):
        ctx = form_context(application, generated_at=generated_at)
        # "Page X of Y" -> "第 " counter(page) " 页，共 " counter(pages) " 页" for the CSS footer.
        footer_pages = re.sub(
            r"%\((pages?)\)s",
            lambda m: f'" counter({m.group(1)}) "',
            '"' + _css_string(gettext("Page %(page)s of %(pages)s")) + '"',
        )
        generated_label = _css_string(gettext("Generated %(time)s") % {"time": ctx.generated_at})
        return render_to_string(
            "applications/pdf/application_form.html",
            {
                "form": ctx,
                "app": application,
                "footer_pages": footer_pages,
                "footer_generated": generated_label,
            },
        )


def application_form_pdf(application: Application, *, generated_at: dt.datetime | None = None) -> bytes:
    """The electronic application form of `application` as A4 PDF bytes."""
    return render_pdf(application_form_html(application, generated_at=generated_at))


def application_form_response(application: Application) -> HttpResponse:
    """The archived form as a download, `申请表-<receipt>.pdf`; Http404 if none was archived yet.

    The caller has already checked that the user may see the application (its scoped admin).
    """
    if application.form_pdf is None:
        raise Http404
    code = application.receipt_code
    return attachment_response(
        bytes(application.form_pdf),
        content_type="application/pdf",
        filename=f"申请表-{code}.pdf",
        ascii_fallback=f"application-form-{code}.pdf",
    )


# --- the blank paper authorisation (issue 16) ---------------------------------------------------


@dataclass(frozen=True)
class SignerLine:
    name: str
    role: str
    relation: str
    must_sign: bool
    signed: bool
    under_guardian_age: bool


def authorisation_blank_context(application: Application, *, full_names: bool) -> dict[str, object]:
    """The household on the paper form: everyone listed, a signing place for who must sign.

    `full_names` for staff printing at the township office; residents' copies (from the family
    link, which travels in chats) carry masked names as the family page does, and each signer
    writes their own name and ID number by hand.
    """
    from assist_center.pii import mask_name

    from .intake import GUARDIAN_AGE

    day = timezone.localdate()
    members = list(
        ApplicationMember.objects.filter(application=application)
        .select_related("authorisation")
        .defer("authorisation__image")
        .order_by("position")
    )
    lines = [
        SignerLine(
            name=m.name if full_names else mask_name(m.name),
            role=m.get_role_display(),
            relation=m.get_relation_display(),
            must_sign=m.must_authorise,
            signed=getattr(m, "authorisation", None) is not None,
            under_guardian_age=age_on(m.birth_date, day) < GUARDIAN_AGE,
        )
        for m in members
    ]
    return {
        "app": application,
        "county_name": settings.COUNTY_NAME,
        "receipt_qr": qr_svg_data_uri(application.receipt_code),
        "township": application.township.name,
        "village": application.village.name,
        "lines": lines,
        "to_sign": [line for line in lines if line.must_sign and not line.signed],
        "printed_at": local_time(timezone.now()),
    }


def authorisation_blank_pdf(application: Application, *, full_names: bool) -> bytes:
    """The paper authorisation to print and sign, in the county's language, as A4 PDF bytes."""
    with translation.override(settings.LANGUAGE_CODE):
        html = render_to_string(
            "applications/pdf/authorisation_blank.html",
            authorisation_blank_context(application, full_names=full_names),
        )
    return render_pdf(html)


def authorisation_blank_response(application: Application, *, full_names: bool) -> HttpResponse:
    """The blank authorisation as a PDF download (to print), `授权书-<receipt>.pdf`.

    The caller has already decided that the requester may see this application.
    """
    code = application.receipt_code
    return attachment_response(
        authorisation_blank_pdf(application, full_names=full_names),
        content_type="application/pdf",
        filename=f"授权书-{code}.pdf",
        ascii_fallback=f"authorisation-{code}.pdf",
    )
