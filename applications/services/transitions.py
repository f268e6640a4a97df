"""The one way an application changes status: the allowed-transition table, under a row lock."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assist_center.actors import AuditActor
from assist_center.audit import audit_record
from assist_center.errors import ApplicationError, ConflictError

from ..models import Application

S = Application.Status

# submitted → awaiting authorisation → authorised → verifying → under review → decided; any open
# status may be withdrawn; once the family's authorisation is awaited, the centre may reject.
ALLOWED: dict[str, frozenset[str]] = {
    S.SUBMITTED: frozenset({S.AWAITING_AUTHORISATION, S.WITHDRAWN}),
    S.AWAITING_AUTHORISATION: frozenset({S.AUTHORISED, S.WITHDRAWN, S.REJECTED}),
    S.AUTHORISED: frozenset({S.VERIFYING, S.WITHDRAWN, S.REJECTED}),
    S.VERIFYING: frozenset({S.UNDER_REVIEW, S.WITHDRAWN, S.REJECTED}),
    S.UNDER_REVIEW: frozenset({S.DECIDED, S.WITHDRAWN, S.REJECTED}),
    S.DECIDED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.REJECTED: frozenset(),
}
# A refusal or a withdrawal must say why: the resident is told, and an auditor asks.
REASON_REQUIRED = frozenset({S.REJECTED, S.WITHDRAWN})
MAX_REASON_LENGTH = 1000


def can_transition(current: str, to: str) -> bool:
    return to in ALLOWED.get(current, frozenset())


def _clean_reason(reason: Any, to: str) -> str:
    if not isinstance(reason, str) or "\x00" in reason:
        message = _("The reason contains a control character.")
        raise ApplicationError(message, {"fields": {"reason": str(message)}})
    reason = reason.strip()
    if to in REASON_REQUIRED and not reason:
        message = _("Give a reason.")
        raise ApplicationError(message, {"fields": {"reason": str(message)}})
    if len(reason) > MAX_REASON_LENGTH:
        too_long = _("The reason may have at most %(n)d characters.") % {"n": MAX_REASON_LENGTH}
        raise ApplicationError(too_long, {"fields": {"reason": str(too_long)}})
    return reason


def application_transition(
    *, application_id: int, to: str, actor: AuditActor, reason: str = ""
) -> Application:
    """Move an application to status `to` and write an `application.status` audit event.

    The row is locked (select_for_update) and the move checked against ALLOWED on the locked,
    current status: of two staff members acting at once, one wins and the other gets a
    ConflictError (409) saying the application has moved on. Scope is the caller's business (the
    staff views fetch the application through a scoped selector first).
    """
    if to not in S.values:
        message = _("Unknown status.")
        raise ApplicationError(message, {"fields": {"to": str(message)}})
    reason = _clean_reason(reason, to)
    with transaction.atomic():
        application = (
            Application.objects.select_for_update(of=("self",))
            .select_related("village")
            .filter(pk=application_id)
            .first()
        )
        if application is None:
            raise ApplicationError(_("Application not found."), status=404)
        old = application.status
        if not can_transition(old, to):
            raise ConflictError(
                _(
                    "This application is now “%(status)s” and can no longer be moved to “%(to)s”. "
                    "Reload the page to see its current state."
                )
                % {"status": application.get_status_display(), "to": S(to).label},
                {"status": old},
            )
        application.status = to
        fields = ["status"]
        if to == S.AUTHORISED and application.authorised_at is None:
            application.authorised_at = timezone.now()
            fields.append("authorised_at")
        application.save(update_fields=fields)
        audit_record(
            actor=actor,
            action="application.status",
            subject=application,
            old={"status": old},
            new={"status": to},
            reason=reason,
            region=application.village,
        )
    return application
