"""The registry from 户籍 and death records: new persons, moves, deaths, with history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from applications.models import Household, Person, RegistryEvent
from applications.services.registry import household_members_on
from assist_center.models import AuditEvent
from assist_center.pii import id_number_index

from .helpers import HUKOU, csv_bytes, new_id, report, run

A, B = new_id(dt.date(1960, 1, 2)), new_id(dt.date(1988, 7, 9))


def hukou(county_map: Any, *rows: tuple[Any, ...]) -> bytes:
    return csv_bytes(HUKOU, rows)


def test_a_hukou_import_creates_households_and_persons_matched_by_the_blind_index(county_map: Any) -> None:
    v = county_map.village_a1.code
    job = run(
        "hukou",
        hukou(
            county_map,
            (A, "R1", "2020-01-01", "H001", "户主", "正常", "王大明", v, "幸福路1号"),
            (B, "R2", "2020-01-01", "H001", "儿子", "正常", "王小明", v, ""),
        ),
    )
    assert job.error_report == ""
    household = Household.objects.get(household_number="H001")
    assert household.village == county_map.village_a1 and household.township == county_map.town_a
    head = Person.objects.get(id_number_hash=id_number_index(A))
    son = Person.objects.get(id_number_hash=id_number_index(B))
    assert (head.household, head.relation, head.name, head.birth_date) == (
        household,
        "head",
        "王大明",
        dt.date(1960, 1, 2),
    )
    assert head.id_number == A and head.source == Person.Source.REGISTRY
    assert (son.household, son.relation) == (household, "child")
    assert set(RegistryEvent.objects.values_list("person_id", "kind", "import_job_id")) == {
        (head.pk, "registered", job.pk),
        (son.pk, "registered", job.pk),
    }
    assert AuditEvent.objects.filter(action="registry.import", new_values__persons_created=2).exists()


def test_the_same_hukou_file_twice_changes_nothing(county_map: Any) -> None:
    v = county_map.village_a1.code
    data = hukou(county_map, (A, "R1", "2020-01-01", "H001", "户主", "正常", "王大明", v, ""))
    run("hukou", data)
    again = run("hukou", data)
    assert again.rows_unchanged == 1
    assert Person.objects.count() == 1 and Household.objects.count() == 1
    assert RegistryEvent.objects.count() == 1


def test_a_person_the_registry_places_in_another_household_moves_with_history(county_map: Any) -> None:
    v1, v2 = county_map.village_a1.code, county_map.village_b1.code
    run(
        "hukou",
        hukou(
            county_map,
            (A, "R1", "2020-01-01", "H001", "户主", "正常", "王大明", v1, ""),
            (B, "R2", "2020-01-01", "H001", "女儿", "正常", "王小红", v1, ""),
        ),
    )
    old = Household.objects.get(household_number="H001")
    # The daughter marries into another household in another township: a new record of hers.
    job = run(
        "hukou",
        hukou(
            county_map,
            (A, "R1", "2020-01-01", "H001", "户主", "正常", "王大明", v1, ""),
            (B, "R2", "2020-01-01", "H001", "女儿", "迁出", "王小红", v1, ""),
            (B, "R3", "2026-05-01", "H777", "配偶", "正常", "王小红", v2, ""),
        ),
    )
    new = Household.objects.get(household_number="H777")
    daughter = Person.objects.get(id_number_hash=id_number_index(B))
    assert (daughter.household, daughter.relation, daughter.registry_status) == (new, "spouse", "registered")
    assert new.township == county_map.town_b
    moved = RegistryEvent.objects.get(person=daughter, kind="moved")
    assert (moved.from_household, moved.to_household, moved.effective_date) == (old, new, dt.date(2026, 5, 1))
    assert (moved.source_record_id, moved.import_job_id, moved.old, moved.new) == (
        "R3",
        job.pk,
        {"relation": "child"},
        {"relation": "spouse"},
    )
    head = Person.objects.get(id_number_hash=id_number_index(A))
    assert household_members_on(household_id=old.pk, day=dt.date(2025, 1, 1)) == sorted(
        [head.pk, daughter.pk]
    )
    assert household_members_on(household_id=old.pk, day=dt.date(2026, 6, 1)) == [head.pk]
    assert household_members_on(household_id=new.pk, day=dt.date(2026, 6, 1)) == [daughter.pk]


def test_a_person_moved_out_of_the_county_stays_in_the_last_household_marked(county_map: Any) -> None:
    v = county_map.village_a1.code
    run("hukou", hukou(county_map, (A, "R1", "2020-01-01", "H001", "户主", "正常", "王大明", v, "")))
    run("hukou", hukou(county_map, (A, "R1", "2026-02-01", "H001", "户主", "迁出", "王大明", v, "")))
    person = Person.objects.get(id_number_hash=id_number_index(A))
    assert person.registry_status == Person.RegistryStatus.MOVED_OUT
    assert person.household.household_number == "H001"
    assert list(RegistryEvent.objects.filter(person=person).values_list("kind", flat=True)) == [
        "registered",
        "left",
    ]


def test_a_death_record_marks_the_person_deceased_once(county_map: Any) -> None:
    v = county_map.village_a1.code
    run("hukou", hukou(county_map, (A, "R1", "2020-01-01", "H001", "户主", "正常", "王大明", v, "")))
    death = csv_bytes(
        ("id_number", "record_id", "effective_date", "death_date"),
        [(A, "D1", "2026-03-05", "2026-03-01"), (new_id(), "D2", "2026-03-05", "2026-03-02")],
    )
    run("death", death)
    run("death", death)
    person = Person.objects.get(id_number_hash=id_number_index(A))
    assert (person.registry_status, person.died_on) == (Person.RegistryStatus.DECEASED, dt.date(2026, 3, 1))
    died = RegistryEvent.objects.get(person=person, kind="died")
    assert (died.effective_date, died.source_category, died.source_record_id) == (
        dt.date(2026, 3, 1),
        "death",
        "D1",
    )
    # The unknown person of D2 is kept in the pool only: the registry gains nobody from a death.
    assert Person.objects.count() == 1


def test_rows_the_registry_cannot_use_are_reported_by_line_and_kept_in_the_pool(county_map: Any) -> None:
    v = county_map.village_a1.code
    job = run(
        "hukou",
        hukou(
            county_map,
            (A, "R1", "2020-01-01", "H001", "户主", "正常", "", v, ""),
            (B, "R2", "2020-01-01", "H002", "户主", "正常", "李四", "331022999999", ""),
        ),
    )
    assert job.rows_inserted == 2 and job.rows_rejected == 0
    lines = dict(report(job))
    assert set(lines) == {2, 3}
    assert "姓名" in lines[2] and "village_code" in lines[3]  # the error file is in Chinese
    assert not Person.objects.exists()
