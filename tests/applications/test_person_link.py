"""Submission links the applicant and members to registry persons by the ID number's blind index."""

from __future__ import annotations

import datetime as dt
from typing import Any

from applications.models import ApplicationMember, Household, Person, RegistryEvent
from assist_center.models import AuditEvent
from tests import factories as f


def _registered(village: Any, *, members: int = 1) -> Household:
    return f.household(village, members=members)


def test_known_applicant_and_member_are_linked_and_the_application_takes_their_household(
    county_map: Any,
) -> None:
    home = _registered(county_map.village_a1, members=2)
    head, child = home.members.order_by("id")
    app = f.ApplicationFactory.create(
        village=county_map.village_a1,
        people=[
            f.applicant(id_number=head.id_number, birth=head.birth_date),
            f.member(ApplicationMember.Relation.CHILD, id_number=child.id_number, birth=child.birth_date),
        ],
    )
    assert app.household_id == home.pk
    rows = {m.role: m for m in app.members.all()}
    assert rows["applicant"].person_id == head.pk and rows["member"].person_id == child.pk
    assert not any(m.in_other_household for m in rows.values())
    assert Person.objects.count() == 2  # nobody created
    event = AuditEvent.objects.get(action="application.submitted", subject_id=str(app.pk))
    assert event.new_values["household"] == home.pk and event.new_values["in_other_household"] == 0


def test_unknown_people_are_created_from_the_application_in_a_new_household(county_map: Any) -> None:
    app = f.ApplicationFactory.create(village=county_map.village_a1, address="海游路8号")
    household = Household.objects.get(pk=app.household_id)
    assert (household.village, household.township, household.address) == (
        county_map.village_a1,
        county_map.town_a,
        "海游路8号",
    )
    assert household.household_number == ""
    persons = list(household.members.order_by("id"))
    assert [p.source for p in persons] == [Person.Source.APPLICATION] * 2
    assert [p.relation for p in persons] == [Person.Relation.HEAD, Person.Relation.SPOUSE]
    members = list(app.members.order_by("position"))
    assert [m.person_id for m in members] == [p.pk for p in persons]
    assert [p.name for p in persons] == [m.name for m in members]
    assert persons[0].id_number == members[0].id_number  # decrypts to the same number
    events = RegistryEvent.objects.filter(person__in=persons)
    assert {(e.kind, e.to_household_id, e.source_category, e.source_record_id) for e in events} == {
        (RegistryEvent.Kind.REGISTERED, household.pk, "application", app.receipt_code)
    }


def test_an_unknown_member_joins_the_applicants_registry_household(county_map: Any) -> None:
    home = _registered(county_map.village_a1)
    head = home.members.get()
    app = f.ApplicationFactory.create(
        village=county_map.village_a1,
        people=[f.applicant(id_number=head.id_number, birth=head.birth_date), f.member()],
    )
    assert app.household_id == home.pk
    created = Person.objects.get(source=Person.Source.APPLICATION)
    assert created.household_id == home.pk and created.relation == Person.Relation.SPOUSE
    assert app.members.get(role="member").person_id == created.pk


def test_a_member_the_registry_places_elsewhere_is_flagged_and_not_moved(county_map: Any) -> None:
    home = _registered(county_map.village_a1)
    other = _registered(county_map.village_a2)
    head, elsewhere = home.members.get(), other.members.get()
    app = f.ApplicationFactory.create(
        village=county_map.village_a1,
        people=[
            f.applicant(id_number=head.id_number, birth=head.birth_date),
            f.member(id_number=elsewhere.id_number, birth=elsewhere.birth_date),
        ],
    )
    flagged = app.members.get(role="member")
    assert flagged.person_id == elsewhere.pk and flagged.in_other_household is True
    elsewhere.refresh_from_db()
    assert elsewhere.household_id == other.pk  # the registry is not changed by the declaration
    assert not RegistryEvent.objects.filter(person=elsewhere).exists()
    event = AuditEvent.objects.get(action="application.submitted", subject_id=str(app.pk))
    assert event.new_values["in_other_household"] == 1


def test_supporters_are_linked_when_known_but_never_created_or_flagged(county_map: Any) -> None:
    other = _registered(county_map.village_b1)
    son = other.members.get()
    app = f.ApplicationFactory.create(
        village=county_map.village_a1,
        people=[
            f.applicant(),
            f.supporter(id_number=son.id_number, birth=son.birth_date),
            f.supporter(birth=dt.date(1992, 1, 1)),
        ],
    )
    supporters = list(app.members.filter(role="supporter").order_by("position"))
    assert supporters[0].person_id == son.pk and supporters[0].in_other_household is False
    assert supporters[1].person_id is None
    assert Person.objects.filter(source=Person.Source.APPLICATION).count() == 1  # the applicant


def test_a_second_application_links_to_the_person_the_first_created(county_map: Any) -> None:
    first = f.ApplicationFactory.create(village=county_map.village_a1)
    people = first.factory_people
    second = f.ApplicationFactory.create(
        village=county_map.village_a1,
        people=[
            f.applicant(id_number=people[0].id_number, birth=people[0].birth),
            f.member(id_number=people[1].id_number, birth=people[1].birth),
        ],
    )
    assert second.household_id == first.household_id
    assert Person.objects.count() == 2
    assert not second.members.filter(in_other_household=True).exists()
