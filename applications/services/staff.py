"""Staff reads that must leave a trace: revealing a member's ID number or phone, downloading the form."""

from __future__ import annotations

from typing import Literal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from assist_center.actors import Actor
from assist_center.audit import audit_record
from assist_center.errors import ApplicationError
from assist_center.permissions import may_download_form
from assist_center.scopes import can_reveal_pii, get_in_scope_or_404
from assist_center.services import REVEAL_REASON_MIN_LENGTH, REVEALABLE_FIELDS

from ..models import AccessPurpose, Application, ApplicationMember
from .access import household_access_record


def application_member_reveal(
    *, actor: Actor, member_id: int, field: Literal["id_number", "phone"], reason: str
) -> str:
    """Return a member's full ID number or phone and record who saw it and why.

    Same rules as assist_center.services.person_reveal: out of scope Http404, a role that may not
    reveal PermissionDenied, a missing or too short reason ApplicationError (400).
    """
    if field not in REVEALABLE_FIELDS:
        raise ApplicationError(
            _("This value cannot be revealed."), {"fields": {"field": _("Unknown field.")}}
        )
    with transaction.atomic():
        # Scope first, so that a blank reason cannot confirm to another township that the member exists.
        member = get_in_scope_or_404(
            ApplicationMember.objects.select_related("application__village"), actor, pk=member_id
        )
        village = member.application.village
        if not can_reveal_pii(actor, village, field):
            raise PermissionDenied
        reason = (reason or "").strip()
        if len(reason) < REVEAL_REASON_MIN_LENGTH:
            message = _("Give a reason of at least 4 characters for revealing this value.")
            raise ApplicationError(message, {"fields": {"reason": message}})
        audit_record(
            actor=actor,
            action="pii.reveal",
            subject=member,
            new={"field": field, "application": member.application_id},
            reason=reason,
            region=village,
        )
        household_access_record(
            actor=actor,
            household_id=member.application.household_id,
            purpose=AccessPurpose.REVEAL,
            subject=member,
            reason=reason,
        )
        value: str = getattr(member, field) or ""
    return value


def application_form_download(*, actor: Actor, application_id: int) -> Application:
    """The application with its archived form loaded, after an audit event; Http404 out of scope or absent.

    A role that may see the application but does not handle cases (a village cadre): PermissionDenied.
    """
    with transaction.atomic():
        application = get_in_scope_or_404(
            Application.objects.select_related("village"), actor, pk=application_id
        )
        if not may_download_form(actor):
            raise PermissionDenied
        if not application.form_pdf:
            raise Http404
        audit_record(
            actor=actor,
            action="application.form_downloaded",
            subject=application,
            new={"form_sha256": application.form_sha256},
            region=application.village,
        )
        household_access_record(
            actor=actor,
            household_id=application.household_id,
            purpose=AccessPurpose.DOWNLOAD,
            subject=application,
        )
    return application
