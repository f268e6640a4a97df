"""One household end to end on the real services, every step audited and scoped.

Phone submission with an SMS code → on-screen signatures through the family page → the worker's
verification → decision (the services the factory's traits use) →
referral granted → enrolled → the month's ledger entries → a vehicle record imported → monitoring
warns and proposes an exit → the assistant starts the exit → the township is reminded → the grace
end passes → the enrolment ends. Another township's assistant sees none of it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils.module_loading import import_string

from applications.models import Application, Person
from assist_center.models import AuditEvent, OutboxMessage
from benefits.models import BenefitEntry, Enrolment, EnrolmentEvent, RollTask
from benefits.selectors import (
    benefit_list_visible_to,
    benefits_of_household,
    enrolment_get,
    enrolments_of_household,
    roll_task_get,
    roll_task_list_visible_to,
)
from benefits.services.enrolments import enrolment_begin_exit, enrolment_end
from benefits.services.ledger import ledger_write_month
from benefits.services.sweeps import grace_end_sweep, grace_reminder_sweep
from eligibility.models import MonitoringWarning
from eligibility.services.monitoring import monitoring_after_import, warning_resolve
from referrals.models import Case
from referrals.services.actions import OutcomeInput, referral_accept, referral_complete
from tests.applications.test_family import sign_through_the_page
from tests.applications.test_intake_input import valid_body
from tests.applications.test_submit_api import submit
from tests.eligibility.db import publish_demo_standards
from tests.eligibility.test_monitoring import car, import_rows
from tests.factories import MemberSpec, decide
from tests.referrals.test_colours import at

S = Enrolment.State


def run_worker(task_name: str) -> None:
    """What the worker does with the outbox's rows of one task (the test's transaction never commits,
    so no real worker could see them): the real task, run in this process."""
    rows = OutboxMessage.objects.filter(task_name=task_name, status=OutboxMessage.Status.PENDING)
    assert rows.exists(), f"nothing enqueued for {task_name}"
    for row in rows:
        task = import_string(task_name)  # the module registers it with the project's Celery app
        task.apply(kwargs=row.kwargs).get()


def audited(action: str, **filters: Any) -> AuditEvent:
    events = list(AuditEvent.objects.filter(action=action, **filters))
    assert len(events) == 1, f"{action}: {len(events)} audit events"
    return events[0]


@pytest.mark.django_db
def test_one_household_from_its_application_to_the_end_of_its_gradual_exit(
    county_map: Any, personas: Any, login: Any
) -> None:
    assistant, other_township = personas.assistant_a, personas.assistant_b

    # 1. A resident applies on the phone with an SMS code, the family signs on its own phones, the
    #    worker's verification runs and the assistant decides (Mon 1 June 2026).
    with time_machine.travel(at(dt.date(2026, 6, 1), 9), tick=False):
        publish_demo_standards(county_map.county)
        body = valid_body(county_map, needs=["dibao"])
        response = submit(Client(), body)
        assert response.status_code == 201, response.content
        app = Application.objects.get(receipt_code=response.json()["receipt_code"])
        assert app.channel == "self"
        signers = [body["applicant"], *body["members"], *body["supporters"]]
        for n, person in enumerate(signers):
            phone = person.get("phone") or f"1370013700{n}"
            signer = MemberSpec(name=person["name"], id_number=person["id_number"], phone=phone)
            sign_through_the_page(app, signer, {signer.name: person["id_number"]}, phone=phone)
        run_worker("eligibility.tasks.application_verify")
        app.refresh_from_db()
        assert app.status == Application.Status.UNDER_REVIEW, app.status  # the worker verified it
        decide(app, approve=["dibao"], actor=assistant, reason="")
        app.refresh_from_db()
    assert app.status == Application.Status.DECIDED and app.household_id is not None
    household = app.household
    assert household is not None and household.township == county_map.town_a
    for action in ("application.submitted", "verification.run", "item.decide"):
        assert AuditEvent.objects.filter(action=action, subject_id=str(app.pk)).exists(), action
    assert AuditEvent.objects.filter(action="authorisation.signed").exists()
    assert AuditEvent.objects.filter(
        action="application.status", subject_id=str(app.pk), new_values__status="decided"
    ).exists()
    case = Case.objects.get(application=app)
    audited("case.open", subject_id=str(case.pk))
    referral = case.referrals.get()
    assert referral.department == county_map.dept_civil

    # 2. The department grants 850 yuan a month from June: the household is on the rolls.
    with time_machine.travel(at(dt.date(2026, 6, 3), 10), tick=False):
        referral_accept(actor=personas.dept_civil, referral_id=referral.pk)
        referral_complete(
            actor=personas.dept_civil,
            referral_id=referral.pk,
            outcomes=[
                OutcomeInput(
                    item="dibao",
                    granted=True,
                    benefit_kind="低保金",
                    amount="850.00",
                    period="monthly",
                    start_date=dt.date(2026, 6, 1),
                )
            ],
        )
    audited("referral.complete", subject_id=str(referral.pk), actor=personas.dept_civil)
    audited("case.close", subject_id=str(case.pk))
    enrolment = Enrolment.objects.get(household=household)
    assert (enrolment.item, enrolment.state, enrolment.monthly_amount, enrolment.since) == (
        "dibao",
        S.ACTIVE,
        Decimal("850.00"),
        dt.date(2026, 6, 1),
    )
    assert enrolment.source == Enrolment.Source.GRANTED_OUTCOME
    assert enrolment.department == county_map.dept_civil
    audited("enrolment.start", subject_id=str(enrolment.pk))
    household.refresh_from_db()
    assert household.is_enrolled

    # 3. The months' ledger entries, once each however often the task runs.
    with time_machine.travel(at(dt.date(2026, 6, 3), 23), tick=False):
        assert ledger_write_month() == 1
        assert ledger_write_month() == 0
    with time_machine.travel(at(dt.date(2026, 7, 1), 1), tick=False):
        assert ledger_write_month() == 1
    entries = list(BenefitEntry.objects.filter(household=household).order_by("period"))
    assert [(e.period, e.amount, e.enrolment_id, e.provider_code) for e in entries] == [
        (dt.date(2026, 6, 1), Decimal("850.00"), enrolment.pk, "civil_affairs"),
        (dt.date(2026, 7, 1), Decimal("850.00"), enrolment.pk, "civil_affairs"),
    ]
    audited("ledger.month", subject_id="2026-06")
    audited("ledger.month", subject_id="2026-07")

    # 4. The traffic police's file shows a car of the applicant: monitoring warns, ends nothing.
    applicant = Person.objects.filter(household=household).order_by("pk").first()
    assert applicant is not None
    with time_machine.travel(at(dt.date(2026, 7, 6), 9), tick=False):
        job = import_rows("vehicle", [car(applicant, "V-2026-1")])
        summary = monitoring_after_import(job_id=job.pk)
    assert summary.warnings_created == 1
    audited("monitoring.run", subject_id=str(job.pk))
    warning = MonitoringWarning.objects.get(household=household)
    assert (warning.change, warning.item, warning.status) == ("vehicle_registered", "dibao", "open")
    assert warning.evidence["source_record_id"] == "V-2026-1"
    enrolment.refresh_from_db()
    assert enrolment.state == S.ACTIVE

    # 5. The assistant visits and starts a three-month gradual exit.
    with time_machine.travel(at(dt.date(2026, 7, 8), 9), tick=False):
        warning_resolve(
            actor=assistant,
            warning_id=warning.pk,
            resolution="exit_started",
            note="入户核实：家庭新购轿车，启动渐退",
            grace_months=3,
        )
    audited("monitoring.warning.resolve", subject_id=str(warning.pk), actor=assistant)
    enrolment.refresh_from_db()
    assert (enrolment.state, enrolment.grace_end) == (S.GRADUAL_EXIT, dt.date(2026, 10, 8))
    audited("enrolment.exit_begun", subject_id=str(enrolment.pk), actor=assistant)

    # 6. The township is reminded before the grace end (the National Day holidays are skipped).
    with time_machine.travel(at(dt.date(2026, 9, 28), 7), tick=False):
        assert grace_reminder_sweep() == 1
        assert grace_reminder_sweep() == 0
    task = RollTask.objects.get(enrolment=enrolment)
    assert (task.kind, task.township, task.due_date) == (
        RollTask.Kind.GRACE_ENDING,
        county_map.town_a,
        dt.date(2026, 10, 8),
    )
    audited("enrolment.grace_reminder", subject_id=str(county_map.town_a.pk))

    # 7. The grace end passes: the sweep carries out the exit decided in July.
    with time_machine.travel(at(dt.date(2026, 10, 8), 23), tick=False):
        assert grace_end_sweep() == 0
    with time_machine.travel(at(dt.date(2026, 10, 9), 1), tick=False):
        assert grace_end_sweep() == 1
        assert grace_end_sweep() == 0
    enrolment.refresh_from_db()
    assert (enrolment.state, enrolment.ended_on, enrolment.end_reason) == (
        S.ENDED,
        dt.date(2026, 10, 8),
        Enrolment.EndReason.GRACE_ENDED,
    )
    audited("enrolment.ended", subject_id=str(enrolment.pk))
    household.refresh_from_db()
    assert not household.is_enrolled
    assert list(EnrolmentEvent.objects.filter(enrolment=enrolment).values_list("kind", flat=True)) == [
        "started",
        "exit_begun",
        "ended",
    ]

    # 8. Scope: the household's township sees its story; another township's assistant sees nothing.
    assert enrolment_get(user=assistant, enrolment_id=enrolment.pk) == enrolment
    assert list(enrolments_of_household(user=assistant, household_id=household.pk)) == [enrolment]
    assert benefits_of_household(user=assistant, household_id=household.pk).count() >= 2
    assert roll_task_get(user=assistant, task_id=task.pk) == task
    with pytest.raises(Http404):
        enrolment_get(user=other_township, enrolment_id=enrolment.pk)
    with pytest.raises(Http404):
        roll_task_get(user=other_township, task_id=task.pk)
    assert not enrolments_of_household(user=other_township, household_id=household.pk).exists()
    assert not benefits_of_household(user=other_township, household_id=household.pk).exists()
    assert not benefit_list_visible_to(user=other_township).filter(household=household).exists()
    assert not roll_task_list_visible_to(user=other_township).filter(household=household).exists()
    # Writes answer 404 too (scope is checked before the state), exactly like a missing enrolment.
    for write in (
        lambda: enrolment_begin_exit(
            actor=other_township,
            enrolment_id=enrolment.pk,
            grace_end=dt.date.today() + dt.timedelta(days=30),
            reason="越权",
        ),
        lambda: enrolment_end(
            actor=other_township,
            enrolment_id=enrolment.pk,
            ended_on=dt.date.today(),
            why="correction",
            reason="越权",
        ),
    ):
        with pytest.raises(Http404):
            write()
    # The same over HTTP: the household page and the admin's rows are 404 for the other township.
    entry = entries[0]
    pages = (
        reverse("staff-household", args=[household.pk]),
        reverse("admin:benefits_enrolment_change", args=[enrolment.pk]),
        reverse("admin:benefits_benefitentry_change", args=[entry.pk]),
        reverse("admin:benefits_rolltask_change", args=[task.pk]),
    )
    mine, theirs = login(assistant), login(other_township)
    for page in pages:
        assert mine.get(page).status_code == 200, page
        assert theirs.get(page).status_code == 404, page
    missing = Enrolment.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with pytest.raises(Http404):
        enrolment_get(user=assistant, enrolment_id=missing + 1000)
