"""Reads of verification reports, decisions, monitoring warnings and discovery leads, scoped to the user.

Every scope of this app is registered here: a worker or shell that never imports the services still
scopes these models (assist_center.scopes imports `<app>.selectors` for an unregistered model).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from assist_center.scopes import get_in_scope_or_404, register_scope, scope_households

from .models import DiscoveryLead, ItemDecision, MonitoringWarning, VerificationReport


def scope_report_qs(qs: QuerySet[VerificationReport], user: Any) -> QuerySet[VerificationReport]:
    return scope_households(
        qs, user, township_field="application__township", village_field="application__village"
    )


def scope_decision_qs(qs: QuerySet[ItemDecision], user: Any) -> QuerySet[ItemDecision]:
    return scope_households(
        qs, user, township_field="application__township", village_field="application__village"
    )


def scope_warning_qs(qs: QuerySet[MonitoringWarning], user: Any) -> QuerySet[MonitoringWarning]:
    """A warning belongs to the household's township, and to its village for a village cadre."""
    return scope_households(qs, user, township_field="township", village_field="household__village")


def scope_lead_qs(qs: QuerySet[DiscoveryLead], user: Any) -> QuerySet[DiscoveryLead]:
    """A lead belongs to its township, and to the person's village for a village cadre."""
    return scope_households(qs, user, township_field="township", village_field="person__household__village")


register_scope(VerificationReport, scope_report_qs)
register_scope(ItemDecision, scope_decision_qs)
register_scope(MonitoringWarning, scope_warning_qs)
register_scope(DiscoveryLead, scope_lead_qs)


def report_list_visible_to(*, user: Any) -> QuerySet[VerificationReport]:
    qs = VerificationReport.objects.select_related(
        "application__township", "application__village", "requested_by"
    )
    return scope_report_qs(qs.defer("facts"), user)


def report_get(*, user: Any, report_id: int) -> VerificationReport:
    qs = VerificationReport.objects.select_related(
        "application__township", "application__village", "requested_by"
    )
    return get_in_scope_or_404(qs, user, pk=report_id)


def latest_report_visible_to(*, user: Any, application_id: int) -> VerificationReport | None:
    return (
        scope_report_qs(VerificationReport.objects.filter(application_id=application_id), user)
        .order_by("-created_at", "-pk")
        .first()
    )


def decision_list_visible_to(*, user: Any) -> QuerySet[ItemDecision]:
    qs = ItemDecision.objects.select_related("application__township", "decided_by", "report")
    return scope_decision_qs(qs, user)


def warning_list_visible_to(*, user: Any) -> QuerySet[MonitoringWarning]:
    qs = MonitoringWarning.objects.select_related("household__village", "township", "resolved_by")
    return scope_warning_qs(qs, user)


def lead_list_visible_to(*, user: Any) -> QuerySet[DiscoveryLead]:
    return scope_lead_qs(DiscoveryLead.objects.select_related("township", "person__household__village"), user)


def application_staff_links(*, application: Any, user: Any) -> list[tuple[str, str]]:
    """The application's latest verification report, when the user may read it (a hook handler)."""
    from django.urls import reverse
    from django.utils.translation import gettext

    report = latest_report_visible_to(user=user, application_id=application.pk)
    if report is None:
        return []
    url = reverse("admin:eligibility_verificationreport_change", args=[report.pk])
    return [(gettext("Verification report"), url)]
