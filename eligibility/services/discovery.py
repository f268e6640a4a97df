"""Discovery (主动发现): people outside the rolls whose records show hardship become leads for their township.

`discovery_scan` reads the records of the four signal categories (medical spending, disability
certificates, unemployment registrations, deaths), scoped to one import's changed records after an
import or to the last 12 months in a full scan, and keeps the people registered in a household
that is not enrolled (a lead needs a township; people the registry does not know are skipped).
The persons are the registry's (the 户籍 import), so policy finds people who never applied: that
is the point of discovery. People named in an application still open are left out: their household
is already being handled, and a lead would only make a second application.
An assistant turns a lead into an on-behalf application in one step, or dismisses it with a reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import structlog
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications.intake import parse_application_input
from applications.models import Application, ApplicationMember, Channel, Person
from applications.services.submission import application_submit
from assist_center.actors import Actor
from assist_center.audit import audit_record
from assist_center.errors import ApplicationError, ConflictError
from assist_center.permissions import may_handle_monitoring, may_submit_on_behalf
from assist_center.phones import InvalidPhone, normalise_mobile
from assist_center.scopes import get_in_scope_or_404

from ..facts import WINDOW_DAYS, HouseholdFacts, dec
from ..models import DiscoveryLead, PoolRecord
from ..monitoring_rules import (
    DISCOVERY_CATEGORIES,
    REASON_LABELS,
    ChangedRecord,
    Signal,
    disability_signal,
    earner_death_signal,
    lead_dedupe_key,
    medical_signal,
    needs_for,
    unemployment_signal,
)
from .whatif import Roster, StandardsCache, facts_for, load_rosters

log = structlog.get_logger(__name__)

CHUNK_RECORDS = 5000
MAX_REASON = 1000
Status = DiscoveryLead.Status


# --- scan --------------------------------------------------------------------------------------


def _signal_chunks(job_id: int | None, today: dt.date) -> Iterator[list[ChangedRecord]]:
    qs = PoolRecord.objects.filter(category__in=DISCOVERY_CATEGORIES)
    if job_id is not None:
        qs = qs.filter(job_id=job_id)
    else:
        qs = qs.filter(effective_date__gt=today - dt.timedelta(days=WINDOW_DAYS), effective_date__lte=today)
    last = 0
    while True:
        rows = list(
            qs.filter(pk__gt=last)
            .order_by("pk")
            .values_list(
                "pk",
                "category",
                "department",
                "source_record_id",
                "person_hash",
                "effective_date",
                "data",
                "content_hash",
            )[:CHUNK_RECORDS]
        )
        if not rows:
            return
        yield [ChangedRecord(*row) for row in rows]
        if len(rows) < CHUNK_RECORDS:
            return
        last = rows[-1][0]


@dataclass(frozen=True)
class _Place:
    person_id: int
    household_id: int
    township_id: int


def _lead_person_after_death(roster: Roster, facts: HouseholdFacts, deceased_hash: str) -> str | None:
    """Whom to reach after a death: the head if living, else the first other living member."""
    alive = {m.key for m in facts.members if m.alive}
    living = [m for m in roster.members if m.person_hash != deceased_hash and m.key in alive]
    if not living:
        return None
    head = next((m for m in living if m.role == "applicant"), None)
    return (head or living[0]).person_hash


def discovery_scan(*, job_id: int | None = None, today: dt.date | None = None) -> int:
    """Make a lead of every hardship signal of a person outside the rolls; return how many are new.

    With `job_id`: the records that import changed; without: every signal record of the last 12
    months. A person with an open lead for the same reason gets no second one; the dedupe key
    (person, reason, record) makes a re-run create nothing.
    """
    today = today or timezone.localdate()
    cache = StandardsCache(today)
    created = 0
    with transaction.atomic():
        for chunk in _signal_chunks(job_id, today):
            hashes = list({r.person_hash for r in chunk})
            places: dict[str, _Place] = {
                person_hash: _Place(pk, household_id, int(township_id or 0))
                for pk, person_hash, household_id, township_id in Person.objects.filter(
                    id_number_hash__in=hashes, household__is_enrolled=False
                ).values_list("pk", "id_number_hash", "household_id", "household__township_id")
            }
            applying = set(
                ApplicationMember.objects.filter(
                    id_number_hash__in=list(places), application__status__in=Application.OPEN_STATUSES
                ).values_list("id_number_hash", flat=True)
            )
            for person_hash in applying:
                del places[person_hash]
            relevant = [r for r in chunk if r.person_hash in places]
            if not relevant:
                continue
            need_facts = {
                places[r.person_hash].household_id
                for r in relevant
                if r.category in ("medical_expense", "death")
            }
            rosters = load_rosters(sorted(need_facts))
            facts = {
                roster.household_id: (roster, f) for roster, f in facts_for(rosters.values(), as_of=today)
            }
            standards = cache.for_townships({p.township_id for p in places.values()})
            signals: list[tuple[str, Signal]] = []  # (lead person hash, signal)
            for rec in relevant:
                place = places[rec.person_hash]
                signal: Signal | None = None
                target = rec.person_hash
                if rec.category == "medical_expense":
                    roster, f = facts[place.household_id]
                    medical = standards[place.township_id].get("medical")
                    minimum = dec(medical.params.get("min_spending")) if medical is not None else None
                    signal = medical_signal(rec, f, min_spending=minimum, as_of=today)
                elif rec.category == "disability":
                    signal = disability_signal(rec, as_of=today)
                elif rec.category == "unemployment":
                    signal = unemployment_signal(rec, as_of=today)
                elif rec.category == "death":
                    roster, f = facts[place.household_id]
                    key = next((m.key for m in roster.members if m.person_hash == rec.person_hash), "")
                    signal = earner_death_signal(rec, f, deceased_key=key, as_of=today)
                    if signal is not None:
                        target = _lead_person_after_death(roster, f, rec.person_hash) or ""
                if signal is not None and target:
                    signals.append((target, signal))
            created += _save_leads(signals, places)
        if created:
            audit_record(
                actor=None,
                action="discovery.scan",
                subject=("eligibility.importjob", str(job_id))
                if job_id
                else ("eligibility.discoverylead", "*"),
                new={"job": job_id, "leads_created": created},
            )
    log.info("discovery.done", job_id=job_id, leads_created=created)
    return created


def _save_leads(signals: list[tuple[str, Signal]], places: dict[str, _Place]) -> int:
    if not signals:
        return 0
    # The person a lead is for may be another member than the record's (after a death).
    targets = {t for t, _s in signals if t not in places}
    if targets:
        for pk, person_hash, household_id, township_id in Person.objects.filter(
            id_number_hash__in=targets
        ).values_list("pk", "id_number_hash", "household_id", "household__township_id"):
            places[person_hash] = _Place(pk, household_id, int(township_id or 0))
    leads: dict[str, DiscoveryLead] = {}
    for target, signal in signals:
        place = places.get(target)
        if place is None:
            continue
        key = lead_dedupe_key(target, signal.reason, signal.record)
        leads[key] = DiscoveryLead(
            person_hash=target,
            person_id=place.person_id,
            township_id=place.township_id,
            reason=signal.reason,
            evidence=signal.evidence,
            dedupe_key=key,
        )
    if not leads:
        return 0
    existing = set(
        DiscoveryLead.objects.filter(dedupe_key__in=list(leads)).values_list("dedupe_key", flat=True)
    )
    open_pairs = set(
        DiscoveryLead.objects.filter(
            person_hash__in={lead.person_hash for lead in leads.values()}, status=Status.OPEN
        ).values_list("person_hash", "reason")
    )
    new: list[DiscoveryLead] = []
    for key, lead in leads.items():
        pair = (lead.person_hash, lead.reason)
        if key in existing or pair in open_pairs:
            continue
        open_pairs.add(pair)  # one open lead per person and reason, also within this batch
        new.append(lead)
    DiscoveryLead.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


# --- handling a lead ---------------------------------------------------------------------------


def _lead_for_staff(actor: Actor, lead_id: int) -> DiscoveryLead:
    lead = get_in_scope_or_404(
        DiscoveryLead.objects.select_related("person__household__village"), actor, pk=lead_id
    )
    if not may_handle_monitoring(actor):
        raise PermissionDenied
    return lead


def lead_dismiss(*, actor: Actor, lead_id: int, reason: str) -> DiscoveryLead:
    """Close an open lead as not needing outreach; the reason is required and audited."""
    lead = _lead_for_staff(actor, lead_id)
    reason = (reason or "").strip()
    if not reason:
        missing = _("Say why this lead needs no outreach.")
        raise ApplicationError(missing, {"fields": {"reason": str(missing)}})
    if len(reason) > MAX_REASON or "\x00" in reason:
        too_long = _("The reason may have at most %(n)d characters.") % {"n": MAX_REASON}
        raise ApplicationError(too_long, {"fields": {"reason": str(too_long)}})
    with transaction.atomic():
        won = DiscoveryLead.objects.filter(pk=lead.pk, status=Status.OPEN).update(
            status=Status.DISMISSED, dismissed_reason=reason, handled_by=actor
        )
        if not won:
            raise ConflictError(_("This lead has already been handled."), {"lead": lead.pk})
        audit_record(
            actor=actor,
            action="discovery.lead.dismiss",
            subject=lead,
            old={"status": Status.OPEN},
            new={"status": Status.DISMISSED, "reason_code": lead.reason},
            reason=reason,
            region=_village(lead),
        )
    lead.refresh_from_db()
    return lead


def _village(lead: DiscoveryLead) -> Any:
    return lead.person.household.village if lead.person is not None else lead.township


# The applicant's relation to the head -> how the other members relate to the applicant.
_FROM_SPOUSE = {"head": "spouse", "child": "child", "grandchild": "grandchild"}
_FROM_CHILD = {"head": "parent", "spouse": "parent", "child": "sibling", "parent": "grandparent"}


def _relation(applicant_relation: str, member_relation: str) -> str:
    """A member's relation to the applicant, from both persons' relation to the household head."""
    if applicant_relation == "head":
        return member_relation if member_relation != "head" else "other"
    table = {"spouse": _FROM_SPOUSE, "child": _FROM_CHILD}.get(applicant_relation, {})
    return table.get(member_relation, "other")


def _mobile(phone: str) -> str:
    if not phone:
        return ""
    try:
        return normalise_mobile(phone)
    except InvalidPhone:
        return ""  # a landline cannot receive the family link; on behalf, none is required


def _application_body(lead: DiscoveryLead) -> dict[str, Any]:
    """The application the lead's household would make, as the intake contract's JSON body.

    ID numbers are decrypted here only to be handed to the submission service; they are never
    logged or returned. Members the pool records as dead are left out.
    """
    assert lead.person is not None
    household = lead.person.household
    persons = list(Person.objects.filter(household=household).order_by("pk"))
    dead = set(
        PoolRecord.objects.filter(
            person_hash__in=[p.id_number_hash for p in persons], category__in=("death", "funeral")
        ).values_list("person_hash", flat=True)
    )
    living = [p for p in persons if p.id_number_hash not in dead]
    if not living:
        raise ApplicationError(_("No living member of this household is registered."))
    head = next((p for p in living if p.relation == Person.Relation.HEAD), None)
    applicant = head or (lead.person if lead.person in living else living[0])
    village = household.village
    label = REASON_LABELS.get(lead.reason, lead.reason)
    return {
        "region_code": village.code,
        "village_code": village.code,
        "address": household.address,
        "applicant": {
            "name": applicant.name,
            "id_number": applicant.id_number,
            "phone": _mobile(applicant.phone),
        },
        "members": [
            {"name": p.name, "id_number": p.id_number, "relation": _relation(applicant.relation, p.relation)}
            for p in living
            if p.pk != applicant.pk
        ],
        "supporters": [],
        "needs": list(needs_for([lead.reason])),
        "need_note": f"主动发现：{label}（线索 #{lead.pk}）",
        # The resident has not consented yet, and need not have: an on-behalf application waits for
        # the family's e-authorisation (every adult signs the consent, a guardian for the minors)
        # before any data check runs. Sharing and publication stay off: only the family may opt in.
        "consents": {"data_check": True, "share_with_organisations": False, "publish_need": False},
        "guardian_confirmed": True,
    }


def lead_convert(*, actor: Actor, lead_id: int) -> Application:
    """Turn an open lead into an on-behalf application of the person's household, in one step.

    Only the township assistant of the household's township may (security.md: 代办 is theirs);
    a coordinator gets a 403 that says so. Race-safe: the lead row is locked, so a second click or
    a colleague converting at the same time gets ConflictError instead of a second application.
    """
    lead = _lead_for_staff(actor, lead_id)
    if not may_submit_on_behalf(actor):
        raise ApplicationError(
            _(
                "Only the township assistant can submit an application on a resident's behalf; "
                "ask the assistant of this township to do it."
            ),
            status=403,
        )
    if lead.person is None:
        raise ApplicationError(_("This lead names no registered person."), status=409)
    with transaction.atomic():
        locked = DiscoveryLead.objects.select_for_update().get(pk=lead.pk)
        if locked.status != Status.OPEN:
            raise ConflictError(_("This lead has already been handled."), {"lead": lead.pk})
        data = parse_application_input(_application_body(lead))
        application = application_submit(data=data, channel=Channel.ON_BEHALF, actor=actor, otp=None, ip=None)
        DiscoveryLead.objects.filter(pk=lead.pk).update(
            status=Status.CONVERTED, application=application, handled_by=actor
        )
        audit_record(
            actor=actor,
            action="discovery.lead.convert",
            subject=lead,
            old={"status": Status.OPEN},
            new={
                "status": Status.CONVERTED,
                "reason_code": lead.reason,
                "application": application.receipt_code,
                "needs": list(data.needs),
            },
            region=_village(lead),
        )
    lead.refresh_from_db()
    return application
