"""The household page: one place for a household's story, scoped like the household itself."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.urls import reverse
from django.utils import translation

from applications.models import Application, ApplicationMember, Household
from benefits.models import Enrolment
from benefits.services.enrolments import enrolment_start
from benefits.services.ledger import ledger_write_month
from eligibility.models import DiscoveryLead, MonitoringWarning
from referrals.models import Case
from tests import factories as f


def url(household_id: int) -> str:
    return reverse("staff-household", args=[household_id])


def _story(county_map: Any, personas: Any) -> Household:
    app = f.ApplicationFactory.create(village=county_map.village_a1, decided=True, needs=("dibao",))
    household = Household.objects.get(pk=app.household_id)
    head = household.members.order_by("id").first()
    assert head is not None
    since = dt.date(2026, 1, 1)
    enrolment_start(
        actor=personas.assistant_a,
        household_id=household.pk,
        item="dibao",
        since=since,
        source=Enrolment.Source.ASSISTANT_ENTRY,
        monthly_amount=Decimal("850.00"),
        reason="县民政局存量名单核对",
    )
    for month in (since, dt.date(2026, 2, 1), dt.date(2026, 3, 1)):
        ledger_write_month(month=month)
    MonitoringWarning.objects.create(
        household=household,
        township=household.township,
        change="vehicle",
        item="dibao",
        due_date=dt.date(2026, 4, 1),
        dedupe_key=f"test:{household.pk}",
    )
    DiscoveryLead.objects.create(
        person_hash=head.id_number_hash,
        person=head,
        township=household.township,
        reason="unemployment",
        dedupe_key=f"test-lead:{household.pk}",
    )
    return household


def test_the_assistant_sees_the_households_story_masked_in_few_queries(
    county_map: Any, personas: Any, login: Any, django_assert_max_num_queries: Any
) -> None:
    household = _story(county_map, personas)
    client = login(personas.assistant_a)
    # Six for the page (household with its members, applications with their cases and members
    # registered elsewhere, enrolments, ledger, warnings, leads), whatever its size; six for any
    # signed-in request (session, user, profile, and the idle-timeout middleware's session write in
    # a savepoint); one INSERT for the household access log's row (issue 12).
    with translation.override("en"), django_assert_max_num_queries(13):
        response = client.get(url(household.pk))
    assert response.status_code == 200
    html = response.content.decode()
    members = list(household.members.order_by("id"))
    for person in members:
        assert person.name in html
        assert person.id_number not in html  # masked, never the full number
        assert f"{person.birth_date:%Y-%m-%d}" not in html  # the age, not the birth date
        assert f"{person.id_number[:3]}***" in html
    application = Application.objects.get(household=household)
    assert application.receipt_code in html
    case = Case.objects.get(application=application)
    assert f'data-case="{case.pk}"' in html
    enrolment = Enrolment.objects.get(household=household)
    assert f'data-enrolment="{enrolment.pk}"' in html
    assert html.count("data-benefit=") == 3 and "2026-03" in html and "850.00" in html
    assert f'data-warning="{MonitoringWarning.objects.get().pk}"' in html
    assert f'data-lead="{DiscoveryLead.objects.get().pk}"' in html


def test_a_household_with_several_of_everything_costs_no_more_queries(
    county_map: Any, personas: Any, login: Any, django_assert_max_num_queries: Any
) -> None:
    household = _story(county_map, personas)
    head, spouse = household.members.order_by("id")
    elsewhere = [f.household(county_map.village_a2).members.get() for _ in range(2)]
    # Two more applications of the household (one decided, so a second case), each naming a person
    # the registry places in another household.
    for needs, person, decided in (("medical",), elsewhere[0], True), (("temporary",), elsewhere[1], False):
        f.ApplicationFactory.create(
            village=county_map.village_a1,
            needs=needs,
            decided=decided,
            people=[
                f.applicant(id_number=head.id_number, birth=head.birth_date),
                f.member(id_number=spouse.id_number, birth=spouse.birth_date),
                f.member(
                    relation=ApplicationMember.Relation.CHILD,
                    id_number=person.id_number,
                    birth=person.birth_date,
                ),
            ],
        )
    for item, amount in (("medical", "120.00"), ("utility_relief", "30.00")):
        enrolment_start(
            actor=personas.assistant_a,
            household_id=household.pk,
            item=item,
            since=dt.date(2026, 1, 1),
            source=Enrolment.Source.ASSISTANT_ENTRY,
            monthly_amount=Decimal(amount),
            reason="县民政局存量名单核对",
        )
    for month in (dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)):
        ledger_write_month(month=month)
    for change in ("house", "pension"):
        MonitoringWarning.objects.create(
            household=household,
            township=household.township,
            change=change,
            item="dibao",
            due_date=dt.date(2026, 4, 1),
            dedupe_key=f"test:{household.pk}:{change}",
        )
    DiscoveryLead.objects.create(
        person_hash=spouse.id_number_hash,
        person=spouse,
        township=household.township,
        reason="medical_spending",
        dedupe_key=f"test-lead:{household.pk}:spouse",
    )
    assert Application.objects.filter(household=household).count() == 3
    assert Case.objects.filter(application__household=household).count() == 2
    client = login(personas.assistant_a)
    with translation.override("en"), django_assert_max_num_queries(13):
        response = client.get(url(household.pk))
    html = response.content.decode()
    assert html.count("data-application=") == 3 and html.count("data-case=") == 2
    assert html.count("data-enrolment=") == 3 and html.count("data-benefit=") == 9
    assert html.count("data-warning=") == 3 and html.count("data-lead=") == 2
    for person in elsewhere:
        declared = ApplicationMember.objects.get(person=person, in_other_household=True)
        assert url(person.household_id) in html and declared.name in html


def test_the_village_cadre_sees_their_villages_household(county_map: Any, personas: Any, login: Any) -> None:
    household = _story(county_map, personas)
    response = login(personas.cadre_a1).get(url(household.pk))
    assert response.status_code == 200
    html = response.content.decode()
    # The village sees the application but not the case (its referrals are the township's work).
    assert "data-application=" in html and "data-case=" not in html


def test_another_township_and_departments_get_404_as_for_a_missing_household(
    county_map: Any, personas: Any, login: Any
) -> None:
    household = f.household(county_map.village_a1, members=2)
    assert login(personas.assistant_a).get(url(household.pk)).status_code == 200
    for persona in (personas.assistant_b, personas.dept_civil, personas.org_member_1):
        assert login(persona).get(url(household.pk)).status_code == 404
    assert login(personas.assistant_a).get(url(household.pk + 1000)).status_code == 404
    assert login(personas.anonymous).get(url(household.pk)).status_code == 302  # to the login page


def test_a_member_registered_elsewhere_is_listed_for_the_assistant(
    county_map: Any, personas: Any, login: Any
) -> None:
    home = f.household(county_map.village_a1)
    other = f.household(county_map.village_a2)
    head, elsewhere = home.members.get(), other.members.get()
    f.ApplicationFactory.create(
        village=county_map.village_a1,
        people=[
            f.applicant(id_number=head.id_number, birth=head.birth_date),
            f.member(id_number=elsewhere.id_number, birth=elsewhere.birth_date),
        ],
    )
    html = login(personas.assistant_a).get(url(home.pk)).content.decode()
    assert 'id="hh-elsewhere"' in html and url(other.pk) in html


def test_the_household_admin_page_links_the_household_page(
    county_map: Any, personas: Any, login: Any
) -> None:
    household = f.household(county_map.village_a1)
    change = reverse("admin:applications_household_change", args=[household.pk])
    html = login(personas.assistant_a).get(change).content.decode()
    assert url(household.pk) in html
