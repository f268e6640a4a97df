"""A database dump contains no plaintext ID number or phone (security.md, personal data handling)."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from typing import Any

import pytest
from django.db import connection

from applications.models import Household, Person
from assist_center.identity import make_id_number
from assist_center.models import SmsMessage
from assist_center.pii import id_number_index, phone_index
from tests import factories as f

pytestmark = [
    # Committed rows: pg_dump runs in another process and sees only what is committed.
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed"),
]

NAMES = ["测试甲一", "测试乙二", "阿依古丽·买买提", "𠈌家宝"]
PHONES = ["+8613800138000", "+8613912345678", "+8618657601234"]


def _id_ending_in_x() -> str:
    for seq in range(1000):
        number = make_id_number(region6="331099", birth=dt.date(1962, 3, 14), seq=seq)
        if number.endswith("X"):
            return number
    raise AssertionError("no sequence gives an X check character")


def _pg_dump() -> str:
    db = connection.settings_dict
    cmd = ["pg_dump", "--no-owner", "--no-privileges", "--format=plain", "--dbname", db["NAME"]]
    if db.get("HOST"):
        cmd += ["--host", db["HOST"]]
    if db.get("PORT"):
        cmd += ["--port", str(db["PORT"])]
    if db.get("USER"):
        cmd += ["--username", db["USER"]]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _forms_of_id(number: str) -> list[str]:
    # The number itself, lower-case x, and the 17 digits without the check character.
    return [number, number.lower(), number[:17]]


def _forms_of_phone(e164: str) -> list[str]:
    national = e164.removeprefix("+86")
    return [e164, e164.lstrip("+"), national]


def _table_rows(dump: str, table: str) -> str:
    """The COPY block of one table in a plain-format dump."""
    match = re.search(rf"^COPY public\.{table} \(.*?\n(.*?)^\\\.$", dump, re.MULTILINE | re.DOTALL)
    assert match is not None, f"{table} is not in the dump"
    return match.group(1)


def test_dump_holds_the_rows_but_no_plaintext_id_number_or_phone(county_map: Any) -> None:
    h = f.household(county_map.village_a1, members=0)
    people = [
        f.person(h, name=NAMES[0], phone=PHONES[0]),
        f.person(h, name=NAMES[1], phone=PHONES[1], relation=Person.Relation.SPOUSE),
        f.person(h, name=NAMES[2], relation=Person.Relation.CHILD, birth=dt.date(2015, 6, 1)),
    ]
    x_number = _id_ending_in_x()
    people.append(
        Person.objects.create(
            household=h,
            name=NAMES[3],
            id_number=x_number,
            id_number_hash=id_number_index(x_number),
            sex="F",
            birth_date=dt.date(1962, 3, 14),
            phone=PHONES[2],
            phone_hash=phone_index(PHONES[2]),
            relation=Person.Relation.PARENT,
        )
    )
    # A change writes a second history row: history must not pick up the ID or phone either.
    people[0].name = NAMES[0] + "改"
    people[0].save()
    SmsMessage.objects.create(
        to=PHONES[0],
        to_hash=phone_index(PHONES[0]),
        template="otp",
        params={"code": "123456"},
        idempotency_key="pg-dump-proof",
    )
    f.household(county_map.village_a2, members=3)  # Faker names and IDs, as the other tests make them

    id_numbers = [p.id_number for p in Person.objects.all()]
    phones = [p.phone for p in Person.objects.all() if p.phone]
    assert len(id_numbers) == 7
    assert x_number in id_numbers
    assert sorted(phones) == sorted(PHONES)

    dump = _pg_dump()

    for number in id_numbers:
        for form in _forms_of_id(number):
            assert form not in dump, "an ID number appears in the dump"
    for phone in PHONES:
        for form in _forms_of_phone(phone):
            assert form not in dump, "a phone number appears in the dump"

    # The rows are there, so the absence above means something.
    person_rows = _table_rows(dump, "applications_person")
    for name in [NAMES[0] + "改", *NAMES[1:]]:
        assert name in person_rows
    assert person_rows.count("fernet:") == 7 + 3  # seven ID numbers, three phones
    assert _table_rows(dump, "assist_center_smsmessage").count("fernet:") == 1

    history_rows = _table_rows(dump, "applications_historicalperson")
    for name in NAMES:
        assert name in history_rows
    assert len(history_rows.splitlines()) == 7 + 1
    assert "fernet:" not in history_rows  # excluded from history altogether, not even encrypted
    assert h.address in _table_rows(dump, "applications_historicalhousehold")
    assert Household.objects.count() == 2
