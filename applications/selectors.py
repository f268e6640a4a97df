"""Reads of households and persons, scoped to the user (assist_center.scopes decides the scope)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from assist_center.scopes import get_in_scope_or_404, register_scope, scope_households

from .models import Household, Person


def scope_household_qs(qs: QuerySet[Household], user: Any) -> QuerySet[Household]:
    return scope_households(qs, user)


def scope_person_qs(qs: QuerySet[Person], user: Any) -> QuerySet[Person]:
    # Persons are placed by their household: the household's township and village decide.
    return scope_households(
        qs, user, township_field="household__township", village_field="household__village"
    )


register_scope(Household, scope_household_qs)
register_scope(Person, scope_person_qs)


def household_list_visible_to(*, user: Any) -> QuerySet[Household]:
    """Households the user may see, with village, township and member count loaded in one query."""
    qs = Household.objects.select_related("village", "township").annotate(member_count=Count("members"))
    return scope_household_qs(qs, user)


def household_get(*, user: Any, household_id: int) -> Household:
    return get_in_scope_or_404(Household.objects.select_related("village", "township"), user, pk=household_id)


def person_list_visible_to(*, user: Any) -> QuerySet[Person]:
    return scope_person_qs(Person.objects.select_related("household__village", "household__township"), user)


def person_get(*, user: Any, person_id: int) -> Person:
    return get_in_scope_or_404(Person.objects.select_related("household__village"), user, pk=person_id)
