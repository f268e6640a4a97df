"""The ledger: payment files (same file twice, corrected file, unknown persons) and the monthly task."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.management import call_command

from assist_center.models import AuditEvent
from benefits.models import BenefitEntry, Enrolment
from benefits.selectors import benefits_of_household
from benefits.services.enrolments import enrolment_begin_exit, enrolment_end, enrolment_start
from benefits.services.ledger import benefit_record, ledger_write_month
from tests import factories as f

from .helpers import csv_bytes, new_id, report, run

HEADER = ("id_number", "record_id", "effective_date", "amount", "period", "in_kind")


def entries() -> dict[str, tuple[Any, ...]]:
    return {
        b.source_key: (b.household_id, b.person_id, b.item, b.amount, b.period, b.paid_on, b.provider_code)
        for b in BenefitEntry.objects.all()
    }


def test_a_payment_file_writes_the_ledger_and_the_same_file_twice_changes_nothing(county_map: Any) -> None:
    a, b = (f.household(county_map.village_a1).members.get() for _ in range(2))
    data = csv_bytes(
        HEADER,
        [
            (a.id_number, "P1", "2026-03-10", "850", "2026-03-01", ""),
            (b.id_number, "P2", "2026-03-10", "1200.5", "", ""),
        ],
    )
    job = run("payment_dibao", data)
    assert (job.rows_read, job.rows_inserted, job.rows_rejected) == (2, 2, 0)
    assert entries() == {
        "file:payment_dibao:P1": (
            a.household_id,
            a.pk,
            "dibao",
            Decimal("850.00"),
            dt.date(2026, 3, 1),
            dt.date(2026, 3, 10),
            "civil_affairs",
        ),
        "file:payment_dibao:P2": (
            b.household_id,
            b.pk,
            "dibao",
            Decimal("1200.50"),
            dt.date(2026, 3, 1),
            dt.date(2026, 3, 10),
            "civil_affairs",
        ),
    }
    before = {e.source_key: (e.updated_at, e.import_job_id) for e in BenefitEntry.objects.all()}
    again = run("payment_dibao", data)
    assert (again.rows_inserted, again.rows_updated, again.rows_unchanged) == (0, 0, 2)
    assert {e.source_key: (e.updated_at, e.import_job_id) for e in BenefitEntry.objects.all()} == before
    assert not PoolRecordsOf("payment_dibao")


def PoolRecordsOf(category: str) -> bool:
    from eligibility.models import PoolRecord

    return PoolRecord.objects.filter(category=category).exists()


def test_a_corrected_file_changes_only_its_corrected_rows(county_map: Any) -> None:
    a, b = (f.household(county_map.village_a1).members.get() for _ in range(2))
    run(
        "payment_disability",
        csv_bytes(
            HEADER,
            [
                (a.id_number, "P1", "2026-03-10", "100", "", ""),
                (b.id_number, "P2", "2026-03-10", "200", "", ""),
            ],
        ),
    )
    untouched = BenefitEntry.objects.get(source_key="file:payment_disability:P2").updated_at
    job = run(
        "payment_disability",
        csv_bytes(
            HEADER,
            [
                (a.id_number, "P1", "2026-03-10", "150", "", ""),
                (b.id_number, "P2", "2026-03-10", "200.00", "", ""),
                (b.id_number, "P3", "2026-04-10", "200", "", ""),
            ],
        ),
    )
    assert (job.rows_inserted, job.rows_updated, job.rows_unchanged) == (1, 1, 1)
    assert BenefitEntry.objects.get(source_key="file:payment_disability:P1").amount == Decimal("150.00")
    assert BenefitEntry.objects.get(source_key="file:payment_disability:P2").updated_at == untouched
    assert BenefitEntry.objects.count() == 3


def test_rows_of_unknown_persons_or_without_amount_are_reported_by_line(county_map: Any) -> None:
    a = f.household(county_map.village_a1).members.get()
    job = run(
        "payment_utility",
        csv_bytes(
            HEADER,
            [
                (a.id_number, "P1", "2026-03-10", "", "", "电费减免 20 千瓦时"),
                (new_id(), "P2", "2026-03-10", "30", "", ""),
                (a.id_number, "P3", "2026-03-10", "", "", ""),
            ],
        ),
    )
    assert (job.rows_inserted, job.rows_rejected) == (1, 2)
    assert [line for line, _ in report(job)] == [3, 4]
    assert BenefitEntry.objects.get().in_kind == "电费减免 20 千瓦时"


def test_manage_py_import_payments_refuses_pool_categories(county_map: Any, tmp_path: Any) -> None:
    a = f.household(county_map.village_a1).members.get()
    path = tmp_path / "pay.csv"
    path.write_bytes(csv_bytes(HEADER, [(a.id_number, "P1", "2026-03-10", "850", "", "")]))
    out = io.StringIO()
    call_command("import_payments", "payment_dibao", str(path), stdout=out, stderr=io.StringIO())
    assert "inserted 1" in out.getvalue()
    with pytest.raises(Exception, match="invalid choice"):
        call_command("import_payments", "deposit", str(path), stdout=io.StringIO(), stderr=io.StringIO())


@time_machine.travel(dt.datetime(2026, 9, 14, 2, 0, tzinfo=dt.UTC), tick=False)
def test_the_monthly_task_run_twice_in_a_month_writes_each_entry_once(county_map: Any) -> None:
    homes = [f.household(county_map.village_a1) for _ in range(5)]

    def enrol(i: int, since: dt.date, amount: str | None = "850") -> Enrolment:
        return enrolment_start(
            actor=None,
            household_id=homes[i].pk,
            item="dibao",
            since=since,
            source=Enrolment.Source.GRANTED_OUTCOME,
            department_id=county_map.dept_civil.pk,
            monthly_amount=Decimal(amount) if amount else None,
            kind="" if amount else "米面油",
            source_ref=f"o{i}",
        )

    active = enrol(0, dt.date(2026, 1, 1))
    exiting = enrol(1, dt.date(2026, 1, 1))
    enrolment_begin_exit(
        actor=None, enrolment_id=exiting.pk, grace_end=dt.date(2026, 10, 31), reason="收入超标"
    )
    enrol(2, dt.date(2026, 10, 1))  # starts next month
    ended = enrol(3, dt.date(2026, 1, 1))
    enrolment_end(actor=None, enrolment_id=ended.pk, ended_on=dt.date(2026, 8, 31), why="no_longer_eligible")
    enrol(4, dt.date(2026, 1, 1), amount=None)  # in kind: no monthly entry
    assert ledger_write_month() == 2
    assert ledger_write_month() == 0
    assert set(BenefitEntry.objects.values_list("source_key", "amount", "provider_code", "period")) == {
        (f"enrolment:{active.pk}:2026-09", Decimal("850.00"), "civil_affairs", dt.date(2026, 9, 1)),
        (f"enrolment:{exiting.pk}:2026-09", Decimal("850.00"), "civil_affairs", dt.date(2026, 9, 1)),
    }
    assert AuditEvent.objects.filter(action="ledger.month").count() == 1
    # August: the enrolment that ended on 31 August was still paid for it.
    assert ledger_write_month(month=dt.date(2026, 8, 1)) == 3


def test_a_month_the_payment_file_covers_is_left_to_the_file(county_map: Any) -> None:
    home = f.household(county_map.village_a1)
    person = home.members.get()
    enrolment_start(
        actor=None,
        household_id=home.pk,
        item="dibao",
        since=dt.date(2026, 1, 1),
        source=Enrolment.Source.GRANTED_OUTCOME,
        monthly_amount=Decimal("850"),
        source_ref="o",
    )
    run("payment_dibao", csv_bytes(HEADER, [(person.id_number, "P1", "2026-03-10", "850", "", "")]))
    assert ledger_write_month(month=dt.date(2026, 3, 1)) == 0
    assert ledger_write_month(month=dt.date(2026, 4, 1)) == 1


def test_a_single_benefit_is_recorded_once_and_read_in_scope(county_map: Any, personas: Any) -> None:
    home = f.household(county_map.village_a1)
    args: dict[str, Any] = {
        "household_id": home.pk,
        "source": BenefitEntry.Source.CHARITY_COMPLETION,
        "source_key": "charity:9",
        "period": dt.date(2026, 5, 20),
        "in_kind": "助学金物资",
        "provider_name": "三门县爱心公益协会",
    }
    entry, created = benefit_record(actor=personas.coordinator, **args)
    again, created_again = benefit_record(actor=personas.coordinator, **args)
    assert created and not created_again and entry.pk == again.pk and entry.period == dt.date(2026, 5, 1)
    assert list(benefits_of_household(user=personas.assistant_a, household_id=home.pk)) == [entry]
    assert not benefits_of_household(user=personas.assistant_b, household_id=home.pk).exists()


def test_a_first_load_keeps_the_last_row_of_a_repeated_payment_id_and_odd_text(county_map: Any) -> None:
    a = f.household(county_map.village_a1).members.get()
    odd = "米\\面\t油\u2028一袋"
    job = run(
        "payment_disaster",
        csv_bytes(
            HEADER,
            [
                (a.id_number, "P1", "2026-03-10", "100", "", ""),
                (a.id_number, "P2", "2026-03-10", "", "", odd),
                (a.id_number, "P1", "2026-03-11", "120", "", ""),
            ],
        ),
    )
    assert (job.rows_inserted, job.rows_rejected) == (2, 1)
    assert [line for line, _ in report(job)] == [2]
    first = BenefitEntry.objects.get(source_key="file:payment_disaster:P1")
    assert (first.amount, first.paid_on, first.item) == (Decimal("120.00"), dt.date(2026, 3, 11), "disaster")
    assert BenefitEntry.objects.get(source_key="file:payment_disaster:P2").in_kind == odd
