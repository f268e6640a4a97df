"""Builders for the 公益谷 tests: vetted organisations with members, households, published needs."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

from assist_center.models import Region, Role
from charity.models import Need, Organisation
from charity.services.needs import need_create, need_publish

from .. import factories as f

_seq = itertools.count(1)


def vetted(org: Organisation, *, until: dt.date | None = None) -> Organisation:
    org.vetting = Organisation.Vetting.APPROVED
    org.is_vetted = True
    org.vetted_at = timezone.now()
    org.vetted_until = until or timezone.localdate() + dt.timedelta(days=365)
    org.save()
    return org


def org_with_member(name: str | None = None, *, is_vetted: bool = True) -> tuple[Organisation, Any]:
    n = next(_seq)
    org = f.OrganisationFactory(name=name or f"测试公益组织{n}")
    user = f.staff_user(f"orgm{n}_{org.pk}", Role.ORGANISATION)
    org.members.add(user)
    if is_vetted:
        vetted(org)
    return org, user


def draft_need(
    actor: Any,
    village: Region,
    *,
    category: str = "donation",
    members: int = 1,
    consent: bool = True,
    share: bool = True,
    birth: dt.date = dt.date(1950, 3, 1),
    phone: str = "",
) -> Need:
    h = f.household(village, members=0)
    head = f.person(h, birth=birth, phone=phone)
    for _ in range(members - 1):
        f.person(h, relation="child", birth=dt.date(1980, 1, 1))
    return need_create(
        actor=actor,
        household_id=h.pk,
        person_id=head.pk,
        category=category,
        text=f"{head.name}家需要一台轮椅，住在{village.name}",
        publish_consent=consent,
        share_consent=share,
    )


def published_need(actor: Any, village: Region, **kwargs: Any) -> Need:
    need = draft_need(actor, village, **kwargs)
    return need_publish(actor=actor, need_id=need.pk, public_text="老人行动不便，需要一台轮椅。")


def visible_need(actor: Any, village: Region, **kwargs: Any) -> Need:
    """A need shown in full on the public board: four other households share its profile first."""
    for _ in range(4):
        published_need(actor, village, **kwargs)
    return published_need(actor, village, **kwargs)
