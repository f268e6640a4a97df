"""家庭码: family members prove who they are and authorise the data check; paper scans by the assistant.

Every adult member and every supporter of an application (ApplicationMember.must_authorise) gives
one Authorisation: a signature drawn on screen after an SMS code to their own phone, or a scan of
a paper form uploaded by the township assistant. The last one makes the application `authorised`
and queues the data check and the application form, all in one transaction.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import logging
import unicodedata
import warnings
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

from applications.models import Application, ApplicationMember, Authorisation, OtpPurpose
from applications.services.otp import otp_consume, otp_send, otp_verify
from applications.services.transitions import application_transition
from assist_center import outbox
from assist_center.actors import Actor, AuditActor
from assist_center.audit import RESIDENT, audit_record
from assist_center.errors import ApplicationError, ConflictError
from assist_center.identity import normalise_id_number
from assist_center.permissions import may_upload_paper
from assist_center.phones import InvalidPhone, normalise_mobile
from assist_center.pii import id_number_index, mask_name, phone_index
from assist_center.scopes import scope_households

logger = logging.getLogger(__name__)

VERIFY_TASK = "eligibility.tasks.application_verify"
FORM_TASK = "applications.tasks.application_form_generate"

# Signatures from signature_pad on a phone are 10-80 KB; the cap leaves room and bounds the work.
MAX_SIGNATURE_BYTES = 200 * 1024
SIGNATURE_MIN_SIDE = 100
SIGNATURE_MAX_SIDE = 2000
# A stroke a few centimetres long at phone resolution darkens thousands of pixels; a tap a few dozen.
MIN_INK_PIXELS = 150
_INK_LEVEL = 160  # grey level (0 black, 255 white) under which a pixel counts as ink

MAX_SCAN_BYTES = 5 * 1024 * 1024
# An A4 page scanned at 600 dpi is about 35 million pixels; anything beyond is not a scan.
MAX_SCAN_PIXELS = 40_000_000

# Failed identifications per family link and address before the form refuses for an hour: name +
# ID number is the secret here, and a family link travels in group chats.
IDENTIFY_FAILURES_PER_IP = 10
IDENTIFY_FAILURES_PER_TOKEN = 30
IDENTIFY_WINDOW_SECONDS = 60 * 60

SIGNABLE_STATUSES = (Application.Status.SUBMITTED, Application.Status.AWAITING_AUTHORISATION)
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
_PDF_MAGIC = b"%PDF-"
_DATA_URL_PREFIX = "data:image/png;base64,"
# Base64 grows 4/3: the longest data URL that can hold an acceptable PNG.
MAX_DATA_URL_LENGTH = len(_DATA_URL_PREFIX) + (MAX_SIGNATURE_BYTES + 2) // 3 * 4

# One message for every way identification can fail, so that the form never tells a stranger
# which of name, ID number or phone was right.
IDENTIFY_FAILED = _(
    "The details do not match anyone who needs to sign this application. Check the name, "
    "ID number and phone number and try again."
)


@dataclass(frozen=True)
class FamilySigner:
    """One person who must authorise, as the public family page may show them (masked, no numbers)."""

    member_id: int
    masked_name: str
    role: str
    role_label: str
    signed: bool
    signed_at: datetime | None
    method_label: str


# --- reads -----------------------------------------------------------------------------------


def family_application_get(*, token: str) -> Application:
    """The application behind a family link, or Http404 (unknown and malformed tokens alike)."""
    if not isinstance(token, str) or not token or len(token) > 64:
        raise Http404
    app = Application.objects.select_related("village", "township").filter(family_token=token).first()
    if app is None:
        raise Http404
    return app


def family_signers(*, application: Application) -> list[FamilySigner]:
    """Everyone who must authorise, in form order, with whether they have (one query)."""
    members = (
        ApplicationMember.objects.filter(application=application, must_authorise=True)
        .select_related("authorisation")
        .only(
            "id", "name", "role", "position", "application_id",
            "authorisation__id", "authorisation__signed_at", "authorisation__method",
        )
        .order_by("position")
    )  # fmt: skip
    signers = []
    for m in members:
        auth = authorisation_of(m)
        signers.append(
            FamilySigner(
                member_id=m.pk,
                masked_name=mask_name(m.name),
                role=m.role,
                role_label=str(m.get_role_display()),
                signed=auth is not None,
                signed_at=auth.signed_at if auth else None,
                method_label=str(auth.get_method_display()) if auth else "",
            )
        )
    return signers


def authorisation_of(member: ApplicationMember) -> Authorisation | None:
    try:
        return member.authorisation
    except Authorisation.DoesNotExist:
        return None


# --- identification --------------------------------------------------------------------------


def _clean_name(name: str) -> str:
    return unicodedata.normalize("NFKC", str(name)).strip()


def _limit_keys(token: str, ip: str | None) -> tuple[str, str]:
    # Hashed: the cache (Redis) gets neither the family token nor the address.
    per_ip = hashlib.sha256(f"{token}|{ip or '-'}".encode()).hexdigest()
    per_token = hashlib.sha256(token.encode()).hexdigest()
    return f"family-identify:ip:{per_ip}", f"family-identify:token:{per_token}"


def _identify_blocked(token: str, ip: str | None) -> bool:
    """Whether too many identifications failed lately; True also when the cache cannot answer.

    Failing closed: without the counter the form would be an unlimited ID-number oracle.
    """
    per_ip, per_token = _limit_keys(token, ip)
    try:
        counts = cache.get_many([per_ip, per_token])
    except Exception:
        return True
    return (
        int(counts.get(per_ip, 0)) >= IDENTIFY_FAILURES_PER_IP
        or int(counts.get(per_token, 0)) >= IDENTIFY_FAILURES_PER_TOKEN
    )


def _count_failure(token: str, ip: str | None) -> None:
    for key in _limit_keys(token, ip):
        try:
            if not cache.add(key, 1, timeout=IDENTIFY_WINDOW_SECONDS):
                cache.incr(key)
        except ValueError:
            # The key expired between add() and incr(): this failure opens a new window.
            cache.add(key, 1, timeout=IDENTIFY_WINDOW_SECONDS)
        except Exception:
            # Not fatal here: the next attempt's check fails closed while the cache is down.
            logger.warning("family: could not count a failed identification (cache unavailable)")


def _refuse_identify(token: str, ip: str | None) -> ApplicationError:
    _count_failure(token, ip)
    return ApplicationError(IDENTIFY_FAILED)


def _check_signable(application: Application) -> None:
    if application.status not in SIGNABLE_STATUSES:
        raise ConflictError(_("This application no longer needs signatures."))


def family_member_identify(
    *, token: str, name: str, id_number: str, phone: str | None = None, ip: str | None = None
) -> ApplicationMember:
    """The member needing authorisation on this application whose name and ID number were typed.

    Every mismatch (name, ID number, a member of another application, a phone differing from the
    one on file) raises the same ApplicationError; failures are limited per link and IP address
    (429 when exceeded). A member who has already signed gets a ConflictError.
    """
    application = family_application_get(token=token)
    _check_signable(application)
    if _identify_blocked(token, ip):
        raise ApplicationError(
            _("Too many attempts. Please wait an hour, or ask the village cadre for help."), status=429
        )
    clean = _clean_name(name)
    number = normalise_id_number(id_number) if isinstance(id_number, str) else ""
    if not clean or not number or "\x00" in clean or "\x00" in number:
        raise _refuse_identify(token, ip)
    member = (
        ApplicationMember.objects.filter(
            application=application, must_authorise=True, id_number_hash=id_number_index(number)
        )
        .select_related("application")
        .first()
    )
    if member is None or _clean_name(member.name) != clean:
        raise _refuse_identify(token, ip)
    if phone is not None:
        try:
            e164 = normalise_mobile(phone)
        except InvalidPhone as exc:
            # The typed number itself is wrong: say so (it reveals nothing about the application).
            raise ApplicationError(exc.messages[0], {"fields": {"phone": exc.messages[0]}}) from None
        if member.phone_hash and member.phone_hash != phone_index(e164):
            raise _refuse_identify(token, ip)
    if Authorisation.objects.filter(member=member).exists():
        raise ConflictError(_("You have already signed."))
    return member


def family_code_send(*, token: str, member_id: int, phone: str, ip: str | None) -> None:
    """Send the SMS code for signing to the phone of an identified member (rate limits in otp_send)."""
    member = _member_for_token(token=token, member_id=member_id)
    e164 = _phone_for_member(member, phone)
    otp_send(phone=e164, purpose=OtpPurpose.FAMILY, ip=ip, token=token)


def _member_for_token(*, token: str, member_id: int) -> ApplicationMember:
    application = family_application_get(token=token)
    member = (
        ApplicationMember.objects.filter(pk=member_id, application=application, must_authorise=True)
        .select_related("application", "application__village")
        .first()
    )
    if member is None:
        raise Http404
    return member


def _phone_for_member(member: ApplicationMember, phone: str) -> str:
    try:
        e164 = normalise_mobile(phone)
    except InvalidPhone as exc:
        raise ApplicationError(exc.messages[0], {"fields": {"phone": exc.messages[0]}}) from None
    if member.phone_hash and member.phone_hash != phone_index(e164):
        raise ApplicationError(IDENTIFY_FAILED)
    return e164


# --- evidence checks -------------------------------------------------------------------------


def signature_png_from_data_url(data_url: str) -> bytes:
    """The PNG bytes of a `data:image/png;base64,...` URL as canvas.toDataURL() writes it."""
    if not isinstance(data_url, str) or not data_url.strip():
        raise ApplicationError(_("Please sign in the box before submitting."), {"fields": {"signature": ""}})
    data_url = data_url.strip()
    if len(data_url) > MAX_DATA_URL_LENGTH:
        raise ApplicationError(_("The signature image is too large."))
    if not data_url.startswith(_DATA_URL_PREFIX):
        raise ApplicationError(_("The signature is not a PNG image."))
    try:
        return base64.b64decode(data_url[len(_DATA_URL_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ApplicationError(_("The signature is not a PNG image.")) from None


def signature_png_check(png: bytes) -> None:
    """Refuse anything but a PNG of sensible size and dimensions with some ink on it."""
    if not png:
        raise ApplicationError(_("Please sign in the box before submitting."))
    if len(png) > MAX_SIGNATURE_BYTES:
        raise ApplicationError(_("The signature image is too large."))
    if not png.startswith(_PNG_MAGIC):
        raise ApplicationError(_("The signature is not a PNG image."))
    try:
        with Image.open(io.BytesIO(png)) as img:
            if img.format != "PNG":
                raise ApplicationError(_("The signature is not a PNG image."))
            width, height = img.size
            if not (SIGNATURE_MIN_SIDE <= width <= SIGNATURE_MAX_SIDE) or not (
                SIGNATURE_MIN_SIDE <= height <= SIGNATURE_MAX_SIDE
            ):
                raise ApplicationError(_("The signature image has an unusual size. Please sign again."))
            rgba = img.convert("RGBA")
    except ApplicationError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise ApplicationError(_("The signature is not a PNG image.")) from None
    # Transparent canvas (signature_pad's default) flattened on white: ink is what stays dark.
    flat = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba).convert("L")
    ink = sum(flat.histogram()[:_INK_LEVEL])
    if ink < MIN_INK_PIXELS:
        raise ApplicationError(_("The signature box is empty. Please sign with your finger."))


def scan_content_type(data: bytes) -> str:
    """The content type of an uploaded paper form, checked by its bytes (never its name)."""
    if len(data) > MAX_SCAN_BYTES:
        raise ApplicationError(_("The file is too large (at most 5 MB)."))
    if not data:
        raise ApplicationError(_("The file is empty."))
    if data.startswith(_PDF_MAGIC):
        # A file cut off in transfer has no end-of-file marker near its end.
        if b"%%EOF" not in data[-4096:]:
            raise ApplicationError(_("The PDF file is damaged. Please scan it again."))
        return "application/pdf"
    if data.startswith(_PNG_MAGIC):
        expected, content_type = "PNG", "image/png"
    elif data.startswith(_JPEG_MAGIC):
        expected, content_type = "JPEG", "image/jpeg"
    else:
        raise ApplicationError(_("Only a photo (JPEG or PNG) or a PDF file can be uploaded."))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if img.format != expected or img.width * img.height > MAX_SCAN_PIXELS:
                    raise ApplicationError(_("The image cannot be read. Please scan it again."))
                img.verify()
    except ApplicationError:
        raise
    except Exception:
        # Pillow raises many types for a damaged or hostile file; each means "not a usable scan".
        raise ApplicationError(_("The image cannot be read. Please scan it again.")) from None
    return content_type


# --- writes ----------------------------------------------------------------------------------


def authorisation_sign(
    *, token: str, member_id: int, phone: str, otp: str, png: bytes, ip: str | None, user_agent: str
) -> Authorisation:
    """Store a member's on-screen signature after checking the SMS code sent to `phone`.

    Checks the PNG before the code, so a bad drawing does not use up the code. A member who has
    already signed gets a ConflictError ("already signed"). The last signature authorises the
    application (see _complete_if_all_signed) in the same transaction.
    """
    member = _member_for_token(token=token, member_id=member_id)
    _check_signable(member.application)
    if Authorisation.objects.filter(member=member).exists():
        raise ConflictError(_("You have already signed."))
    e164 = _phone_for_member(member, phone)
    signature_png_check(png)
    # Outside the transaction below: a wrong code's attempt count must survive our rollback.
    challenge_id = otp_verify(phone=e164, purpose=OtpPurpose.FAMILY, code=str(otp or "").strip())
    with transaction.atomic():
        # Used up only together with the signature it proves: a 409 leaves the code usable.
        otp_consume(challenge_id=challenge_id)
        application = Application.objects.select_for_update().get(pk=member.application_id)
        _check_signable(application)
        member = ApplicationMember.objects.select_for_update().get(pk=member.pk)
        auth = _authorisation_create(
            member=member,
            application=application,
            method=Authorisation.Method.SCREEN,
            data=png,
            content_type="image/png",
            ip=ip,
            user_agent=user_agent,
            otp_verified=True,
            uploaded_by=None,
        )
        if not member.phone_hash:
            # A household member had no phone in the application; the verified one is theirs now.
            member.phone = e164
            member.phone_hash = phone_index(e164)
            member.save(update_fields=["phone", "phone_hash"])
        _complete_if_all_signed(application=application, actor=RESIDENT)
    return auth


def authorisation_upload_paper(
    *, actor: Actor, member_id: int, upload: UploadedFile, ip: str | None = None
) -> Authorisation:
    """Store the scan of a member's signed paper form, uploaded by the township assistant.

    Out of the actor's scope (or no such member): Http404. In scope but not an assistant or the
    coordinator (a village cadre): PermissionDenied.
    """
    member = _member_in_scope(actor=actor, member_id=member_id)
    if not may_upload_paper(actor):
        raise PermissionDenied
    _check_signable(member.application)
    if Authorisation.objects.filter(member=member).exists():
        raise ConflictError(_("This person has already signed."))
    size = getattr(upload, "size", None) or 0
    if size > MAX_SCAN_BYTES:
        raise ApplicationError(_("The file is too large (at most 5 MB)."))
    upload.seek(0)
    data = upload.read(MAX_SCAN_BYTES + 1)
    content_type = scan_content_type(data)
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=member.application_id)
        _check_signable(application)
        member = ApplicationMember.objects.select_for_update().get(pk=member.pk)
        auth = _authorisation_create(
            member=member,
            application=application,
            method=Authorisation.Method.PAPER,
            data=data,
            content_type=content_type,
            ip=ip,
            user_agent="",
            otp_verified=False,
            uploaded_by=actor,
        )
        _complete_if_all_signed(application=application, actor=actor)
    return auth


def members_in_scope(*, user: Any) -> Any:
    """Application members of applications in the user's township or village."""
    qs = ApplicationMember.objects.select_related("application", "application__village")
    return scope_households(
        qs, user, township_field="application__township", village_field="application__village"
    )


def _member_in_scope(*, actor: Actor, member_id: int) -> ApplicationMember:
    member = members_in_scope(user=actor).filter(pk=member_id, must_authorise=True).first()
    if member is None:
        raise Http404
    return member


def _authorisation_create(
    *,
    member: ApplicationMember,
    application: Application,
    method: str,
    data: bytes,
    content_type: str,
    ip: str | None,
    user_agent: str,
    otp_verified: bool,
    uploaded_by: Any,
) -> Authorisation:
    if Authorisation.objects.filter(member=member).exists():
        raise ConflictError(
            _("You have already signed.") if uploaded_by is None else _("This person has already signed.")
        )
    auth = Authorisation(
        member=member,
        method=method,
        image=data,
        content_type=content_type,
        sha256=hashlib.sha256(data).hexdigest(),
        signed_at=timezone.now(),
        ip_address=ip or None,
        user_agent=(user_agent or "")[:400],
        consent_version=application.consent_version,
        otp_verified=otp_verified,
        uploaded_by=uploaded_by,
    )
    try:
        # Savepoint: the member row is locked, but the OneToOne constraint is the last word.
        with transaction.atomic():
            auth.save(force_insert=True)
    except IntegrityError:
        raise ConflictError(_("You have already signed.")) from None
    audit_record(
        actor=uploaded_by if uploaded_by is not None else RESIDENT,
        action="authorisation.signed",
        subject=auth,
        new={
            "application_id": application.pk,
            "member_id": member.pk,
            "role": member.role,
            "method": method,
            "sha256": auth.sha256,
            "consent_version": auth.consent_version,
        },
        region=application.village,
    )
    return auth


def _complete_if_all_signed(*, application: Application, actor: AuditActor) -> bool:
    """Authorise the application once every required authorisation is in; True if it happened now.

    The caller holds the application's row lock, so two last signatures arriving together
    authorise it once, and the tasks are enqueued once (their dedupe keys guard a retry too).
    """
    if application.status not in SIGNABLE_STATUSES:
        return False
    missing = ApplicationMember.objects.filter(
        application=application, must_authorise=True, authorisation__isnull=True
    ).exists()
    if missing:
        return False
    reason = "all required authorisations received"
    if application.status == Application.Status.SUBMITTED:
        application_transition(
            application_id=application.pk,
            to=Application.Status.AWAITING_AUTHORISATION,
            actor=actor,
            reason=reason,
        )
    application_transition(
        application_id=application.pk, to=Application.Status.AUTHORISED, actor=actor, reason=reason
    )
    outbox.enqueue(
        VERIFY_TASK, kwargs={"application_id": application.pk}, dedupe_key=f"verify:{application.pk}"
    )
    outbox.enqueue(FORM_TASK, kwargs={"application_id": application.pk}, dedupe_key=f"form:{application.pk}")
    return True


def paper_member_get(*, user: Any, application_id: int, member_id: int) -> ApplicationMember:
    """A member who must authorise, of an application in the user's scope; Http404 otherwise."""
    member = (
        members_in_scope(user=user)
        .filter(pk=member_id, application_id=application_id, must_authorise=True)
        .select_related("application__township")
        .first()
    )
    if member is None:
        raise Http404
    return member


def paper_members_of(*, application: Application) -> list[ApplicationMember]:
    """Everyone who must authorise on an application, with their authorisation (for the staff page)."""
    return list(
        ApplicationMember.objects.filter(application=application, must_authorise=True)
        .select_related("authorisation", "authorisation__uploaded_by")
        .defer("authorisation__image")
        .order_by("position")
    )
