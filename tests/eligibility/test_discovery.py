"""Discovery: hardship signals of people outside the rolls become leads; convert or dismiss them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from applications.models import Application, ApplicationMember, Channel
from assist_center.errors import ApplicationError, ConflictError
from assist_center.identity import make_id_number
from assist_center.models import AuditEvent
from eligibility.models import DiscoveryLead
from eligibility.services.discovery import discovery_scan, lead_convert, lead_dismiss

from .test_monitoring import days_ago, home, import_rows, members

Status = DiscoveryLead.Status


@pytest.fixture
def standards(county_map: Any) -> None:
    from .db import publish_demo_standards

    publish_demo_standards(county_map.county)


def medical(person: Any, record_id: str, out_of_pocket: str, days: int = 30) -> dict[str, Any]:
    return {
        "person": person,
        "record_id": record_id,
        "effective_date": days_ago(days),
        "total_cost": "60000",
        "reimbursed": "20000",
        "out_of_pocket": out_of_pocket,
    }


def wages(person: Any, monthly: str) -> list[dict[str, Any]]:
    return [
        {
            "person": person,
            "record_id": f"W{person.pk}-{n}",
            "effective_date": days_ago(20 + 30 * n),
            "amount": monthly,
        }
        for n in range(12)
    ]


@pytest.mark.django_db
def test_large_medical_spending_against_income_is_a_lead(county_map: Any, standards: None) -> None:
    poor = members(home(county_map.village_a1, enrolled=False))[0]
    rich = members(home(county_map.village_a2, enrolled=False))[0]
    import_rows("wage", wages(rich, "9000"))
    job = import_rows("medical_expense", [medical(poor, "M1", "20000"), medical(rich, "M2", "20000")])
    assert discovery_scan(job_id=job.pk) == 1
    lead = DiscoveryLead.objects.get()
    assert lead.person == poor and lead.township == county_map.town_a
    assert lead.reason == "medical_burden" and lead.status == Status.OPEN
    assert lead.evidence["out_of_pocket_12m"] == "20000.00"
    assert lead.evidence["source_record_id"] == "M1"
    assert poor.id_number not in str(lead.evidence)


@pytest.mark.django_db
def test_a_new_disability_certificate_and_an_unemployment_registration_are_leads(
    county_map: Any, standards: None
) -> None:
    a = members(home(county_map.village_a1, enrolled=False))[0]
    b = members(home(county_map.village_b1, enrolled=False))[0]
    old = members(home(county_map.village_a2, enrolled=False))[0]
    disability = import_rows(
        "disability",
        [
            {
                "person": a,
                "record_id": "D1",
                "effective_date": days_ago(10),
                "grade": 2,
                "kind": "肢体",
                "status": "有效",
            },
            {
                "person": old,
                "record_id": "D2",
                "effective_date": days_ago(800),
                "grade": 2,
                "kind": "肢体",
                "status": "有效",
            },
        ],
    )
    unemployment = import_rows(
        "unemployment", [{"person": b, "record_id": "U1", "effective_date": days_ago(15), "status": "登记中"}]
    )
    assert discovery_scan(job_id=disability.pk) == 1
    assert discovery_scan(job_id=unemployment.pk) == 1
    leads = {lead.reason: lead for lead in DiscoveryLead.objects.all()}
    assert set(leads) == {"new_disability", "unemployment_registered"}
    assert (
        leads["new_disability"].person == a and leads["unemployment_registered"].township == county_map.town_b
    )


@pytest.mark.django_db
def test_the_death_of_the_only_earner_is_a_lead_for_the_survivor(county_map: Any, standards: None) -> None:
    left_alone = home(county_map.village_a1, enrolled=False, members=2)
    head, spouse = members(left_alone)
    supported = home(county_map.village_a2, enrolled=False, members=2)
    head2, spouse2 = members(supported)
    import_rows("wage", wages(spouse2, "4000"))
    job = import_rows(
        "death",
        [
            {"person": head, "record_id": "X1", "effective_date": days_ago(20), "death_date": days_ago(20)},
            {"person": head2, "record_id": "X2", "effective_date": days_ago(20), "death_date": days_ago(20)},
        ],
    )
    assert discovery_scan(job_id=job.pk) == 1
    lead = DiscoveryLead.objects.get()
    assert lead.reason == "main_earner_died" and lead.person == spouse
    assert lead.evidence["remaining_members"] == 1


@pytest.mark.django_db
def test_no_leads_for_enrolled_people_or_people_the_registry_does_not_know(
    county_map: Any, standards: None
) -> None:
    enrolled = members(home(county_map.village_a1, enrolled=True))[0]

    class Stranger:
        id_number = make_id_number(region6="331022", birth=dt.date(1970, 1, 1), seq=77)

    job = import_rows(
        "unemployment",
        [
            {"person": enrolled, "record_id": "U1", "effective_date": days_ago(5), "status": "登记中"},
            {"person": Stranger, "record_id": "U2", "effective_date": days_ago(5), "status": "登记中"},
        ],
    )
    assert discovery_scan(job_id=job.pk) == 0
    assert discovery_scan() == 0
    assert not DiscoveryLead.objects.exists()


@pytest.mark.django_db
def test_a_scan_run_again_or_in_full_makes_no_second_lead(county_map: Any, standards: None) -> None:
    person = members(home(county_map.village_a1, enrolled=False))[0]
    job = import_rows(
        "unemployment",
        [{"person": person, "record_id": "U1", "effective_date": days_ago(5), "status": "登记中"}],
    )
    assert discovery_scan(job_id=job.pk) == 1
    assert discovery_scan(job_id=job.pk) == 0
    assert discovery_scan() == 0
    assert DiscoveryLead.objects.count() == 1
    assert AuditEvent.objects.filter(action="discovery.scan").count() == 1


@pytest.fixture
def lead(county_map: Any, standards: None) -> DiscoveryLead:
    household = home(county_map.village_a1, enrolled=False, members=2)
    job = import_rows("medical_expense", [medical(members(household)[0], "M1", "30000")])
    discovery_scan(job_id=job.pk)
    return DiscoveryLead.objects.get()


@pytest.mark.django_db
def test_an_assistant_turns_a_lead_into_an_on_behalf_application(lead: DiscoveryLead, personas: Any) -> None:
    application = lead_convert(actor=personas.assistant_a, lead_id=lead.pk)
    assert lead.person is not None
    assert application.channel == Channel.ON_BEHALF and application.submitted_by == personas.assistant_a
    assert application.status == Application.Status.AWAITING_AUTHORISATION
    assert application.village == lead.person.household.village
    assert "medical" in application.needs
    people = list(ApplicationMember.objects.filter(application=application).order_by("position"))
    assert [(m.role, m.relation) for m in people] == [("applicant", "self"), ("member", "spouse")]
    assert people[0].id_number_hash == lead.person.id_number_hash
    lead.refresh_from_db()
    assert lead.status == Status.CONVERTED and lead.application == application
    event = AuditEvent.objects.get(action="discovery.lead.convert")
    assert event.new_values["application"] == application.receipt_code
    assert lead.person.id_number not in str(event.new_values)
    with pytest.raises(ConflictError):
        lead_convert(actor=personas.assistant_a, lead_id=lead.pk)


@pytest.mark.django_db
def test_a_coordinator_may_not_submit_on_behalf(lead: DiscoveryLead, personas: Any) -> None:
    with pytest.raises(ApplicationError) as refused:
        lead_convert(actor=personas.coordinator, lead_id=lead.pk)
    assert refused.value.status == 403 and "民政助理员" in str(refused.value.message)
    assert not Application.objects.exists()


@pytest.mark.django_db
def test_dismissing_needs_a_reason_and_is_scoped(lead: DiscoveryLead, personas: Any) -> None:
    for persona in (personas.assistant_b, personas.dept_civil):
        with pytest.raises(Http404):
            lead_dismiss(actor=persona, lead_id=lead.pk, reason="x")
        with pytest.raises(Http404):
            lead_convert(actor=persona, lead_id=lead.pk)
    with pytest.raises(PermissionDenied):
        lead_dismiss(actor=personas.cadre_a1, lead_id=lead.pk, reason="x")
    with pytest.raises(ApplicationError) as missing:
        lead_dismiss(actor=personas.assistant_a, lead_id=lead.pk, reason="  ")
    assert "reason" in missing.value.extra["fields"]
    done = lead_dismiss(actor=personas.assistant_a, lead_id=lead.pk, reason="已由村里走访，家庭有商业保险")
    assert done.status == Status.DISMISSED and done.handled_by == personas.assistant_a
    assert AuditEvent.objects.filter(action="discovery.lead.dismiss").count() == 1
    with pytest.raises(ConflictError):
        lead_dismiss(actor=personas.assistant_a, lead_id=lead.pk, reason="again")


@pytest.mark.django_db
def test_a_person_known_only_from_the_hukou_registry_who_never_applied_is_found(
    county_map: Any, standards: None
) -> None:
    from applications.models import Person
    from tests.benefits.helpers import HUKOU, csv_bytes, new_id, run

    number = new_id(dt.date(1975, 6, 1))
    village = county_map.village_b1.code
    run(
        "hukou",
        csv_bytes(HUKOU, [(number, "R1", "2020-01-01", "H900", "户主", "正常", "李大山", village, "")]),
    )
    person = Person.objects.get(household__household_number="H900")
    assert person.source == Person.Source.REGISTRY
    assert not ApplicationMember.objects.exists() and not Application.objects.exists()

    job = import_rows(
        "unemployment",
        [{"person": person, "record_id": "U9", "effective_date": days_ago(5), "status": "登记中"}],
    )
    assert discovery_scan(job_id=job.pk) == 1
    lead = DiscoveryLead.objects.get()
    assert (lead.person, lead.township, lead.reason) == (person, county_map.town_b, "unemployment_registered")


@pytest.mark.django_db
def test_no_lead_for_a_person_whose_application_is_still_open(county_map: Any, standards: None) -> None:
    from tests import factories as f

    app = f.ApplicationFactory.create(village=county_map.village_a1)
    applicant = app.members.get(role=ApplicationMember.Role.APPLICANT).person
    assert applicant is not None
    job = import_rows(
        "unemployment",
        [{"person": applicant, "record_id": "U7", "effective_date": days_ago(5), "status": "登记中"}],
    )
    assert discovery_scan(job_id=job.pk) == 0
    Application.objects.filter(pk=app.pk).update(status=Application.Status.WITHDRAWN)
    assert discovery_scan(job_id=job.pk) == 1  # withdrawn: the household is no longer being handled
