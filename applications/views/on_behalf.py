"""代办: a township assistant fills the resident's application on the staff side (no SMS code).

A staff page like the workbench (assist_center.staff_views: login, second factor, the admin's
header), linked from the application list; the admin imports no view. It reuses the resident's
form classes (applications.forms): they produce exactly the public API's JSON body minus the code,
and the same parser and service handle it, so both channels refuse the same things with the same
messages.
"""

from __future__ import annotations

import secrets
from typing import Any, cast

from axes.helpers import get_client_ip_address
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from assist_center.errors import ApplicationError
from assist_center.models import Region, Role
from assist_center.permissions import may_submit_on_behalf
from assist_center.scopes import profile_of, role_of
from assist_center.staff_views import staff_context, staff_view

from ..forms import ApplyForm, ApplyPage, MemberFormSet, RowFormSet, SupporterFormSet, with_more_rows
from ..intake import MAX_MEMBERS, MAX_SUPPORTERS
from ..models import Application, Channel

TEMPLATE = "admin/applications/application/on_behalf.html"
# The buttons of the page: submit, or re-render with more empty rows (no JavaScript needed).
ACTION_SUBMIT = "submit"
ACTION_ADD_MEMBER = "add_member"
ACTION_ADD_SUPPORTER = "add_supporter"

# The public page speaks to the resident ("Your full name"); here the assistant fills it in.
STAFF_LABELS = {
    "name": _("Applicant's full name"),
    "id_number": _("Applicant's ID card number"),
    "phone": _("Applicant's mobile phone number"),
    "consent_data_check": _("The applicant agrees that the household's records are checked"),
    "consent_share": _("The applicant agrees to share the need with a helping organisation"),
    "consent_publish": _("The applicant agrees to publish the need without personal details"),
    "guardian_confirmed": _("The guardian of the children under 14 listed here agrees to the check for them"),
}
STAFF_HELP = {
    "phone": _("Optional. If given, the resident can look up the status with an SMS code."),
}


def region_for(user: Any) -> Region | None:
    """The region whose villages the user may choose: the assistant's township."""
    profile = profile_of(user)
    if role_of(user) != Role.TOWNSHIP_ASSISTANT or profile is None or profile.region is None:
        return None
    return profile.region


def _staff_form(form: ApplyForm) -> ApplyForm:
    for name, label in STAFF_LABELS.items():
        form.fields[name].label = label
    for name, text in STAFF_HELP.items():
        form.fields[name].help_text = text
    # No SMS code on this channel: the assistant vouches for the resident (issue 3, 代办).
    del form.fields["otp"]
    return form


def _page(request: HttpRequest, region: Region) -> ApplyPage:
    data: Any = request.POST if request.method == "POST" else None
    action = request.POST.get("action", "") if data is not None else ""
    if action == ACTION_ADD_MEMBER:
        data = with_more_rows(data, ["members"], {"members": MAX_MEMBERS})
    elif action == ACTION_ADD_SUPPORTER:
        data = with_more_rows(data, ["supporters"], {"supporters": MAX_SUPPORTERS})
    initial = None if data is not None else {"token": secrets.token_urlsafe(24)}
    return ApplyPage(
        form=_staff_form(ApplyForm(data, region=region, initial=initial)),
        members=cast(RowFormSet, MemberFormSet(data, prefix="members")),
        supporters=cast(RowFormSet, SupporterFormSet(data, prefix="supporters")),
    )


def client_ip(request: HttpRequest) -> str | None:
    # The same client-IP rules (proxy count, header order) as the staff login lockout.
    return get_client_ip_address(request) or None


def _submit(request: HttpRequest, page: ApplyPage) -> Application | None:
    """Submit through the same parser and service as the public channel; None when refused."""
    # Imported here so that the admin loads even while the submission service is being built.
    from ..intake import parse_application_input
    from ..services.submission import application_submit

    if not page.is_valid():
        return None
    user: Any = request.user
    token = page.form.cleaned_data.get("token") or ""
    try:
        return application_submit(
            data=parse_application_input(page.to_data()),
            channel=Channel.ON_BEHALF,
            actor=user,
            otp=None,
            ip=client_ip(request),
            # Per assistant: a replayed form makes one application, another user's token is no key.
            idempotency_key=f"on-behalf:{user.pk}:{token}" if token else None,
        )
    except ApplicationError as exc:
        fields = exc.extra.get("fields") or {}
        page.add_errors(fields)
        if not fields:
            page.general_errors.append(str(exc.message))
        return None


# Township assistants only, as application_submit insists: they submit only for their own villages.
@staff_view(may_submit_on_behalf)
def on_behalf(request: HttpRequest) -> HttpResponse:
    """GET: the blank form; POST: submit, then open the new application with its family link."""
    region = region_for(request.user)
    if region is None:
        raise PermissionDenied
    page = _page(request, region)
    show_errors = False
    if request.method == "POST" and request.POST.get("action", "") == ACTION_SUBMIT:
        application = _submit(request, page)
        if application is not None:
            messages.success(
                request,
                _(
                    "The application was submitted. Receipt code: %(code)s. "
                    "Give the resident the family link below."
                )
                % {"code": application.receipt_code},
            )
            return HttpResponseRedirect(
                reverse("admin:applications_application_change", args=[application.pk])
            )
        show_errors = True
    ctx = {
        **staff_context(request, str(_("Apply on behalf of a resident"))),
        "opts": Application._meta,
        "region": region,
        "form": page.form,
        "members": page.members,
        "supporters": page.supporters,
        "error_summary": page.error_summary() if show_errors else [],
        "can_add_member": len(page.members.forms) < MAX_MEMBERS,
        "can_add_supporter": len(page.supporters.forms) < MAX_SUPPORTERS,
        "action_submit": ACTION_SUBMIT,
        "action_add_member": ACTION_ADD_MEMBER,
        "action_add_supporter": ACTION_ADD_SUPPORTER,
    }
    return TemplateResponse(request, TEMPLATE, ctx, status=400 if show_errors else 200)
