"""幸福清单 for the resident (`/happiness/<token>/`): phone, SMS code, then the household's year.

Plain forms posting to the page itself, so it works without JavaScript at 360 px. The phone
typed in step 1 is kept encrypted in the session (never in the URL or a hidden field); the
verified household lives in happiness_list.sessions for 15 minutes.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from applications.services.access import household_access_log_read
from assist_center import pii
from assist_center.audit import RESIDENT
from assist_center.errors import ApplicationError, ConflictError
from assist_center.http import client_ip
from assist_center.pdf import attachment_response, render_pdf
from assist_center.phones import mask_phone, normalise_mobile
from benefits.models import BenefitEntry
from eligibility.rules import ITEM_LABELS

from ..models import EntryProblem, ReceiptCheck
from ..selectors.list_year import household_year
from ..services import list_access, list_problems, receipts
from ..sessions import (
    HouseholdSession,
    household_session,
    household_session_end,
    household_session_open,
)

PENDING_KEY = "happiness_pending_phone"
# Step 2 (the code) must follow step 1 within this time; the SMS code itself lives 10 minutes.
PENDING_SECONDS = 15 * 60
# Rating and access-log parts other modules add to the page when their templates exist.
OPTIONAL_INCLUDES = ("happiness_list/_ratings.html", "happiness_list/_access_log.html")
MIN_YEAR = 2000
# The newest reads shown on the page; a household's year has a few dozen.
ACCESS_LOG_SHOWN = 200


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=gettext_lazy("Mobile number of a household member"),
        max_length=32,
        error_messages={"required": gettext_lazy("Enter the mobile phone number.")},
    )


class CodeForm(forms.Form):
    otp = forms.CharField(
        label=gettext_lazy("SMS code"),
        max_length=12,
        error_messages={"required": gettext_lazy("Enter the SMS code.")},
    )


def optional_includes() -> list[str]:
    """The rating / access-log templates present in this tree, in page order."""
    found = []
    for name in OPTIONAL_INCLUDES:
        try:
            get_template(name)
        except TemplateDoesNotExist:
            continue
        found.append(name)
    return found


def _pending_phone(request: HttpRequest, token: str) -> str | None:
    data = request.session.get(PENDING_KEY)
    if not isinstance(data, dict) or data.get("token") != token:
        return None
    if time.time() - float(data.get("at", 0)) > PENDING_SECONDS:
        return None
    try:
        return pii.decrypt(str(data["phone"]))
    except Exception:
        return None


def _year_of(request: HttpRequest) -> int:
    today = timezone.localdate()
    raw = request.GET.get("year", "")
    if raw.isascii() and raw.isdigit() and len(raw) == 4 and MIN_YEAR <= int(raw) <= today.year:
        return int(raw)
    return today.year


def _session_for(request: HttpRequest, resolved: list_access.Resolved) -> HouseholdSession | None:
    session = household_session(request)
    if session is None or session.household_id != resolved.household_id:
        return None
    return session


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"  # security.md: pages with personal data
    return response


def _not_found(request: HttpRequest) -> HttpResponse:
    return _no_store(render(request, "happiness_list/list.html", {"not_found": True}, status=404))


def _gate(
    request: HttpRequest,
    token: str,
    *,
    phone_form: PhoneForm | None = None,
    code_form: CodeForm | None = None,
    error: str = "",
    info: str = "",
    status: int = 200,
) -> HttpResponse:
    phone = _pending_phone(request, token)
    ctx = {
        "token": token,
        "step": 2 if phone else 1,
        "masked_phone": mask_phone(phone) if phone else "",
        "phone_form": phone_form or PhoneForm(),
        "code_form": code_form or CodeForm(),
        "error": error,
        "info": info,
    }
    return _no_store(render(request, "happiness_list/gate.html", ctx, status=status))


def _access_log(request: HttpRequest, session: HouseholdSession, year: int) -> list[Any]:
    """Who looked at the household's data this year; the reading itself is logged.

    The resident's own reading is an audit event; at the township window (assisted) it is a row of
    the log under the assistant's account, so the resident sees it there too.
    """
    user = request.user if session.assisted and request.user.is_authenticated else None
    return household_access_log_read(
        actor=user if user is not None else RESIDENT,
        household_id=session.household_id,
        year=year,
        assisted=user is not None,
    )


def list_context(
    session: HouseholdSession, *, token: str, year: int, request: HttpRequest | None = None
) -> dict[str, Any]:
    data = household_year(household_id=session.household_id, year=year)
    pending = {c.entry_id: c.pk for c in receipts.pending_checks_of(session.household_id)}
    for group in data["groups"]:
        for entry in group["entries"]:
            entry["receipt_check"] = pending.get(entry["id"])
    return {
        "token": token,
        "year": year,
        "list": data,
        "happiness": session,
        "problem_kinds": EntryProblem.Kind.choices,
        "expires_at": dt.datetime.fromtimestamp(session.expires_at, tz=dt.UTC),
        "optional_includes": optional_includes(),
        "access_log": _access_log(request, session, year)[:ACCESS_LOG_SHOWN] if request is not None else [],
    }


@require_http_methods(["GET", "POST"])
def happiness_page(request: HttpRequest, token: str) -> HttpResponse:
    """The household's list behind the phone check."""
    try:
        resolved = list_access.token_resolve(token)
    except Http404:
        return _not_found(request)
    session = _session_for(request, resolved)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if session is not None:
        if action == "problem":
            return _problem(request, session, token)
        if action == "receipt":
            return _receipt(request, session, token)
        if action == "logout":
            household_session_end(request)
            return HttpResponseRedirect(reverse("happiness", args=[token]))
        if request.method == "POST":
            return HttpResponseRedirect(reverse("happiness", args=[token]))
        ctx = list_context(session, token=token, year=_year_of(request), request=request)
        return _no_store(render(request, "happiness_list/list.html", ctx))
    if action == "send":
        return _send(request, token)
    if action == "resend":
        phone = _pending_phone(request, token)
        if phone is None:
            return HttpResponseRedirect(reverse("happiness", args=[token]))
        return _send_to(request, token, phone, PhoneForm())
    if action == "verify":
        return _verify(request, token)
    if action == "restart":
        request.session.pop(PENDING_KEY, None)
        return HttpResponseRedirect(reverse("happiness", args=[token]))
    if request.method == "POST":
        return HttpResponseRedirect(reverse("happiness", args=[token]))
    return _gate(request, token)


def _send(request: HttpRequest, token: str) -> HttpResponse:
    form = PhoneForm(request.POST)
    if not form.is_valid():
        return _gate(request, token, phone_form=form, status=400)
    return _send_to(request, token, form.cleaned_data["phone"], form)


def _send_to(request: HttpRequest, token: str, phone: str, form: PhoneForm) -> HttpResponse:
    try:
        list_access.happiness_code_send(token=token, phone=phone, ip=client_ip(request))
    except ApplicationError as exc:
        fields = (exc.extra or {}).get("fields", {})
        if "phone" in fields:
            form.add_error("phone", fields["phone"])
            return _gate(request, token, phone_form=form, status=exc.status)
        return _gate(request, token, phone_form=form, error=str(exc.message), status=exc.status)
    request.session[PENDING_KEY] = {
        "token": token,
        "phone": pii.encrypt(normalise_mobile(phone)),
        "at": time.time(),
    }
    # The same words whether or not the phone is the household's (security: no membership oracle).
    return _gate(
        request,
        token,
        info=_(
            "If this number is on record for the household, an SMS code is on its way. "
            "It is valid for 10 minutes."
        ),
    )


def _verify(request: HttpRequest, token: str) -> HttpResponse:
    phone = _pending_phone(request, token)
    if phone is None:
        return HttpResponseRedirect(reverse("happiness", args=[token]))
    form = CodeForm(request.POST)
    if not form.is_valid():
        return _gate(request, token, code_form=form, status=400)
    try:
        resolved, method = list_access.happiness_code_check(
            token=token, phone=phone, otp=form.cleaned_data["otp"]
        )
    except ApplicationError as exc:
        return _gate(request, token, code_form=form, error=str(exc.message), status=exc.status)
    request.session.pop(PENDING_KEY, None)
    household_session_open(
        request,
        household_id=resolved.household_id,
        application_id=resolved.application_id,
        method=method,
        token=token,
    )
    return HttpResponseRedirect(reverse("happiness", args=[token]))


def _problem(request: HttpRequest, session: HouseholdSession, token: str) -> HttpResponse:
    try:
        list_problems.entry_problem_report(
            household_id=session.household_id,
            entry_id=request.POST.get("entry"),
            kind=request.POST.get("kind"),
            note=request.POST.get("note", ""),
        )
    except Http404:
        return _not_found(request)
    except ApplicationError as exc:
        ctx = list_context(session, token=token, year=_year_of(request), request=request)
        ctx["error"] = str(exc.message)
        return _no_store(render(request, "happiness_list/list.html", ctx, status=exc.status))
    return HttpResponseRedirect(reverse("happiness", args=[token]) + f"#entry-{request.POST.get('entry')}")


def _receipt(request: HttpRequest, session: HouseholdSession, token: str) -> HttpResponse:
    try:
        check_id = int(request.POST.get("check", ""))
    except ValueError:
        return _not_found(request)
    try:
        receipts.receipt_answer(
            check_id=check_id, answer=request.POST.get("answer"), household_id=session.household_id
        )
    except Http404:
        return _not_found(request)
    except ConflictError:
        pass
    except ApplicationError as exc:
        ctx = list_context(session, token=token, year=_year_of(request), request=request)
        ctx["error"] = str(exc.message)
        return _no_store(render(request, "happiness_list/list.html", ctx, status=exc.status))
    return HttpResponseRedirect(reverse("happiness", args=[token]))


@require_GET
def happiness_statement(request: HttpRequest, token: str) -> HttpResponse:
    """The printable year statement (PDF) of the verified household."""
    try:
        resolved = list_access.token_resolve(token)
    except Http404:
        return _not_found(request)
    session = _session_for(request, resolved)
    if session is None:
        return HttpResponseRedirect(reverse("happiness", args=[token]))
    year = _year_of(request)
    data = household_year(household_id=session.household_id, year=year)
    html = render_to_string(
        "happiness_list/pdf/statement.html",
        {"list": data, "year": year, "printed_at": timezone.localtime()},
        request=None,
    )
    return attachment_response(
        render_pdf(html),
        content_type="application/pdf",
        filename=f"{year}年幸福清单.pdf",
        ascii_fallback=f"happiness-list-{year}.pdf",
    )


@require_http_methods(["GET", "POST"])
def receipt_question(request: HttpRequest, token: str) -> HttpResponse:
    """The short link of a receipt-check SMS: "did it arrive?" yes / no, nothing else asked."""
    try:
        check = receipts.receipt_check_get(token=token)
    except Http404:
        return _not_found(request)
    done = ""
    status = 200
    if request.method == "POST":
        try:
            check = receipts.receipt_answer(check_id=check.pk, answer=request.POST.get("answer"))
            done = "yes" if check.answer == ReceiptCheck.Answer.YES else "no"
        except ConflictError:
            done = "already"
        except ApplicationError as exc:
            status = exc.status
    entry = (
        BenefitEntry.objects.filter(pk=check.entry_id)
        .only("item", "amount", "period", "provider_name")
        .first()
    )
    ctx = {
        "check": check,
        "item": ITEM_LABELS.get(entry.item, entry.provider_name) if entry else "",
        "amount": f"{entry.amount:.2f}" if entry and entry.amount is not None else "",
        "month": entry.period if entry else None,
        "done": done or ("already" if check.answer != ReceiptCheck.Answer.PENDING else ""),
    }
    return _no_store(render(request, "happiness_list/receipt.html", ctx, status=status))
