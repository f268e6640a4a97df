"""The resident's phone application (/apply/<region_code>/) and its receipt (/apply/receipt/).

Plain HTML forms with no JavaScript: "send SMS code" and "add more rows" are submit buttons that
post the whole form and re-render it with every value kept; only the main button submits.
"""

from __future__ import annotations

import base64
import re
import secrets
from http import HTTPStatus
from typing import Any

from axes.helpers import get_client_ip_address
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from assist_center.errors import ApplicationError
from assist_center.models import Region
from assist_center.phones import InvalidPhone, mask_phone, normalise_mobile
from assist_center.pii import mask_name
from assist_center.qr import qr_svg

from ..assist_codes import family_url
from ..forms import (
    RETENTION_YEARS_AFTER_CLOSURE,
    ApplyForm,
    ApplyPage,
    MemberFormSet,
    SupporterFormSet,
    with_more_rows,
)
from ..intake import CONSENT_VERSION, MAX_MEMBERS, MAX_SUPPORTERS, PHONE_MESSAGES, parse_application_input
from ..models import Application, ApplicationMember, Channel, OtpPurpose
from ..services.otp import OTP_MINUTES, otp_send, otp_verify
from ..services.submission import application_submit

# A region's statistical code: exactly 12 ASCII digits (\d would also match other scripts' digits).
REGION_CODE = re.compile(r"[0-9]{12}")
# The application this browser session submitted: the receipt is shown from here, never from a
# code or token in the URL (URLs end up in logs, histories and screenshots shared in chats).
RECEIPT_SESSION_KEY = "apply_receipt_application_id"

ACTION_SUBMIT = "submit"
ACTION_SEND_OTP = "send_otp"
ACTION_ADD_MEMBER = "add_member"
ACTION_ADD_SUPPORTER = "add_supporter"


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address for the SMS and submission limits, by the staff lockout's rules
    (AXES_IPWARE_* settings: a forwarded header counts only behind the configured proxies)."""
    return get_client_ip_address(request) or None


def _is_mobile(phone: Any) -> bool:
    try:
        normalise_mobile(str(phone or ""))
    except InvalidPhone:
        return False
    return True


def _region(code: str) -> Region | None:
    if not REGION_CODE.fullmatch(code):
        return None
    return Region.objects.filter(code=code).first()


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "applications/apply_not_found.html", {}, status=404)


def _new_page(request: HttpRequest, region: Region) -> ApplyPage:
    if request.method != "POST":
        return ApplyPage(
            form=ApplyForm(region=region),
            members=MemberFormSet(prefix="members"),
            supporters=SupporterFormSet(prefix="supporters"),
        )
    data = request.POST
    action = data.get("action", "")
    if action == ACTION_ADD_MEMBER:
        data = with_more_rows(data, ["members"], {"members": MAX_MEMBERS})
    elif action == ACTION_ADD_SUPPORTER:
        data = with_more_rows(data, ["supporters"], {"supporters": MAX_SUPPORTERS})
    return ApplyPage(
        form=ApplyForm(data, region=region),
        members=MemberFormSet(data, prefix="members"),
        supporters=SupporterFormSet(data, prefix="supporters"),
    )


def _render(
    request: HttpRequest, page: ApplyPage, *, show_errors: bool = False, status: int = 200, **extra: Any
) -> HttpResponse:
    region = page.form.region
    village = region if page.form.village_fixed else None
    ctx = {
        "region": region,
        "fixed_village": village,
        "form": page.form,
        "members": page.members,
        "supporters": page.supporters,
        "show_errors": show_errors,
        "error_summary": page.error_summary() if show_errors else [],
        "can_add_member": len(page.members.forms) < MAX_MEMBERS,
        "can_add_supporter": len(page.supporters.forms) < MAX_SUPPORTERS,
        # A fresh token per rendering: two posts of one rendering (a double tap) are one application.
        "token": secrets.token_urlsafe(24),
        "retention_years": RETENTION_YEARS_AFTER_CLOSURE,
        "consent_version": CONSENT_VERSION,
        "otp_minutes": OTP_MINUTES,
        **extra,
    }
    return render(request, "applications/apply.html", ctx, status=status)


def _send_otp(request: HttpRequest, page: ApplyPage) -> HttpResponse:
    raw_phone = str(page.form.data.get("phone", ""))[:64]
    try:
        otp_send(phone=raw_phone, purpose=OtpPurpose.APPLY, ip=client_ip(request))
    except ApplicationError as exc:
        return _render(request, page, otp_error=str(exc.message), status=exc.status)
    try:
        masked = mask_phone(normalise_mobile(raw_phone))
    except InvalidPhone:  # otp_send accepted it, so this does not happen; never show the full number
        masked = ""
    message = _("The code was sent to %(phone)s. It is valid for %(minutes)s minutes.") % {
        "phone": masked,
        "minutes": OTP_MINUTES,
    }
    return _render(request, page, otp_message=message)


def _submit(request: HttpRequest, page: ApplyPage) -> HttpResponse:
    if not page.is_valid():
        return _render(request, page, show_errors=True, status=400)
    data = page.to_data()
    otp = str(page.form.cleaned_data.get("otp") or "").strip()
    try:
        parsed = parse_application_input(data)
    except ApplicationError as exc:
        page.add_errors(exc.extra.get("fields") or {})
        # What application_submit would say next time, said now: one round trip fewer on a slow line.
        if not data["applicant"]["phone"]:
            page.add_errors({"applicant.phone": PHONE_MESSAGES["empty"]})
        if not otp:
            page.add_errors({"otp": _("Enter the 6-digit code from the text message.")})
        elif _is_mobile(data["applicant"]["phone"]):
            # A wrong code is said together with the other errors (issue 16), not one round later.
            # The check counts as one of the code's five attempts, as a submission would: a code
            # cannot be guessed by sending forms with a deliberate mistake. A right code is not
            # used up here; the submission that follows uses it.
            try:
                otp_verify(phone=str(data["applicant"]["phone"]), purpose=OtpPurpose.APPLY, code=otp)
            except ApplicationError as otp_exc:
                page.add_errors(otp_exc.extra.get("fields") or {"otp": str(otp_exc.message)})
        if not exc.extra.get("fields"):
            page.general_errors.append(str(exc.message))
        return _render(request, page, show_errors=True, status=exc.status)
    try:
        application = application_submit(
            data=parsed,
            channel=Channel.SELF,
            actor=None,
            otp=otp or None,
            ip=client_ip(request),
            idempotency_key=page.form.cleaned_data.get("token") or None,
        )
    except ApplicationError as exc:
        fields = exc.extra.get("fields") or {}
        page.add_errors(fields)
        if exc.status == HTTPStatus.UNPROCESSABLE_ENTITY:
            # This rendering's token already made an application and the form was changed since
            # (the back button): the page re-renders with a fresh token, so sending again works.
            page.general_errors.append(
                _(
                    "This form was submitted already. Check it and press submit again "
                    "to send it as a new application."
                )
            )
        elif not fields:
            page.general_errors.append(str(exc.message))
        return _render(request, page, show_errors=True, status=exc.status)
    # A new session id for the session that now holds the receipt (no fixation of a planted cookie).
    request.session.cycle_key()
    request.session[RECEIPT_SESSION_KEY] = application.pk
    return redirect("apply-receipt")


@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, region_code: str) -> HttpResponse:
    """The application form a 救助码 opens, with the region of the code pre-filled."""
    region = _region(region_code)
    if region is None:
        return _not_found(request)
    page = _new_page(request, region)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if action == ACTION_SUBMIT:
        return _submit(request, page)
    if action == ACTION_SEND_OTP:
        return _send_otp(request, page)
    # GET, "add more rows", or Enter pressed in a text box (the hidden default button): re-render.
    return _render(request, page)


def _qr_data_uri(url: str) -> str:
    # An <img> with a data: URI rather than inline <svg>: img-src allows data:, and the SVG's own
    # attributes then never meet the strict style-src.
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(url).encode("utf-8")).decode("ascii")


@require_GET
def apply_receipt(request: HttpRequest) -> HttpResponse:
    """The receipt of the application this session submitted (PRG target; refresh shows it again)."""
    application_id = request.session.get(RECEIPT_SESSION_KEY)
    # Scoped by the session: only the browser that submitted the application holds its id.
    application = (
        Application.objects.select_related("village", "township").filter(pk=application_id).first()
        if isinstance(application_id, int)
        else None
    )
    if application is None:
        return render(request, "applications/receipt.html", {"application": None}, status=404)
    # Names as the family will recognise them; only the applicant's own name is shown whole, since
    # the receipt may be shown around or screenshotted into a family chat.
    signers = [
        (
            member.name if member.role == ApplicationMember.Role.APPLICANT else mask_name(member.name),
            member.get_relation_display(),
        )
        for member in application.members.filter(must_authorise=True).order_by("position")
    ]
    link = family_url(application)
    ctx = {
        "application": application,
        "family_url": link,
        "family_qr": _qr_data_uri(link),
        "signers": signers,
    }
    return render(request, "applications/receipt.html", ctx)
