"""Where an application stands, in the words a resident reads (status page, family page, receipt).

The application's own status is not enough once it is decided: the case, its referrals and its
closure belong to referrals, a layer above. Referrals answers the "application_case_state" hook
with a CaseState, so the family page no longer says "being checked" about a closed case.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from assist_center import hooks

from .models import Application, ApplicationMember


@dataclass(frozen=True)
class CaseState:
    """What referrals says about the case of a decided application."""

    closed: bool
    closed_at: dt.datetime | None
    referrals_open: int
    referrals_total: int


@dataclass(frozen=True)
class Progress:
    """One line of status and one of explanation; `step` orders the stages (1 signing … 5 closed)."""

    status: str
    detail: str
    step: int
    finished: bool
    signed: int
    required: int
    closed_at: dt.datetime | None = None


def case_state(application: Application) -> CaseState | None:
    for answer in hooks.call("application_case_state", application=application):
        if isinstance(answer, CaseState):
            return answer
    return None


def _signatures(application: Application) -> tuple[int, int]:
    counts = ApplicationMember.objects.filter(application=application, must_authorise=True).aggregate(
        required=Count("pk"), signed=Count("pk", filter=Q(authorisation__isnull=False))
    )
    return int(counts["signed"] or 0), int(counts["required"] or 0)


def application_progress(application: Application) -> Progress:
    """The application's stage as the resident should read it, from its status and its case."""
    S = Application.Status
    signed, required = _signatures(application)
    st = application.status
    if st in (S.SUBMITTED, S.AWAITING_AUTHORISATION):
        return Progress(
            _("Waiting for the family's signatures"),
            _(
                "%(signed)s of %(required)s people have signed. "
                "The data check starts when everyone has signed."
            )
            % {"signed": signed, "required": required},
            1,
            False,
            signed,
            required,
        )
    if st in (S.AUTHORISED, S.VERIFYING):
        return Progress(
            _("Being checked"),
            _("Everyone has signed. The household's records are being checked with the departments."),
            2,
            False,
            signed,
            required,
        )
    if st == S.UNDER_REVIEW:
        return Progress(
            _("Under review by the township"),
            _(
                "The check is done. The township civil-affairs assistant "
                "is deciding on each kind of assistance."
            ),
            3,
            False,
            signed,
            required,
        )
    if st == S.DECIDED:
        case = case_state(application)
        if case is None:
            return Progress(
                _("Decided"),
                _(
                    "The township has decided. None of the assistance applied for was granted this time; "
                    "ask the township civil-affairs office if you have questions."
                ),
                5,
                True,
                signed,
                required,
            )
        if case.closed:
            return Progress(
                _("Finished"),
                _("Every department has handled its part. The text message we sent lists what was granted."),
                5,
                True,
                signed,
                required,
                case.closed_at,
            )
        return Progress(
            _("Being handled by the departments"),
            _("The township has decided. %(open)s of %(total)s departments are still handling their part.")
            % {"open": case.referrals_open, "total": case.referrals_total},
            4,
            False,
            signed,
            required,
        )
    if st == S.WITHDRAWN:
        return Progress(_("Withdrawn"), _("This application was withdrawn."), 5, True, signed, required)
    return Progress(
        _("Not accepted"),
        _("This application was not accepted. Ask the township civil-affairs office for the reason."),
        5,
        True,
        signed,
        required,
    )
