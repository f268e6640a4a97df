"""The household access log: one row per read, labelled by department, organisation or role."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, transaction
from django.utils import timezone

from applications.models import AccessPurpose, HouseholdAccess
from applications.selectors_access import household_access_log
from applications.services.access import (
    household_access_log_read,
    household_access_record,
    staff_code_resolve,
)
from applications.staff_codes import normalise_staff_code, staff_code
from assist_center.models import AuditEvent
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_a_department_read_and_an_organisation_delivery_read_are_labelled_without_names(
    personas: Any, county_map: Any
) -> None:
    hh = f.household(county_map.village_a1)
    year = timezone.localdate().year
    household_access_record(
        actor=personas.dept_civil, household_id=hh.pk, purpose=AccessPurpose.REFERRAL_BRIEF
    )
    # What charity calls when an organisation opens a claim's delivery details.
    household_access_record(
        actor=personas.org_member_1,
        household_id=hh.pk,
        purpose=AccessPurpose.CLAIM_DELIVERY,
        organisation_id=1,
        organisation_name="三门县爱心公益协会",
    )
    entries = household_access_log(hh.pk, year)
    assert [(e.who, e.purpose) for e in entries] == [
        ("三门县爱心公益协会", "claim_delivery"),
        (county_map.dept_civil.name, "referral_brief"),
    ]
    assert entries[1].staff_code == staff_code(personas.dept_civil.pk)
    text = repr(entries)
    for user in (personas.dept_civil, personas.org_member_1):
        assert user.username not in text
        assert user.get_full_name() == "" or user.get_full_name() not in text


def test_the_log_is_append_only_in_the_database(personas: Any, county_map: Any) -> None:
    hh = f.household(county_map.village_a1)
    household_access_record(
        actor=personas.assistant_a, household_id=hh.pk, purpose=AccessPurpose.HOUSEHOLD_PAGE
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        HouseholdAccess.objects.filter(household_id=hh.pk).update(reason="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        HouseholdAccess.objects.filter(household_id=hh.pk).delete()
    assert HouseholdAccess.objects.filter(household_id=hh.pk).count() == 1


def test_reading_the_log_is_logged(personas: Any, county_map: Any) -> None:
    hh = f.household(county_map.village_a1)
    year = timezone.localdate().year
    household_access_log_read(actor=personas.assistant_a, household_id=hh.pk, year=year)
    assert HouseholdAccess.objects.get(household_id=hh.pk).purpose == "access_log_read"
    household_access_log_read(actor="resident", household_id=hh.pk, year=year)
    event = AuditEvent.objects.get(action="access_log_read")
    assert (event.actor_label, event.subject_id) == ("resident", str(hh.pk))


def test_the_staff_code_resolves_for_the_coordinator_only(personas: Any) -> None:
    code = staff_code(personas.dept_civil.pk)
    assert personas.dept_civil.username not in code
    assert (
        staff_code_resolve(actor=personas.coordinator, code=code.lower().replace("-", " "))
        == personas.dept_civil
    )
    assert AuditEvent.objects.filter(action="staff_code_resolve").count() == 1
    for other in (personas.assistant_a, personas.auditor, personas.dept_civil, personas.anonymous):
        with pytest.raises(PermissionDenied):
            staff_code_resolve(actor=other, code=code)
    assert staff_code_resolve(actor=personas.coordinator, code="ZZZZ-ZZZZ") is None
    assert normalise_staff_code("abc") == ""
