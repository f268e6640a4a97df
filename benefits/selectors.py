"""Reads of the rolls, the ledger and roll tasks, scoped to the user (assist_center.scopes decides).

Everything here is placed by its household: a township assistant sees their township's, a village
cadre their village's, the county its whole; department staff, organisations and anonymous users
none. Out of scope answers 404 exactly like missing.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from assist_center.models import Role
from assist_center.scopes import (
    get_in_scope_or_404,
    is_county_wide,
    profile_of,
    register_scope,
    role_of,
    scope_households,
)

from .models import BenefitEntry, Enrolment, EnrolmentEvent, RollTask, TownshipContact


def scope_enrolment_qs(qs: QuerySet[Enrolment], user: Any) -> QuerySet[Enrolment]:
    return scope_households(qs, user, township_field="township", village_field="household__village")


def scope_enrolment_event_qs(qs: QuerySet[EnrolmentEvent], user: Any) -> QuerySet[EnrolmentEvent]:
    return scope_households(
        qs, user, township_field="enrolment__township", village_field="enrolment__household__village"
    )


def scope_benefit_qs(qs: QuerySet[BenefitEntry], user: Any) -> QuerySet[BenefitEntry]:
    return scope_households(
        qs, user, township_field="household__township", village_field="household__village"
    )


def scope_roll_task_qs(qs: QuerySet[RollTask], user: Any) -> QuerySet[RollTask]:
    return scope_households(qs, user, township_field="township", village_field="household__village")


def scope_township_contact_qs(qs: QuerySet[TownshipContact], user: Any) -> QuerySet[TownshipContact]:
    # The township's duty phones: its assistant and the county; a village cadre has no say over them.
    if is_county_wide(user):
        return qs
    p = profile_of(user)
    if p is None or p.region_id is None or role_of(user) != Role.TOWNSHIP_ASSISTANT:
        return qs.none()
    return qs.filter(township_id=p.region_id)


register_scope(Enrolment, scope_enrolment_qs)
register_scope(EnrolmentEvent, scope_enrolment_event_qs)
register_scope(BenefitEntry, scope_benefit_qs)
register_scope(RollTask, scope_roll_task_qs)
register_scope(TownshipContact, scope_township_contact_qs)


def enrolment_list_visible_to(*, user: Any) -> QuerySet[Enrolment]:
    qs = Enrolment.objects.select_related("household__village", "township", "person", "department")
    return scope_enrolment_qs(qs, user)


def enrolment_get(*, user: Any, enrolment_id: int) -> Enrolment:
    return get_in_scope_or_404(
        Enrolment.objects.select_related("household", "township"), user, pk=enrolment_id
    )


def enrolments_of_household(*, user: Any, household_id: int) -> QuerySet[Enrolment]:
    return enrolment_list_visible_to(user=user).filter(household_id=household_id)


def benefit_list_visible_to(*, user: Any) -> QuerySet[BenefitEntry]:
    return scope_benefit_qs(BenefitEntry.objects.select_related("household__village"), user)


def benefits_of_household(*, user: Any, household_id: int) -> QuerySet[BenefitEntry]:
    return benefit_list_visible_to(user=user).filter(household_id=household_id).order_by("period", "id")


def roll_task_list_visible_to(*, user: Any) -> QuerySet[RollTask]:
    return scope_roll_task_qs(
        RollTask.objects.select_related("household__village", "township", "enrolment"), user
    )


def roll_task_get(*, user: Any, task_id: int) -> RollTask:
    return get_in_scope_or_404(RollTask.objects.select_related("household", "township"), user, pk=task_id)


def enrolled_household_ids(*, item: str | None = None) -> QuerySet[Any]:
    """Ids of households with an open enrolment (of `item`): what monitoring and the re-check select.

    Unscoped: for the county's own background work, never for a user's page.
    """
    qs = Enrolment.objects.exclude(state=Enrolment.State.ENDED)
    if item is not None:
        qs = qs.filter(item=item)
    return qs.values_list("household_id", flat=True).distinct()
