"""The county registry from 户籍 and death records: persons and households, with their history.

The data pool's `hukou` and `death` imports call these (eligibility.services.registry) inside the
import's transaction, with the rows the import inserted or changed: a file imported twice changes
no pool row the second time, so it reaches nothing here either. Every change writes one
`RegistryEvent` (append-only) naming the department's record and the import; the import as a
whole writes one audit event with the counts (one per person would be half a million rows for a
county's first load, and the events already say who changed how and why).

Persons are matched by the blind index of the ID number, households by their 户号. A person the
registry places in another household moves there (event "moved", with both households); a
person whose record says moved out or cancelled (迁出/注销) stays in their last household, marked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from assist_center.actors import AuditActor
from assist_center.audit import audit_record
from assist_center.identity import InvalidIdNumber, parse_id_number
from assist_center.models import Region

from ..models import Household, Person, RegistryEvent

R = Person.Relation
K = RegistryEvent.Kind
BATCH = 5000

# 与户主关系 as the public-security files write it (GA/T 2000 wording and common variants).
RELATIONS: dict[str, str] = {
    "户主": R.HEAD, "本人": R.HEAD,
    "配偶": R.SPOUSE, "妻": R.SPOUSE, "夫": R.SPOUSE, "妻子": R.SPOUSE, "丈夫": R.SPOUSE,
    "子": R.CHILD, "女": R.CHILD, "儿子": R.CHILD, "女儿": R.CHILD, "子女": R.CHILD,
    "长子": R.CHILD, "次子": R.CHILD, "长女": R.CHILD, "次女": R.CHILD, "养子": R.CHILD, "养女": R.CHILD,
    "父亲": R.PARENT, "母亲": R.PARENT, "父母": R.PARENT, "公公": R.PARENT, "婆婆": R.PARENT,
    "岳父": R.PARENT, "岳母": R.PARENT,
    "孙子": R.GRANDCHILD, "孙女": R.GRANDCHILD, "外孙子": R.GRANDCHILD, "外孙女": R.GRANDCHILD,
    "祖父": R.GRANDPARENT, "祖母": R.GRANDPARENT, "外祖父": R.GRANDPARENT, "外祖母": R.GRANDPARENT,
    "兄": R.SIBLING, "弟": R.SIBLING, "姐": R.SIBLING, "妹": R.SIBLING, "兄弟姐妹": R.SIBLING,
}  # fmt: skip
# Status words of a person no longer registered in the county.
LEFT_STATUSES = frozenset({"迁出", "注销", "moved_out", "cancelled"})


def relation_code(raw: str) -> str:
    """The Person.Relation of a 与户主关系 text (or of a code already); anything else is "other"."""
    text = raw.strip()
    if text in R.values:
        return text
    return RELATIONS.get(text, R.OTHER)


@dataclass(frozen=True)
class HukouEntry:
    """One 户籍 record, as the pool import read it."""

    person_hash: str
    household_number: str
    relation: str
    status: str
    effective_date: dt.date
    record_id: str
    name: str = ""
    village_code: str = ""
    address: str = ""
    # The plaintext ID number, only to create a person the registry does not know yet (encrypted
    # on save); None when the caller no longer has it.
    id_number: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class DeathEntry:
    person_hash: str
    death_date: dt.date
    record_id: str
    category: str = "death"
    line: int | None = None


@dataclass
class RegistryResult:
    persons_created: int = 0
    households_created: int = 0
    moved: int = 0
    relation_changed: int = 0
    left: int = 0
    returned: int = 0
    died: int = 0
    unchanged: int = 0
    # (line, reason): rows the pool kept but the registry could not use; no values, as in the pool.
    problems: list[tuple[int, str]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in vars(self).items() if isinstance(v, int)}


def _chunks(items: Sequence[str], size: int = BATCH) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _latest(entries: Iterable[HukouEntry]) -> dict[str, HukouEntry]:
    """Each person's latest record (by effective date, then by line): it says where they live now."""
    latest: dict[str, HukouEntry] = {}
    for e in entries:
        seen = latest.get(e.person_hash)
        if seen is None or (e.effective_date, e.line or 0) >= (seen.effective_date, seen.line or 0):
            latest[e.person_hash] = e
    return latest


def _persons_by_hash(hashes: Sequence[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(hashes):
        # .values(): the encrypted ID number is neither needed nor decrypted.
        for row in Person.objects.filter(id_number_hash__in=chunk).values(
            "id", "id_number_hash", "household_id", "relation", "registry_status", "source", "died_on"
        ):
            found[row["id_number_hash"]] = dict(row)
    return found


def registry_apply_hukou(
    *, entries: Iterable[HukouEntry], actor: AuditActor, job_id: int | None = None, category: str = "hukou"
) -> RegistryResult:
    """Create or update persons and households from 户籍 records; idempotent for the same records."""
    result = RegistryResult()
    latest = _latest(entries)
    if not latest:
        return result
    with transaction.atomic():
        persons = _persons_by_hash(list(latest))
        villages = {
            r.code: r
            for r in Region.objects.select_related("township").filter(
                code__in={e.village_code for e in latest.values() if e.village_code},
                level=Region.Level.VILLAGE,
                township__isnull=False,
            )
        }
        numbers = sorted({e.household_number for e in latest.values() if e.household_number})
        households: dict[str, Household] = {}
        for chunk in _chunks(numbers):
            households.update(
                {h.household_number: h for h in Household.objects.filter(household_number__in=chunk)}
            )

        # Households the registry names for the first time.
        new_households: dict[str, Household] = {}
        for e in latest.values():
            if e.status in LEFT_STATUSES or e.household_number in households:
                continue
            village = villages.get(e.village_code)
            if village is None or e.household_number in new_households:
                continue
            new_households[e.household_number] = Household(
                village=village,
                township=village.township,
                address=e.address[:200],
                household_number=e.household_number,
            )
        Household.objects.bulk_create(new_households.values(), batch_size=BATCH)
        households.update(new_households)
        result.households_created = len(new_households)

        creates: list[Person] = []
        create_events: list[tuple[Person, RegistryEvent]] = []
        updates: dict[int, dict[str, Any]] = {}
        events: list[RegistryEvent] = []

        def event(person_id: int, kind: str, e: HukouEntry, **kw: Any) -> None:
            events.append(
                RegistryEvent(
                    person_id=person_id,
                    kind=kind,
                    effective_date=e.effective_date,
                    source_category=category,
                    source_record_id=e.record_id,
                    import_job_id=job_id,
                    **kw,
                )
            )

        for person_hash, e in latest.items():
            known = persons.get(person_hash)
            relation = relation_code(e.relation)
            if e.status in LEFT_STATUSES:
                if known is not None and known["registry_status"] == Person.RegistryStatus.REGISTERED:
                    updates[known["id"]] = {"registry_status": Person.RegistryStatus.MOVED_OUT}
                    event(
                        known["id"],
                        K.LEFT,
                        e,
                        from_household_id=known["household_id"],
                        old={"registry_status": known["registry_status"]},
                        new={"registry_status": Person.RegistryStatus.MOVED_OUT},
                    )
                    result.left += 1
                else:
                    result.unchanged += 1
                continue
            household = households.get(e.household_number)
            if household is None:
                result.problems.append(
                    (
                        e.line or 0,
                        _("village_code is not a village of this county; not added to the registry"),
                    )
                )
                continue
            if known is None:
                person = _new_person(e, household, relation, result)
                if person is not None:
                    creates.append(person)
                    create_events.append(
                        (
                            person,
                            RegistryEvent(
                                kind=K.REGISTERED,
                                to_household_id=household.pk,
                                new={"relation": relation},
                                effective_date=e.effective_date,
                                source_category=category,
                                source_record_id=e.record_id,
                                import_job_id=job_id,
                            ),
                        )
                    )
                continue
            change: dict[str, Any] = {}
            if known["registry_status"] != Person.RegistryStatus.REGISTERED and known["died_on"] is None:
                change["registry_status"] = Person.RegistryStatus.REGISTERED
                event(
                    known["id"],
                    K.RETURNED,
                    e,
                    old={"registry_status": known["registry_status"]},
                    new={"registry_status": Person.RegistryStatus.REGISTERED},
                    to_household_id=household.pk,
                )
                result.returned += 1
            if known["source"] != Person.Source.REGISTRY:
                # A person first known from an application, now confirmed by the registry.
                change["source"] = Person.Source.REGISTRY
            if known["household_id"] != household.pk:
                change["household_id"] = household.pk
                change["relation"] = relation
                event(
                    known["id"],
                    K.MOVED,
                    e,
                    from_household_id=known["household_id"],
                    to_household_id=household.pk,
                    old={"relation": known["relation"]},
                    new={"relation": relation},
                )
                result.moved += 1
            elif known["relation"] != relation:
                change["relation"] = relation
                event(
                    known["id"],
                    K.RELATION,
                    e,
                    old={"relation": known["relation"]},
                    new={"relation": relation},
                )
                result.relation_changed += 1
            if change:
                updates[known["id"]] = change
            else:
                result.unchanged += 1

        Person.objects.bulk_create(creates, batch_size=BATCH)
        for person, ev in create_events:
            ev.person_id = person.pk
            events.append(ev)
        result.persons_created = len(creates)
        _apply_updates(updates)
        RegistryEvent.objects.bulk_create(events, batch_size=BATCH)
        if job_id is not None or result.counts():
            audit_record(
                actor=actor,
                action="registry.import",
                subject=("eligibility.importjob", str(job_id or "")),
                new={"category": category, **result.counts(), "problems": len(result.problems)},
            )
    return result


def _new_person(e: HukouEntry, household: Household, relation: str, result: RegistryResult) -> Person | None:
    if not e.id_number or not e.name.strip():
        result.problems.append((e.line or 0, _("name is required to add a person to the registry")))
        return None
    try:
        parsed = parse_id_number(e.id_number)
    except InvalidIdNumber:
        result.problems.append((e.line or 0, _("id_number cannot be added to the registry")))
        return None
    return Person(
        household=household,
        name=e.name.strip()[:64],
        id_number=parsed.number,
        id_number_hash=e.person_hash,
        document_type=parsed.document_type.value,
        sex=parsed.sex,
        birth_date=parsed.birth_date,
        relation=relation,
        source=Person.Source.REGISTRY,
    )


def _apply_updates(updates: dict[int, dict[str, Any]]) -> None:
    """Group equal changes into one UPDATE each (a county's moves share few distinct shapes)."""
    by_change: dict[tuple[tuple[str, Any], ...], list[int]] = {}
    for person_id, change in updates.items():
        by_change.setdefault(tuple(sorted(change.items())), []).append(person_id)
    for change_items, ids in by_change.items():
        for start in range(0, len(ids), BATCH):
            Person.objects.filter(pk__in=ids[start : start + BATCH]).update(**dict(change_items))


def registry_record_deaths(
    *, entries: Iterable[DeathEntry], actor: AuditActor, job_id: int | None = None
) -> RegistryResult:
    """Mark the persons of death (or cremation) records deceased; a repeated record changes nothing."""
    result = RegistryResult()
    earliest: dict[str, DeathEntry] = {}
    for e in entries:
        seen = earliest.get(e.person_hash)
        if seen is None or e.death_date < seen.death_date:
            earliest[e.person_hash] = e
    if not earliest:
        return result
    with transaction.atomic():
        persons = _persons_by_hash(list(earliest))
        events: list[RegistryEvent] = []
        updates: dict[int, dict[str, Any]] = {}
        for person_hash, e in earliest.items():
            known = persons.get(person_hash)
            if known is None:
                # Nobody the county registry knows: nothing to mark (the pool keeps the record).
                continue
            if (
                known["registry_status"] == Person.RegistryStatus.DECEASED
                and known["died_on"] == e.death_date
            ):
                result.unchanged += 1
                continue
            updates[known["id"]] = {
                "registry_status": Person.RegistryStatus.DECEASED,
                "died_on": e.death_date,
            }
            events.append(
                RegistryEvent(
                    person_id=known["id"],
                    kind=K.DIED,
                    from_household_id=known["household_id"],
                    old={"registry_status": known["registry_status"], "died_on": known["died_on"]},
                    new={"registry_status": Person.RegistryStatus.DECEASED, "died_on": e.death_date},
                    effective_date=e.death_date,
                    source_category=e.category,
                    source_record_id=e.record_id,
                    import_job_id=job_id,
                )
            )
            result.died += 1
        _apply_updates(updates)
        RegistryEvent.objects.bulk_create(events, batch_size=BATCH)
        if events:
            audit_record(
                actor=actor,
                action="registry.deaths",
                subject=("eligibility.importjob", str(job_id or "")),
                new={"died": result.died, "unchanged": result.unchanged},
            )
    return result


def household_members_on(*, household_id: int, day: dt.date) -> list[int]:
    """Ids of the persons registered in a household on `day`, read from the registry's history."""
    members: set[int] = set()
    events = (
        RegistryEvent.objects.filter(effective_date__lte=day)
        .filter(Q(from_household_id=household_id) | Q(to_household_id=household_id))
        .order_by("person_id", "effective_date", "id")
        .values_list("person_id", "kind", "from_household_id", "to_household_id")
    )
    for person_id, kind, from_id, to_id in events:
        if kind in (K.REGISTERED, K.RETURNED) or (kind == K.MOVED and to_id == household_id):
            members.add(person_id)
        elif kind in (K.LEFT, K.DIED) or (kind == K.MOVED and from_id == household_id):
            members.discard(person_id)
    return sorted(members)
