"""Closed cases of a household, ready to rate, made with the referrals tests' builders."""

from __future__ import annotations

from typing import Any

from applications.models import Application, Household
from assist_center.models import Region
from happiness_list.models import Rating
from happiness_list.services.ratings import RatingInput, rating_submit
from referrals.models import Case

from .. import factories as f
from ..referrals.builders import open_case


def closed_case(village: Region, *, assistant: Any, household: Household | None = None, **kw: Any) -> Case:
    """A case of `household` (a new one by default) whose every referral the department granted."""
    case = open_case(village, actor=assistant, **kw)
    household = household or f.household(village)
    Application.objects.filter(pk=case.application_id).update(household=household)
    for referral in case.referrals.select_related("department"):
        f.complete(referral)
    case = Case.objects.select_related("application").get(pk=case.pk)
    assert case.status == Case.Status.CLOSED
    return case


def rate(
    case: Case,
    levels: tuple[int, int, int] = (5, 5, 5),
    *,
    tags: tuple[str, ...] = (),
    comment: str = "",
    ip: str | None = None,
    actor: Any = None,
) -> Rating:
    from django.contrib.auth.models import AnonymousUser

    assert case.application.household_id is not None
    return rating_submit(
        actor=actor or AnonymousUser(),
        household_id=case.application.household_id,
        case_id=case.pk,
        data=RatingInput(
            efficiency=levels[0], attitude=levels[1], quality=levels[2], tags=tags, comment=comment
        ),
        client_ip=ip,
    )
