"""Staff page: upload the scan of a member's signed paper authorisation (township assistant)."""

from __future__ import annotations

from axes.helpers import get_client_ip_address
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from applications.models import AccessPurpose
from applications.services import family as family_service
from applications.services.access import household_access_record
from assist_center.errors import ApplicationError
from assist_center.permissions import may_upload_paper
from assist_center.pii import mask_id_number
from assist_center.staff_views import add_service_errors, staff_view


class PaperUploadForm(forms.Form):
    scan = forms.FileField(
        label=gettext_lazy("Scan or photo of the signed paper form"),
        error_messages={"required": gettext_lazy("Choose the file to upload.")},
    )


# No permission on the decorator: the scoped fetch answers 404 out of scope before the role's 403.
@staff_view()
@require_http_methods(["GET", "POST"])
def staff_paper_upload(request: HttpRequest, application_id: int, member_id: int) -> HttpResponse:
    """Show who has authorised an application and take the paper scan of one member."""
    member = family_service.paper_member_get(
        user=request.user, application_id=application_id, member_id=member_id
    )
    if not may_upload_paper(request.user):
        # In scope but not a role that handles cases (a village cadre): visible, not changeable.
        raise PermissionDenied
    application = member.application
    household_access_record(
        actor=request.user,
        household_id=application.household_id,
        purpose=AccessPurpose.APPLICATION,
        subject=member,
    )
    form = PaperUploadForm(request.POST, request.FILES) if request.method == "POST" else PaperUploadForm()
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                family_service.authorisation_upload_paper(
                    actor=request.user,
                    member_id=member.pk,
                    upload=form.cleaned_data["scan"],
                    ip=get_client_ip_address(request),
                )
            except ApplicationError as exc:
                add_service_errors(form, exc, fallback="scan")
                status = exc.status
            else:
                messages.success(request, _("The paper authorisation has been saved."))
                return HttpResponseRedirect(request.path)
        else:
            status = 400
    members = family_service.paper_members_of(application=application)
    rows = []
    for m in members:
        auth = family_service.authorisation_of(m)
        rows.append(
            {
                "member": m,
                "masked_id_number": mask_id_number(m.id_number),
                "auth": auth,
                "is_current": m.pk == member.pk,
                "upload_url": reverse("staff-paper-upload", args=[application.pk, m.pk]),
            }
        )
    ctx = {
        **admin.site.each_context(request),
        "title": _("Paper authorisation"),
        "application": application,
        "member": member,
        "member_masked_id_number": mask_id_number(member.id_number),
        "already_signed": family_service.authorisation_of(member) is not None,
        "signable": application.status in family_service.SIGNABLE_STATUSES,
        "rows": rows,
        "form": form,
    }
    return render(request, "applications/staff_paper_upload.html", ctx, status=status)
