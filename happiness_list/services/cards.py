"""幸福签 cards: a household's list token, printed as a QR code; reprinting rotates the token."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from applications.models import Household, Person
from assist_center.actors import Actor, account_of
from assist_center.audit import audit_record
from assist_center.models import Region
from assist_center.pdf import render_pdf
from assist_center.permissions import is_centre
from assist_center.pii import mask_name
from assist_center.qr import qr_svg_data_uri
from assist_center.scopes import get_in_scope_or_404, scope_households

from ..models import HappinessCard

__all__ = [
    "MAX_BATCH",
    "card_ensure",
    "card_url",
    "cards_pdf",
    "cards_print",
    "village_households",
]

# A village has a few hundred households; a batch past this is a mistake, not a print run.
MAX_BATCH = 2000


def _new_token() -> str:
    return secrets.token_urlsafe(32)  # 43 characters, like the family token


def card_url(token: str) -> str:
    return f"{settings.SITE_URL}/happiness/{token}/"


def card_ensure(*, household_id: int, actor: Actor | None = None) -> HappinessCard:
    """The household's card, issued now if it has none (the token does not change)."""
    card = HappinessCard.objects.filter(household_id=household_id).first()
    if card is not None:
        return card
    try:
        with transaction.atomic():
            card = HappinessCard.objects.create(
                household_id=household_id,
                token=_new_token(),
                issued_at=timezone.now(),
                issued_by=account_of(actor) if actor is not None else None,
            )
            audit_record(
                actor=actor,
                action="happiness.card_issue",
                subject=("applications.household", str(household_id)),
                new={"version": card.version},
            )
    except IntegrityError:
        return HappinessCard.objects.get(household_id=household_id)
    return card


def _rotate(household: Household, actor: Actor) -> HappinessCard:
    card = HappinessCard.objects.select_for_update().filter(household_id=household.pk).first()
    user = account_of(actor)
    if card is None:
        card = HappinessCard.objects.create(
            household_id=household.pk, token=_new_token(), issued_at=timezone.now(), issued_by=user
        )
    else:
        card.token = _new_token()
        card.version += 1
        card.issued_at = timezone.now()
        card.issued_by = user
        card.save(update_fields=["token", "version", "issued_at", "issued_by"])
    audit_record(
        actor=actor,
        action="happiness.card_print",
        subject=household,
        new={"version": card.version},
        region=household.township,
    )
    return card


def village_households(*, actor: Actor, village_id: int) -> tuple[Region, list[Household]]:
    """A village in the actor's scope and its households; Http404 out of scope."""
    village = get_in_scope_or_404(Region.objects.all(), actor, pk=village_id, level=Region.Level.VILLAGE)
    households = list(
        scope_households(Household.objects.all(), actor, township_field="township", village_field="village")
        .filter(village_id=village.pk)
        .select_related("village", "township")
        .order_by("id")[: MAX_BATCH + 1]
    )
    return village, households


def cards_print(*, actor: Actor, household_ids: Sequence[int]) -> list[HappinessCard]:
    """Print (or reprint) the cards of these households: each gets a new token, the old one is 404.

    Every household must be in the actor's scope (else Http404); printing is the centre's (403).
    """
    if not is_centre(actor):
        raise PermissionDenied
    cards = []
    with transaction.atomic():
        for household_id in household_ids:
            household = get_in_scope_or_404(
                Household.objects.select_related("township"), actor, pk=household_id
            )
            cards.append(_rotate(household, actor))
    return cards


@dataclass(frozen=True)
class _Card:
    url: str
    qr_uri: str
    head: str
    township: str
    village: str
    version: int


def _head_names(household_ids: Sequence[int]) -> dict[int, str]:
    """Each household's head (else its first registered member), masked: one query for a batch."""
    people: dict[int, list[Person]] = {}
    for p in (
        Person.objects.filter(
            household_id__in=household_ids, registry_status=Person.RegistryStatus.REGISTERED
        )
        .order_by("household_id", "id")
        .only("household_id", "name", "relation")
    ):
        people.setdefault(p.household_id, []).append(p)
    names = {}
    for household_id, members in people.items():
        chosen = next((p for p in members if p.relation == Person.Relation.HEAD), members[0])
        names[household_id] = mask_name(chosen.name)
    return names


def cards_pdf(cards: Sequence[HappinessCard]) -> bytes:
    """A PDF with one card per household: QR code, the head's masked name, township and village."""
    rows = []
    households = {
        h.pk: h
        for h in Household.objects.filter(pk__in=[c.household_id for c in cards]).select_related(
            "village", "township"
        )
    }
    heads = _head_names([c.household_id for c in cards])
    for card in cards:
        h = households[card.household_id]
        url = card_url(card.token)
        rows.append(
            _Card(
                url=url,
                qr_uri=qr_svg_data_uri(url),
                head=heads.get(h.pk, ""),
                township=h.township.name,
                village=h.village.name,
                version=card.version,
            )
        )
    with translation.override(settings.LANGUAGE_CODE):
        html = render_to_string(
            "happiness_list/pdf/cards.html",
            {"cards": rows, "county_name": settings.COUNTY_NAME, "printed_at": timezone.localtime()},
        )
    return render_pdf(html)
