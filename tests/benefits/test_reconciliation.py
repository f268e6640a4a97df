"""A department's existing-recipient list against the rolls, at its boundaries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from applications.models import Person
from benefits.models import Enrolment, RollTask
from benefits.services.enrolments import enrolment_end, enrolment_start
from tests import factories as f

from .helpers import csv_bytes, report, run

HEADER = ("id_number", "record_id", "effective_date", "item", "monthly_amount", "status")


def enrol(person: Person, amount: str | None = "850.00", item: str = "dibao", **kw: Any) -> Enrolment:
    return enrolment_start(
        actor=None,
        household_id=person.household_id,
        item=item,
        since=dt.date(2025, 1, 1),
        source=Enrolment.Source.GRANTED_OUTCOME,
        monthly_amount=Decimal(amount) if amount else None,
        kind="" if amount else "米面油",
        source_ref=f"o{person.pk}{item}",
        **kw,
    )


def listing(*rows: tuple[Any, ...]) -> bytes:
    return csv_bytes(HEADER, rows)


def tasks() -> set[tuple[str, int, str]]:
    return set(RollTask.objects.values_list("kind", "household_id", "item"))


def test_each_mismatch_is_one_task_with_both_records(county_map: Any) -> None:
    same, differs, missing, unlisted = (f.household(county_map.village_a1).members.get() for _ in range(4))
    other_town = f.household(county_map.village_b1).members.get()
    enrol(same)
    e_differs = enrol(differs, "850.00")
    e_unlisted = enrol(unlisted)
    job = run(
        "existing_recipient",
        listing(
            (same.id_number, "L1", "2026-01-01", "dibao", "850", "在册"),
            (differs.id_number, "L2", "2026-01-01", "dibao", "850.01", "在册"),
            (missing.id_number, "L3", "2026-01-01", "dibao", "700", "渐退"),
            (other_town.id_number, "L4", "2026-01-01", "dibao", "", "在册"),
        ),
    )
    assert job.error_report == ""
    assert tasks() == {
        ("amount_differs", differs.household_id, "dibao"),
        ("on_list_not_enrolled", missing.household_id, "dibao"),
        ("on_list_not_enrolled", other_town.household_id, "dibao"),
        ("enrolled_not_on_list", unlisted.household_id, "dibao"),
    }
    amount = RollTask.objects.get(kind="amount_differs")
    assert amount.enrolment == e_differs and amount.township == county_map.town_a
    assert (
        amount.department_record["monthly_amount"] == "850.01"
        and amount.department_record["record_id"] == "L2"
    )
    assert amount.roll_record["monthly_amount"] == "850.00"
    assert RollTask.objects.get(kind="enrolled_not_on_list").roll_record["enrolment"] == e_unlisted.pk
    assert RollTask.objects.get(household_id=other_town.household_id).township == county_map.town_b


def test_the_same_list_again_adds_no_task_while_the_first_is_open(county_map: Any) -> None:
    person = f.household(county_map.village_a1).members.get()
    data = listing((person.id_number, "L1", "2026-01-01", "dibao", "850", "在册"))
    run("existing_recipient", data)
    run("existing_recipient", data)
    assert RollTask.objects.count() == 1
    RollTask.objects.update(status="done")
    run("existing_recipient", data)
    assert RollTask.objects.filter(status="open").count() == 1


def test_boundaries_status_amount_and_items_not_on_the_list(county_map: Any) -> None:
    exited, no_amount, in_kind, medical = (f.household(county_map.village_a1).members.get() for _ in range(4))
    enrol(exited)
    enrol(no_amount)
    enrol(in_kind, amount=None)
    enrol(medical, item="medical")
    ended = f.household(county_map.village_a1).members.get()
    enrolment_end(
        actor=None, enrolment_id=enrol(ended).pk, ended_on=dt.date(2025, 12, 31), why="no_longer_eligible"
    )
    run(
        "existing_recipient",
        listing(
            (exited.id_number, "L1", "2026-01-01", "dibao", "850", "退出"),  # off the list: not a recipient
            (no_amount.id_number, "L2", "2026-01-01", "dibao", "", "在册"),  # no amount to compare
            (in_kind.id_number, "L3", "2026-01-01", "dibao", "100", "在册"),  # the roll has no amount
        ),
    )
    # The medical enrolment is of an item the list does not mention; the ended one is off the rolls.
    assert tasks() == {("enrolled_not_on_list", exited.household_id, "dibao")}


def test_a_person_the_registry_does_not_know_is_reported_by_line(county_map: Any) -> None:
    from .helpers import new_id

    job = run("existing_recipient", listing((new_id(), "L1", "2026-01-01", "dibao", "850", "在册")))
    assert [line for line, _reason in report(job)] == [2]
    assert not RollTask.objects.exists()
