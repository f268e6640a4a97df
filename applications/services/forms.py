"""Archiving the electronic application form: generated once, kept with its SHA-256.

The archived PDF is the record of what the household declared and who authorised it. A silent
regeneration would replace that record with today's rendering (new template, renamed village),
so the archive service never overwrites; replacing it is a separate, deliberate and audited act.
"""

from __future__ import annotations

import hashlib

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assist_center.actors import Actor
from assist_center.audit import audit_record
from assist_center.errors import ApplicationError, ConflictError
from assist_center.permissions import may_regenerate_form
from assist_center.scopes import get_in_scope_or_404

from ..models import Application
from ..pdf import application_form_pdf

# The form exists once every required authorisation is in; later statuses keep that state.
FORM_STATUSES = frozenset(
    {
        Application.Status.AUTHORISED,
        Application.Status.VERIFYING,
        Application.Status.UNDER_REVIEW,
        Application.Status.DECIDED,
    }
)
# Withdrawn or rejected after authorisation: the authorisations exist, the record is still due.
_CLOSED_STATUSES = frozenset({Application.Status.WITHDRAWN, Application.Status.REJECTED})
REASON_MIN_LENGTH = 4


def form_is_due(application: Application) -> bool:
    """Whether the application has reached authorisation, so its form may be generated."""
    if application.status in FORM_STATUSES:
        return True
    return application.status in _CLOSED_STATUSES and application.authorised_at is not None


def _store(application: Application) -> str:
    now = timezone.now()
    pdf = application_form_pdf(application, generated_at=now)
    application.form_pdf = pdf
    application.form_sha256 = hashlib.sha256(pdf).hexdigest()
    application.form_generated_at = now
    application.save(update_fields=["form_pdf", "form_sha256", "form_generated_at"])
    return application.form_sha256


def _not_due() -> ConflictError:
    return ConflictError(_("The application form is generated only after every authorisation is in."))


def application_form_archive(*, application_id: int) -> None:
    """Generate and store the form once; a later call (task redelivered, retried) changes nothing.

    Raises ConflictError for an application that has not been authorised.
    """
    with transaction.atomic():
        # The lock makes two workers that run the same task wait for each other: one renders, the
        # other then sees the stored form and stops. The PDF column itself is not read.
        application = (
            Application.objects.select_for_update(of=("self",))
            .defer("form_pdf")
            .select_related("village", "township", "submitted_by")
            .get(pk=application_id)
        )
        if application.form_generated_at is not None:
            return
        if not form_is_due(application):
            raise _not_due()
        sha256 = _store(application)
        audit_record(
            actor=None,
            action="application.form_generated",
            subject=application,
            new={"form_sha256": sha256},
            region=application.village,
            idempotency_key=f"application.form_generated:{application.pk}:{sha256}",
        )


def application_form_regenerate(*, actor: Actor, application_id: int, reason: str) -> Application:
    """Replace the archived form with a new rendering, recording the old and new SHA-256 and why.

    For a corrected record (a template fix, a re-signed authorisation). Out of scope: Http404; a
    role that may not do it: PermissionDenied; a blank reason or an unauthorised application:
    ApplicationError.
    """
    with transaction.atomic():
        application = get_in_scope_or_404(
            Application.objects.select_for_update(of=("self",))
            .defer("form_pdf")
            .select_related("village", "township", "submitted_by"),
            actor,
            pk=application_id,
        )
        if not may_regenerate_form(actor):
            raise PermissionDenied
        reason = (reason or "").strip()
        if len(reason) < REASON_MIN_LENGTH:
            message = _("Give a reason of at least 4 characters for regenerating the form.")
            raise ApplicationError(message, {"fields": {"reason": message}})
        if not form_is_due(application):
            raise _not_due()
        old_sha256 = application.form_sha256
        old_generated_at = application.form_generated_at
        new_sha256 = _store(application)
        audit_record(
            actor=actor,
            action="application.form_regenerated",
            subject=application,
            old={"form_sha256": old_sha256, "form_generated_at": old_generated_at},
            new={"form_sha256": new_sha256, "form_generated_at": application.form_generated_at},
            reason=reason,
            region=application.village,
        )
    return application
