"""A warning resolved as "exit started" puts the household's enrolment of the item in gradual exit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from applications.models import Household
from assist_center.models import AuditEvent
from benefits.models import Enrolment, EnrolmentEvent
from benefits.services.enrolments import enrolment_start
from eligibility.models import MonitoringWarning
from eligibility.services.monitoring import monitoring_after_import, warning_resolve

from .db import publish_demo_standards
from .test_monitoring import car, home, import_rows, members

S = Enrolment.State


def enrol(household: Household, item: str, ref: str) -> Enrolment:
    return enrolment_start(
        actor=None,
        household_id=household.pk,
        item=item,
        since=dt.date(2026, 1, 1),
        source=Enrolment.Source.GRANTED_OUTCOME,
        source_ref=ref,
        monthly_amount=Decimal("850.00"),
    )


@pytest.fixture
def warned(county_map: Any) -> tuple[Household, MonitoringWarning, Enrolment, Enrolment]:
    publish_demo_standards(county_map.county)
    household = home(county_map.village_a1, enrolled=True)
    dibao = enrol(household, "dibao", "1")
    other = enrol(household, "medical", "2")
    monitoring_after_import(job_id=import_rows("vehicle", [car(members(household)[0])]).pk)
    warning = MonitoringWarning.objects.get()
    assert warning.item == "dibao"
    return household, warning, dibao, other


@pytest.mark.django_db
def test_monitoring_alone_never_moves_the_rolls(
    warned: tuple[Household, MonitoringWarning, Enrolment, Enrolment],
) -> None:
    _household, _warning, dibao, other = warned
    assert set(Enrolment.objects.values_list("state", flat=True)) == {S.ACTIVE}
    assert not EnrolmentEvent.objects.filter(kind="exit_begun").exists()
    dibao.refresh_from_db()
    other.refresh_from_db()
    assert dibao.grace_end is None and other.grace_end is None


@pytest.mark.django_db
def test_exit_started_begins_the_gradual_exit_of_the_warned_item_only(
    warned: tuple[Household, MonitoringWarning, Enrolment, Enrolment], personas: Any
) -> None:
    _household, warning, dibao, other = warned
    done = warning_resolve(
        actor=personas.assistant_a,
        warning_id=warning.pk,
        resolution="exit_started",
        note="家中新购轿车，入户核实后启动渐退",
        grace_months=4,
    )
    dibao.refresh_from_db()
    other.refresh_from_db()
    assert (dibao.state, dibao.grace_end) == (S.GRADUAL_EXIT, done.grace_until)
    assert other.state == S.ACTIVE and other.grace_end is None
    event = EnrolmentEvent.objects.get(enrolment=dibao, kind="exit_begun")
    assert event.data == {"warning": warning.pk} and event.actor == personas.assistant_a
    assert event.reason == "家中新购轿车，入户核实后启动渐退"
    assert AuditEvent.objects.filter(
        action="enrolment.exit_begun", subject_id=str(dibao.pk), actor=personas.assistant_a
    ).exists()
    resolved = AuditEvent.objects.get(action="monitoring.warning.resolve")
    assert resolved.new_values["enrolments_in_exit"] == [dibao.pk]


@pytest.mark.django_db
def test_other_resolutions_leave_the_rolls_alone(
    warned: tuple[Household, MonitoringWarning, Enrolment, Enrolment], personas: Any
) -> None:
    _household, warning, dibao, _other = warned
    warning_resolve(actor=personas.assistant_a, warning_id=warning.pk, resolution="adjusted", note="核减")
    dibao.refresh_from_db()
    assert dibao.state == S.ACTIVE
    assert not EnrolmentEvent.objects.filter(kind="exit_begun").exists()


@pytest.mark.django_db
def test_a_refused_resolution_moves_neither_the_warning_nor_the_rolls(
    warned: tuple[Household, MonitoringWarning, Enrolment, Enrolment], personas: Any
) -> None:
    _household, warning, dibao, _other = warned
    with pytest.raises(PermissionDenied):
        warning_resolve(
            actor=personas.cadre_a1, warning_id=warning.pk, resolution="exit_started", note="启动渐退"
        )
    warning.refresh_from_db()
    dibao.refresh_from_db()
    assert warning.status == MonitoringWarning.Status.OPEN and dibao.state == S.ACTIVE
