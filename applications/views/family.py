"""家庭码 page (`/family/<token>/`): who must sign, and the two-step on-screen signing.

Step 1 identifies the signer (name + ID number + own mobile) and sends an SMS code; step 2 takes
the code and the signature drawn with signature_pad. Who was identified is kept in the session
(member id, family token, the phone encrypted), never in the URL or a hidden field.
"""

from __future__ import annotations

import re
import time
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from applications.models import Application, ApplicationMember
from applications.pdf import authorisation_blank_response
from applications.progress import application_progress
from applications.services import family as family_service
from applications.services.otp import LimitUnavailable, RateLimited, limit_hit
from assist_center import pii
from assist_center.errors import ApplicationError, ConflictError
from assist_center.http import client_ip
from assist_center.phones import mask_phone, normalise_mobile
from assist_center.pii import mask_name

SESSION_KEY = "family_signer"
FAMILY_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Step 2 must follow step 1 within this time; the SMS code itself lives 10 minutes.
STEP_TWO_SECONDS = 30 * 60


class IdentifyForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Your name"),
        max_length=64,
        error_messages={"required": gettext_lazy("Enter your name.")},
    )
    id_number = forms.CharField(
        label=gettext_lazy("Your ID number"),
        max_length=40,
        error_messages={"required": gettext_lazy("Enter your ID number.")},
    )
    phone = forms.CharField(
        label=gettext_lazy("Your mobile number"),
        max_length=32,
        error_messages={"required": gettext_lazy("Enter your mobile number.")},
    )


class SignForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("SMS code"),
        max_length=12,
        error_messages={"required": gettext_lazy("Enter the SMS code.")},
    )
    # Filled by static/js/family-sign.js from the canvas on submit; checked by the service.
    signature = forms.CharField(
        required=False, max_length=family_service.MAX_DATA_URL_LENGTH + 64, widget=forms.HiddenInput
    )


def _signer(request: HttpRequest, token: str) -> dict[str, Any] | None:
    """The member identified in step 1 for this family link, if recent."""
    data = request.session.get(SESSION_KEY)
    if not isinstance(data, dict) or data.get("token") != token:
        return None
    if time.time() - float(data.get("at", 0)) > STEP_TWO_SECONDS:
        return None
    return data


def _forget_signer(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)


def _page(
    request: HttpRequest,
    application: Application,
    *,
    identify_form: IdentifyForm | None = None,
    sign_form: SignForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    token = application.family_token
    signers = family_service.family_signers(application=application)
    missing = [s for s in signers if not s.signed]
    signable = application.status in family_service.SIGNABLE_STATUSES and bool(missing)
    signer = _signer(request, token) if signable else None
    signer_member: ApplicationMember | None = None
    if signer is not None:
        signer_member = ApplicationMember.objects.filter(
            pk=int(signer.get("member_id") or 0), application=application, must_authorise=True
        ).first()
        if signer_member is None or not any(
            s.member_id == signer_member.pk and not s.signed for s in signers
        ):
            _forget_signer(request)
            signer, signer_member = None, None
    step = 0
    if signable:
        step = 2 if signer_member is not None else 1
    ctx = {
        "application": application,
        "signers": signers,
        "missing_count": len(missing),
        "signed_count": len(signers) - len(missing),
        "all_signed": bool(signers) and not missing,
        "is_authorised": application.status not in family_service.SIGNABLE_STATUSES,
        # The real stage (issue 16): "being checked" was shown even after the case closed.
        "progress": application_progress(application),
        "step": step,
        "identify_form": identify_form or IdentifyForm(),
        "sign_form": sign_form or SignForm(),
        "signer_masked_name": mask_name(signer_member.name) if signer_member else "",
        "signer_masked_phone": mask_phone(pii.decrypt(signer["phone"])) if signer and signer_member else "",
        "error": error,
    }
    return render(request, "applications/family.html", ctx, status=status)


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "applications/family.html", {"not_found": True}, status=404)


@require_http_methods(["GET", "POST"])
def family(request: HttpRequest, token: str) -> HttpResponse:
    """The family signing page of one application."""
    if not FAMILY_TOKEN.fullmatch(token):
        # A token is URL-safe base64; anything else (a NUL byte PostgreSQL refuses) is no family.
        return _not_found(request)
    try:
        application = family_service.family_application_get(token=token)
    except Http404:
        return _not_found(request)
    if request.method == "GET":
        return _page(request, application)
    action = request.POST.get("action", "")
    if action == "identify":
        return _identify(request, application)
    if action == "resend":
        return _resend(request, application)
    if action == "sign":
        return _sign(request, application)
    # "restart", or anything else: back to step 1.
    _forget_signer(request)
    return HttpResponseRedirect(reverse("family", args=[token]))


def _identify(request: HttpRequest, application: Application) -> HttpResponse:
    token = application.family_token
    form = IdentifyForm(request.POST)
    if not form.is_valid():
        return _page(request, application, identify_form=form, status=400)
    ip = client_ip(request)
    try:
        member = family_service.family_member_identify(
            token=token,
            name=form.cleaned_data["name"],
            id_number=form.cleaned_data["id_number"],
            phone=form.cleaned_data["phone"],
            ip=ip,
        )
    except ApplicationError as exc:
        return _page(request, application, identify_form=form, error=str(exc.message), status=exc.status)
    phone = form.cleaned_data["phone"]

    e164 = normalise_mobile(phone)  # checked by family_member_identify
    # Encrypted: sessions live in the database, and a dump must hold no plaintext phone.
    request.session[SESSION_KEY] = {
        "token": token,
        "member_id": member.pk,
        "phone": pii.encrypt(e164),
        "at": time.time(),
    }
    # A new visitor identity on this browser: a new session key, as after a login.
    request.session.cycle_key()
    try:
        family_service.family_code_send(token=token, member_id=member.pk, phone=e164, ip=ip)
    except ApplicationError as exc:
        # Step 2 has a "send again" button; say why no code came.
        return _page(request, application, error=str(exc.message), status=exc.status)
    messages.info(request, _("We have sent an SMS code to your phone."))
    return HttpResponseRedirect(reverse("family", args=[token]))


def _resend(request: HttpRequest, application: Application) -> HttpResponse:
    token = application.family_token
    signer = _signer(request, token)
    if signer is None:
        return HttpResponseRedirect(reverse("family", args=[token]))
    try:
        family_service.family_code_send(
            token=token,
            member_id=int(signer["member_id"]),
            phone=pii.decrypt(signer["phone"]),
            ip=client_ip(request),
        )
    except ApplicationError as exc:
        return _page(request, application, error=str(exc.message), status=exc.status)
    messages.info(request, _("We have sent a new SMS code to your phone."))
    return HttpResponseRedirect(reverse("family", args=[token]))


def _sign(request: HttpRequest, application: Application) -> HttpResponse:
    token = application.family_token
    signer = _signer(request, token)
    if signer is None:
        return _page(
            request,
            application,
            error=_("Your verification has expired. Please enter your details again."),
            status=400,
        )
    form = SignForm(request.POST)
    if not form.is_valid():
        if "signature" in form.errors:
            return _page(
                request, application, sign_form=form, error=_("The signature image is too large."), status=400
            )
        return _page(request, application, sign_form=form, status=400)
    try:
        png = family_service.signature_png_from_data_url(form.cleaned_data["signature"])
        family_service.authorisation_sign(
            token=token,
            member_id=int(signer["member_id"]),
            phone=pii.decrypt(signer["phone"]),
            otp=form.cleaned_data["code"],
            png=png,
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
    except ConflictError as exc:
        _forget_signer(request)
        return _page(request, application, error=str(exc.message), status=409)
    except ApplicationError as exc:
        return _page(request, application, sign_form=SignForm(), error=str(exc.message), status=exc.status)
    _forget_signer(request)
    messages.success(request, _("Thank you. Your signature has been recorded."))
    return HttpResponseRedirect(reverse("family", args=[token]))


@require_GET
def family_authorisation_pdf(request: HttpRequest, token: str) -> HttpResponse:
    """The paper authorisation of this family link, to print and sign (names masked: see pdf.py)."""
    if not FAMILY_TOKEN.fullmatch(token):
        return _not_found(request)
    try:
        application = family_service.family_application_get(token=token)
    except Http404:
        return _not_found(request)
    try:
        # Rendering a PDF costs a few tenths of a second: a ceiling per address, failing open.
        limit_hit("authorisation-pdf-ip", client_ip(request) or "-", limit=120, period=3600)
    except RateLimited:
        return render(request, "applications/family.html", {"not_found": True, "busy": True}, status=429)
    except LimitUnavailable:
        pass
    return authorisation_blank_response(application, full_names=False)
