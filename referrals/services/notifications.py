"""Colour notifications in the workbench: which ones a user is shown, and marking them read."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from assist_center.actors import Actor
from assist_center.audit import audit_record
from assist_center.models import Role
from assist_center.scopes import is_county_wide, profile_of, role_of

from ..models import Notification

# Enough to read at a glance; older unread ones stay unread and show on the next visit.
SHOWN_AT_MOST = 20


def notifications_addressed_to(user: Any) -> QuerySet[Notification]:
    """Notifications meant for this user: their department's, or the coordinator's red escalations.

    A township assistant and everyone else get none: the sweep addresses departments and the
    county coordinator only (issue 5).
    """
    qs = Notification.objects.all()
    if is_county_wide(user):
        return qs.filter(audience=Notification.Audience.COORDINATOR)
    p = profile_of(user)
    if p is not None and role_of(user) == Role.DEPARTMENT_STAFF and p.department_id is not None:
        return qs.filter(audience=Notification.Audience.DEPARTMENT, department_id=p.department_id)
    return qs.none()


def notifications_unread_for(*, user: Any) -> list[Notification]:
    """The newest unread notifications of the user, with what the banner shows, in one query."""
    qs = (
        notifications_addressed_to(user)
        .filter(read_at__isnull=True)
        .select_related("referral__case__application")
        .order_by("-created_at", "-id")
    )
    return list(qs[:SHOWN_AT_MOST])


def notification_mark_read(*, actor: Actor, notification_ids: list[int]) -> int:
    """Mark the given notifications read, only those addressed to the actor; return how many changed.

    A conditional update: two tabs open at once mark each notification once, and ids of another
    department's notifications change nothing.
    """
    if not notification_ids:
        return 0
    with transaction.atomic():
        changed = (
            notifications_addressed_to(actor)
            .filter(pk__in=notification_ids, read_at__isnull=True)
            .update(read_at=timezone.now())
        )
        if changed:
            p = profile_of(actor)
            audit_record(
                actor=actor,
                action="referral_notifications_read",
                subject=("referrals.notification", ",".join(str(i) for i in sorted(notification_ids))[:64]),
                new={"count": changed},
                department=p.department if p is not None and p.department_id is not None else None,
            )
        return changed
