"""The residents' status page (/status/): receipt code + phone + SMS code, no JavaScript needed.

The same look-up as POST /api/v1/public/applications/<receipt_code>/status/
(`application_status_lookup`): an unknown receipt code, another person's phone and a wrong code
answer alike. After a successful look-up the application id is kept in this browser's session for
a few minutes and the page redirects to itself, so reloading shows the status again and never
re-posts a used code; the receipt code never goes into the URL.
"""

from __future__ import annotations

import time
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from assist_center.errors import ApplicationError
from assist_center.http import client_ip
from assist_center.phones import InvalidPhone, mask_phone, normalise_mobile

from ..models import Application, OtpPurpose
from ..progress import application_progress
from ..services.otp import OTP_MINUTES, otp_send
from ..services.submission import application_status_lookup

SESSION_KEY = "status_application"
# How long a look-up stays on screen in this browser before the code must be asked for again.
SHOWN_SECONDS = 15 * 60


class StatusForm(forms.Form):
    receipt_code = forms.CharField(
        label=gettext_lazy("Receipt code"),
        max_length=32,
        required=False,
        help_text=gettext_lazy("The code on your receipt, for example K7M2Q9XR4T."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )
    phone = forms.CharField(
        label=gettext_lazy("The applicant's mobile phone number"),
        max_length=32,
        required=False,
        help_text=gettext_lazy("The phone number given in the application."),
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
    )
    otp = forms.CharField(
        label=gettext_lazy("SMS code"),
        max_length=12,
        required=False,
        help_text=gettext_lazy("The 6 digits in the text message."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _shown_application(request: HttpRequest) -> Application | None:
    data = request.session.get(SESSION_KEY)
    if not isinstance(data, dict) or time.time() - float(data.get("at", 0)) > SHOWN_SECONDS:
        return None
    application_id = data.get("id")
    if not isinstance(application_id, int):
        return None
    return Application.objects.select_related("village", "township").filter(pk=application_id).first()


def _summary(form: StatusForm, errors: dict[str, str]) -> list[tuple[str, str]]:
    """(anchor, "label: message") in the order of the page's fields."""
    return [
        (f"id_{name}", _("%(field)s: %(message)s") % {"field": form[name].label, "message": errors[name]})
        for name in ("receipt_code", "phone", "otp")
        if name in errors
    ]


def _render(request: HttpRequest, form: StatusForm, *, status: int = 200, **extra: Any) -> HttpResponse:
    ctx = {
        "form": form,
        "otp_minutes": OTP_MINUTES,
        "summary": _summary(form, extra.get("errors") or {}),
        **extra,
    }
    response = render(request, "applications/status.html", ctx, status=status)
    response["Cache-Control"] = "no-store"  # security.md: pages with personal data
    return response


@require_http_methods(["GET", "POST"])
def status_page(request: HttpRequest) -> HttpResponse:
    """Ask for the receipt code, phone and SMS code; show the application's real status."""
    if request.method == "GET":
        application = _shown_application(request)
        if application is not None and request.GET.get("again") != "1":
            return _render(
                request, StatusForm(), application=application, progress=application_progress(application)
            )
        request.session.pop(SESSION_KEY, None)
        return _render(request, StatusForm())
    form = StatusForm(request.POST)
    form.is_valid()  # every field is optional and length-capped: the services say what is missing
    data = form.cleaned_data
    receipt = str(data.get("receipt_code") or "").strip().upper()
    phone = str(data.get("phone") or "")
    errors: dict[str, str] = {}
    if request.POST.get("action") == "send_otp":
        if not receipt:
            errors["receipt_code"] = _("Enter the receipt code.")
        try:
            otp_send(phone=phone, purpose=OtpPurpose.STATUS, ip=client_ip(request), token=receipt or None)
        except ApplicationError as exc:
            errors["phone"] = str(exc.message)
            return _render(request, form, errors=errors, status=exc.status)
        masked = mask_phone(normalise_mobile(phone))
        message = _(
            "If %(phone)s is the applicant's phone, a code was sent to it. "
            "It is valid for %(minutes)s minutes."
        ) % {"phone": masked, "minutes": OTP_MINUTES}
        return _render(request, form, errors=errors, otp_message=message)
    # "Check" (or Enter in a box): everything at once, so the resident corrects it all in one go.
    if not receipt:
        errors["receipt_code"] = _("Enter the receipt code.")
    try:
        normalise_mobile(phone)
    except InvalidPhone:
        errors["phone"] = _("Enter the applicant's mobile phone number.")
    otp = str(data.get("otp") or "").strip()
    if not otp:
        errors["otp"] = _("Enter the 6-digit code from the text message.")
    if errors:
        return _render(request, form, errors=errors, status=400)
    try:
        application = application_status_lookup(
            receipt_code=receipt, phone=phone, otp=otp, ip=client_ip(request)
        )
    except ApplicationError as exc:
        if exc.status == 404:
            message = _(
                "The receipt code, phone number and SMS code do not fit together. Check the receipt code "
                "and the phone number; if the code has expired or was used, ask for a new one."
            )
        else:
            message = str(exc.message)
        return _render(request, form, general_error=message, status=exc.status)
    request.session.cycle_key()
    request.session[SESSION_KEY] = {"id": application.pk, "at": time.time()}
    return HttpResponseRedirect(reverse("status") + "#result")
