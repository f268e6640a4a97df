"""The demo's 幸福清单 (issue 12): 幸福签 cards for the households whose year the ledger holds.

The rolls stage writes a year of the ledger and the cases stage closes cases (whose closure SMS
already issued those households' cards through the household_list_url hook). This stage issues
the card of every household of the first township that received something this year, through
the cards service (one token each, audited), so the lists can be opened from the admin's card
page or the banner's link. A rerun issues nothing new: card_ensure keeps an existing token.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count
from django.utils import timezone

from applications.models import ApplicationMember, Person
from assist_center.models import Region, Role, StaffProfile
from benefits.models import BenefitEntry
from happiness_list.models import HappinessCard
from happiness_list.services.cards import card_ensure, card_url

# A township's households with help this year: a few hundred in the demo county.
MAX_CARDS = 1000


class SeedHappinessError(Exception):
    pass


@dataclass
class SeedHappinessResult:
    township: str = ""
    cards: int = 0
    issued: int = 0


def _first_township() -> Region | None:
    """The township of assistant_1, as the banner names it (海游街道 in the demo county)."""
    profile = (
        StaffProfile.objects.filter(role=Role.TOWNSHIP_ASSISTANT, user__username__startswith="assistant_")
        .select_related("region")
        .order_by("user_id")
        .first()
    )
    return profile.region if profile is not None else None


def _year_start(today: dt.date) -> dt.date:
    return dt.date(today.year, 1, 1)


def seed_happiness(*, today: dt.date | None = None) -> SeedHappinessResult:
    today = today or timezone.localdate()
    township = _first_township()
    if township is None:
        raise SeedHappinessError("演示幸福清单未生成：请先运行 county 阶段。")
    households = list(
        BenefitEntry.objects.filter(household__township=township, period__gte=_year_start(today))
        .order_by("household_id")
        .values_list("household_id", flat=True)
        .distinct()[:MAX_CARDS]
    )
    had = set(
        HappinessCard.objects.filter(household_id__in=households).values_list("household_id", flat=True)
    )
    for household_id in households:
        card_ensure(household_id=household_id)
    return SeedHappinessResult(
        township=township.name, cards=len(households), issued=len(set(households) - had)
    )


@dataclass(frozen=True)
class Showcase:
    url: str
    phone: str
    entries: int


def _phone_of(household_id: int) -> str:
    for person in Person.objects.filter(household_id=household_id).exclude(phone_hash="").order_by("pk")[:5]:
        if person.phone:
            return str(person.phone)
    member = (
        ApplicationMember.objects.filter(
            application__household_id=household_id,
            role__in=(ApplicationMember.Role.APPLICANT, ApplicationMember.Role.MEMBER),
            in_other_household=False,
        )
        .exclude(phone_hash="")
        .order_by("pk")
        .first()
    )
    return str(member.phone) if member is not None and member.phone else ""


def showcase(*, today: dt.date | None = None) -> Showcase | None:
    """One household with a card, a phone on record and the fullest year: the banner's link."""
    today = today or timezone.localdate()
    rows = (
        BenefitEntry.objects.filter(period__gte=_year_start(today), household__happiness_card__isnull=False)
        .values("household_id")
        .annotate(n=Count("id"))
        .order_by("-n", "household_id")
        .values_list("household_id", "n")[:20]
    )
    for household_id, n in rows:
        phone = _phone_of(household_id)
        if phone:
            token = HappinessCard.objects.get(household_id=household_id).token
            return Showcase(url=card_url(token), phone=phone.removeprefix("+86"), entries=n)
    return None
