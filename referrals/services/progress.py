"""What the residents' pages of applications learn about a case (the "application_case_state" hook)."""

from __future__ import annotations

from django.db.models import Count, Q

from applications.models import Application
from applications.progress import CaseState

from ..models import Case, Referral


def application_case_state(*, application: Application) -> CaseState | None:
    """The case of a decided application: closed or not, and how many referrals are still open."""
    case = Case.objects.filter(application=application).first()
    if case is None:
        return None
    counts = Referral.objects.filter(case=case).aggregate(
        total=Count("pk"), open=Count("pk", filter=~Q(status__in=Referral.FINISHED_STATUSES))
    )
    return CaseState(
        closed=case.status == Case.Status.CLOSED,
        closed_at=case.closed_at,
        referrals_open=int(counts["open"] or 0),
        referrals_total=int(counts["total"] or 0),
    )
