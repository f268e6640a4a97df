"""Monitoring after a pool import: one warning per change that matters, scoped resolution, 渐退."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, connections
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from applications.models import Household, Person
from assist_center.errors import ApplicationError, ConflictError
from assist_center.models import AuditEvent, Region
from assist_center.workdays import add_working_days
from eligibility.models import ImportJob, MonitoringWarning
from eligibility.monitoring_rules import WARNING_DUE_WORKING_DAYS
from eligibility.services.imports import pool_import_run, pool_import_start
from eligibility.services.monitoring import add_months, monitoring_after_import, warning_resolve
from tests import factories as f

from .db import publish_demo_standards

Status = MonitoringWarning.Status


# --- helpers (imported by the other monitoring/discovery tests) -----------------------------------


def days_ago(n: int) -> str:
    return (timezone.localdate() - dt.timedelta(days=n)).isoformat()


def home(
    village: Region, *, enrolled: bool, members: int = 1, birth: dt.date = dt.date(1980, 5, 1)
) -> Household:
    household = Household.objects.create(
        village=village, township_id=int(village.township_id or 0), address="幸福路8号", is_enrolled=enrolled
    )
    for n in range(members):
        f.person(
            household,
            name="王大明" if n == 0 else "王小红",
            birth=birth if n == 0 else dt.date(1982, 3, 3),
            relation=Person.Relation.HEAD if n == 0 else Person.Relation.SPOUSE,
        )
    return household


def members(household: Household) -> list[Person]:
    return list(Person.objects.filter(household=household).order_by("pk"))


def import_rows(category: str, rows: list[dict[str, Any]]) -> ImportJob:
    """Import a CSV of `rows` (each: person, record_id, effective_date and the category's fields)."""
    fields = [k for k in rows[0] if k not in ("person", "record_id", "effective_date")]
    lines = [",".join(["id_number", "record_id", "effective_date", *fields])]
    for row in rows:
        values = [row["person"].id_number, row["record_id"], row["effective_date"]]
        lines.append(",".join([*values, *(str(row[k]) for k in fields)]))
    data = ("\n".join(lines) + "\n").encode()
    job = pool_import_start(actor="test", category=category, file_name=f"{category}.csv", data=data)
    job = pool_import_run(job_id=job.pk)
    assert job.status == ImportJob.Status.DONE, job.failure
    assert job.rows_rejected == 0, job.error_report
    return job


def car(person: Person, record_id: str = "V1", kind: str = "小型轿车") -> dict[str, Any]:
    return {
        "person": person,
        "record_id": record_id,
        "effective_date": days_ago(3),
        "plate_kind": "小型汽车",
        "vehicle_type": kind,
        "status": "正常",
    }


@pytest.fixture
def standards(county_map: Any) -> None:
    publish_demo_standards(county_map.county)


# --- what matters ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_car_raises_a_warning_and_a_motorcycle_does_not(county_map: Any, standards: None) -> None:
    household = home(county_map.village_a1, enrolled=True)
    head = members(household)[0]
    job = import_rows("vehicle", [car(head, "V1", "二轮摩托车"), car(head, "V2", "小型轿车")])
    summary = monitoring_after_import(job_id=job.pk)
    assert summary.changed_records == 2 and summary.enrolled_records == 2
    warning = MonitoringWarning.objects.get()
    assert warning.household == household and warning.township == county_map.town_a
    assert warning.change == "vehicle_registered" and warning.item == "dibao"
    assert warning.status == Status.OPEN
    assert warning.due_date == add_working_days(timezone.localdate(), WARNING_DUE_WORKING_DAYS)
    ev = warning.evidence
    assert ev["category"] == "vehicle" and ev["department"] == "traffic_police"
    assert ev["source_record_id"] == "V2" and ev["effective_date"] == days_ago(3)
    assert ev["values"]["vehicle_type"] == "小型轿车"
    assert ev["recheck"]["dibao"]["outcome"] == "not_eligible"
    text = str(ev)
    assert head.id_number not in text and head.id_number_hash not in text
    assert AuditEvent.objects.filter(action="monitoring.run", subject_id=str(job.pk)).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("category", "fields", "change"),
    [
        ("real_estate", {"property_kind": "住宅", "area": "90", "status": "正常"}, "real_estate_registered"),
        ("pension", {"monthly_amount": "2600", "scheme": "企业职工", "status": "领取中"}, "pension_started"),
        ("wage", {"amount": "3000"}, "income_above_standard"),
        ("income_tax", {"income": "60000", "tax_paid": "300"}, "tax_above_standard"),
        ("death", {"death_date": "2026-11-01"}, "member_died"),
        ("business_licence", {"business_kind": "个体工商户", "status": "存续"}, "business_registered"),
    ],
)
def test_each_change_that_matters_becomes_a_warning(
    county_map: Any, standards: None, category: str, fields: dict[str, str], change: str
) -> None:
    household = home(county_map.village_a1, enrolled=True)
    head = members(household)[0]
    job = import_rows(
        category, [{"person": head, "record_id": "R1", "effective_date": days_ago(5), **fields}]
    )
    monitoring_after_import(job_id=job.pk)
    warning = MonitoringWarning.objects.get()
    assert warning.change == change and warning.household == household


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("category", "fields"),
    [
        ("wage", {"amount": "500"}),  # below the 1,150 yuan standard
        ("pension", {"monthly_amount": "2600", "scheme": "企业职工", "status": "终止"}),
        ("real_estate", {"property_kind": "住宅", "area": "90", "status": "注销"}),
        ("deposit", {"balance": "900000"}),  # not a monitored category
    ],
)
def test_changes_that_do_not_matter_raise_nothing(
    county_map: Any, standards: None, category: str, fields: dict[str, str]
) -> None:
    head = members(home(county_map.village_a1, enrolled=True))[0]
    job = import_rows(
        category, [{"person": head, "record_id": "R1", "effective_date": days_ago(5), **fields}]
    )
    monitoring_after_import(job_id=job.pk)
    assert not MonitoringWarning.objects.exists()


@pytest.mark.django_db
def test_income_is_shared_over_the_household_before_it_is_compared(county_map: Any, standards: None) -> None:
    head = members(home(county_map.village_a1, enrolled=True, members=2))[0]
    job = import_rows(
        "wage", [{"person": head, "record_id": "W1", "effective_date": days_ago(5), "amount": "2000"}]
    )
    monitoring_after_import(job_id=job.pk)
    assert not MonitoringWarning.objects.exists()  # 1,000 yuan per person: below the standard


@pytest.mark.django_db
def test_households_not_enrolled_get_no_warning(county_map: Any, standards: None) -> None:
    head = members(home(county_map.village_a1, enrolled=False))[0]
    job = import_rows("vehicle", [car(head)])
    assert monitoring_after_import(job_id=job.pk).enrolled_records == 0
    assert not MonitoringWarning.objects.exists()


@pytest.mark.django_db
def test_the_same_file_imported_twice_raises_one_warning(county_map: Any, standards: None) -> None:
    head = members(home(county_map.village_a1, enrolled=True))[0]
    first = import_rows("vehicle", [car(head)])
    monitoring_after_import(job_id=first.pk)
    second = import_rows("vehicle", [car(head)])
    monitoring_after_import(job_id=second.pk)
    again = monitoring_after_import(job_id=first.pk)  # the task delivered twice
    assert again.warnings_created == 0 and again.warnings_existing == 1
    assert MonitoringWarning.objects.count() == 1


@pytest.mark.django_db
def test_the_task_runs_monitoring_and_discovery(county_map: Any, standards: None) -> None:
    from eligibility.tasks import monitoring_after_import as task

    head = members(home(county_map.village_a1, enrolled=True))[0]
    job = import_rows("vehicle", [car(head)])
    task(job.pk)
    task(job.pk)
    assert MonitoringWarning.objects.count() == 1


def _queries_for(job_id: int) -> int:
    with CaptureQueriesContext(connection) as ctx:
        monitoring_after_import(job_id=job_id)
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_the_cost_does_not_grow_with_the_rolls(county_map: Any, standards: None) -> None:
    changed = [members(home(county_map.village_a1, enrolled=True))[0] for _ in range(3)]
    for _ in range(7):
        home(county_map.village_a2, enrolled=True)
    job = import_rows("vehicle", [car(p, f"V{n}") for n, p in enumerate(changed)])
    _queries_for(job.pk)  # warms the per-process caches (working-day calendar, content types)
    MonitoringWarning.objects.all().delete()
    small = _queries_for(job.pk)
    MonitoringWarning.objects.all().delete()
    for _ in range(190):
        Household.objects.create(
            village=county_map.village_b1, township=county_map.town_b, address="x", is_enrolled=True
        )
    assert Household.objects.filter(is_enrolled=True).count() == 200
    large = _queries_for(job.pk)
    assert large == small
    assert MonitoringWarning.objects.count() == 3


# --- resolution --------------------------------------------------------------------------------


@pytest.fixture
def warning(county_map: Any, standards: None) -> MonitoringWarning:
    head = members(home(county_map.village_a1, enrolled=True))[0]
    monitoring_after_import(job_id=import_rows("vehicle", [car(head)]).pk)
    return MonitoringWarning.objects.get()


@pytest.mark.django_db
def test_the_assistant_resolves_with_a_note_and_it_is_audited(
    warning: MonitoringWarning, personas: Any
) -> None:
    with pytest.raises(ApplicationError) as missing:
        warning_resolve(actor=personas.assistant_a, warning_id=warning.pk, resolution="no_effect", note=" ")
    assert "note" in missing.value.extra["fields"]
    done = warning_resolve(
        actor=personas.assistant_a,
        warning_id=warning.pk,
        resolution="adjusted",
        note="车辆已过户，核减后继续保障",
    )
    assert done.status == Status.ADJUSTED and done.resolved_by == personas.assistant_a
    assert done.resolved_at is not None and done.grace_until is None
    event = AuditEvent.objects.get(action="monitoring.warning.resolve")
    assert event.actor == personas.assistant_a and event.new_values["status"] == "adjusted"
    with pytest.raises(ConflictError):
        warning_resolve(
            actor=personas.coordinator, warning_id=warning.pk, resolution="no_effect", note="重复"
        )


@pytest.mark.django_db
def test_an_exit_records_its_grace_period(warning: MonitoringWarning, personas: Any) -> None:
    today = dt.date(2026, 11, 30)
    with pytest.raises(ApplicationError) as bad:
        warning_resolve(
            actor=personas.coordinator,
            warning_id=warning.pk,
            resolution="exit_started",
            note="收入稳定超过标准",
            grace_months=7,
        )
    assert "grace_months" in bad.value.extra["fields"]
    done = warning_resolve(
        actor=personas.coordinator,
        warning_id=warning.pk,
        resolution="exit_started",
        note="收入稳定超过标准，启动渐退",
        today=today,
    )
    assert done.status == Status.EXIT_STARTED and done.grace_until == dt.date(2027, 2, 28)
    assert (
        AuditEvent.objects.get(action="monitoring.warning.resolve").new_values["grace_until"] == "2027-02-28"
    )


def test_months_are_added_to_the_end_of_short_months() -> None:
    assert add_months(dt.date(2026, 8, 31), 6) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2026, 1, 15), 3) == dt.date(2026, 4, 15)


@pytest.mark.django_db
def test_resolution_is_scoped(warning: MonitoringWarning, personas: Any) -> None:
    for persona in (personas.assistant_b, personas.dept_civil, personas.auditor):
        with pytest.raises(Http404):
            warning_resolve(actor=persona, warning_id=warning.pk, resolution="no_effect", note="x")
    with pytest.raises(PermissionDenied):
        warning_resolve(actor=personas.cadre_a1, warning_id=warning.pk, resolution="no_effect", note="x")
    warning.refresh_from_db()
    assert warning.status == Status.OPEN


@pytest.mark.django_db(transaction=True)
def test_two_assistants_resolving_at_once_one_wins(county_map: Any, personas: Any) -> None:
    publish_demo_standards(county_map.county)
    head = members(home(county_map.village_a1, enrolled=True))[0]
    monitoring_after_import(job_id=import_rows("vehicle", [car(head)]).pk)
    warning = MonitoringWarning.objects.get()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def resolve(actor: Any, resolution: str) -> None:
        try:
            barrier.wait()
            warning_resolve(actor=actor, warning_id=warning.pk, resolution=resolution, note="核实")
            outcomes.append("ok")
        except ConflictError:
            outcomes.append("409")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=resolve, args=(personas.assistant_a, "no_effect")),
        threading.Thread(target=resolve, args=(personas.coordinator, "adjusted")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["409", "ok"]
    assert AuditEvent.objects.filter(action="monitoring.warning.resolve").count() == 1
