"""Encryption at rest, key rotation, the blind index and masks (security.md, personal data handling)."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldDoesNotExist, FieldError
from django.core.management import CommandError, call_command
from django.db import connection, models
from django.db.models.functions import Lower
from django.test import override_settings
from simple_history.models import HistoricalRecords

from applications.models import Person
from assist_center import pii
from assist_center.identity import make_id_number
from assist_center.models import SmsMessage
from assist_center.pii import (
    DecryptionError,
    EncryptedTextField,
    blind_index,
    decrypt,
    encrypt,
    encrypted_fields,
    id_number_index,
    mask_id_number,
    mask_name,
    phone_index,
)
from tests import factories as f

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
OTHER_KEY = Fernet.generate_key().decode()


def keys(*k: str) -> Any:
    return override_settings(FIELD_ENCRYPTION_KEYS=list(k))


@pytest.fixture(autouse=True)
def _fresh_fernet_cache() -> Iterator[None]:
    # The caches are keyed on the key tuple, so overriding settings is enough; clearing keeps one
    # test's MultiFernet objects from outliving it all the same.
    pii._fernet.cache_clear()
    pii._newest.cache_clear()
    yield
    pii._fernet.cache_clear()
    pii._newest.cache_clear()


def raw_values(model: type[models.Model], field: str) -> dict[Any, str]:
    """Column values as stored, bypassing from_db_value."""
    opts = model._meta
    db_field = opts.get_field(field)
    assert isinstance(db_field, models.Field) and db_field.column is not None
    column = db_field.column
    assert opts.pk is not None and opts.pk.column is not None
    qn = connection.ops.quote_name
    sql = f"SELECT {qn(opts.pk.column)}, {qn(column)} FROM {qn(opts.db_table)}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(cursor.fetchall())


def decryptable_by(key: str, stored: str) -> bool:
    try:
        Fernet(key.encode()).decrypt(stored.removeprefix("fernet:").encode())
    except Exception:
        return False
    return True


# --- encryption -------------------------------------------------------------------------------


def test_round_trip_keeps_unicode_and_the_marker() -> None:
    for value in ("110105199001010010", "+8613800138000", "𠈌·阿依古丽", ""):
        stored = encrypt(value)
        assert stored.startswith("fernet:")
        assert value == "" or value not in stored
        assert decrypt(stored) == value


def test_ciphertext_differs_each_time() -> None:
    assert encrypt("110105199001010010") != encrypt("110105199001010010")


def test_wrong_key_raises_instead_of_returning_ciphertext() -> None:
    with keys(OLD_KEY):
        stored = encrypt("110105199001010010")
    with keys(OTHER_KEY), pytest.raises(DecryptionError):
        decrypt(stored)


def test_plaintext_in_the_column_is_refused() -> None:
    with pytest.raises(DecryptionError):
        decrypt("110105199001010010")


def test_value_under_old_key_still_decrypts_after_new_key_is_prepended() -> None:
    with keys(OLD_KEY):
        stored = encrypt("13800138000")
    with keys(NEW_KEY, OLD_KEY):
        assert decrypt(stored) == "13800138000"
        assert not pii.is_under_newest_key(stored)
        rotated = pii.rotate(stored)
        assert pii.is_under_newest_key(rotated)
        # New writes go under the newest key only.
        assert decryptable_by(NEW_KEY, encrypt("x"))
        assert not decryptable_by(OLD_KEY, encrypt("x"))
    with keys(NEW_KEY):
        assert decrypt(rotated) == "13800138000"


@pytest.mark.django_db
def test_the_orm_stores_ciphertext_and_reads_plaintext(county_map: Any) -> None:
    h = f.household(county_map.village_a1, members=0)
    p = f.person(h, phone="+8613800138000")
    stored = raw_values(Person, "id_number")[p.pk]
    assert stored.startswith("fernet:")
    assert p.id_number not in stored
    assert raw_values(Person, "phone")[p.pk].startswith("fernet:")
    fresh = Person.objects.get(pk=p.pk)
    assert fresh.id_number == p.id_number
    assert fresh.phone == "+8613800138000"
    assert Person.objects.values_list("phone", flat=True).get(pk=p.pk) == "+8613800138000"


@pytest.mark.django_db
def test_a_row_under_a_missing_key_fails_loudly_on_read(county_map: Any) -> None:
    h = f.household(county_map.village_a1, members=0)
    with keys(OTHER_KEY):
        p = f.person(h)
    with pytest.raises(DecryptionError):
        Person.objects.get(pk=p.pk)


# --- lookups on the encrypted column ----------------------------------------------------------


@pytest.mark.parametrize(
    "lookup",
    [
        {"id_number": "110105199001010010"},
        {"id_number__exact": "110105199001010010"},
        {"id_number__iexact": "110105199001010010"},
        {"id_number__in": ["110105199001010010"]},
        {"id_number__startswith": "110"},
        {"phone__contains": "138"},
        {"phone__lower": "x"},
        {"phone__gt": "1"},
    ],
)
def test_searching_the_encrypted_column_raises_instead_of_matching_nothing(lookup: dict[str, Any]) -> None:
    with pytest.raises((FieldError, TypeError)):
        str(Person.objects.filter(**lookup).query)


def test_functions_over_the_ciphertext_are_refused() -> None:
    with pytest.raises((FieldError, TypeError)):
        str(Person.objects.annotate(x=Lower("phone")).filter(x="x").query)
    with pytest.raises((FieldError, TypeError)):
        str(SmsMessage.objects.exclude(to="").query)


@pytest.mark.django_db
def test_isnull_is_the_one_lookup_allowed(county_map: Any) -> None:
    h = f.household(county_map.village_a1, members=1)
    assert Person.objects.filter(household=h, id_number__isnull=False).count() == 1


# --- blind index ------------------------------------------------------------------------------


def test_blind_index_is_stable_keyed_and_separated_by_kind() -> None:
    number = "110105199001010010"
    assert id_number_index(number) == id_number_index(number)
    assert len(id_number_index(number)) == 64
    assert number not in id_number_index(number)
    assert blind_index("id", "13800138000") != blind_index("phone", "13800138000")
    assert phone_index("+8613800138000") == blind_index("phone", "+8613800138000")
    with override_settings(PII_HASH_KEY="another-hash-key-of-thirty-two-characters"):
        changed = id_number_index(number)
    assert changed != id_number_index(number)


def test_blind_index_does_not_depend_on_the_encryption_keys() -> None:
    with keys(OLD_KEY):
        before = phone_index("+8613800138000")
    with keys(NEW_KEY, OLD_KEY):
        assert phone_index("+8613800138000") == before


# --- masks ------------------------------------------------------------------------------------


def test_id_number_mask_shows_first_three_and_last_four() -> None:
    assert mask_id_number("330102199001011234") == "330***********1234"
    number = make_id_number(region6="330102", birth=dt.date(1988, 8, 8), seq=123)
    masked = mask_id_number(number)
    assert masked == number[:3] + "*" * 11 + number[-4:]
    assert number[6:14] not in masked  # the birth date never shows


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("王小明", "王**"),
        ("欧阳娜娜", "欧阳**"),
        ("欧阳", "欧*"),
        ("司马相如", "司马**"),
        ("买买提·艾力", "买**·**"),
        ("𠈌小华", "𠈌**"),
        ("李", "*"),
        ("", ""),
    ],
)
def test_name_mask_keeps_the_surname_only(name: str, masked: str) -> None:
    assert mask_name(name) == masked


# --- rotation ---------------------------------------------------------------------------------


def test_encrypted_fields_are_discovered_in_every_app() -> None:
    found = {(m._meta.label, fld.name) for m, fld in encrypted_fields()}
    assert {
        ("applications.Person", "id_number"),
        ("applications.Person", "phone"),
        ("assist_center.SmsMessage", "to"),
    } <= found


def test_historical_models_never_hold_a_plaintext_copy_of_an_encrypted_field() -> None:
    from django.apps import apps

    for model in apps.get_models():
        tracked = getattr(model, "instance_type", None)
        if tracked is None:
            continue
        for field in tracked._meta.concrete_fields:
            if not isinstance(field, EncryptedTextField):
                continue
            try:
                copy = model._meta.get_field(field.name)
            except FieldDoesNotExist:  # excluded from history, as Person.id_number and Person.phone are
                continue
            assert isinstance(copy, EncryptedTextField), f"{model._meta.label}.{field.name} is plaintext"
    # simple_history copies the field object itself, so a tracked encrypted field stays encrypted
    # (and encrypted_fields(), hence rotate_pii_keys, picks the historical copy up).
    copied = HistoricalRecords().copy_fields(SmsMessage)
    assert isinstance(copied["to"], EncryptedTextField)


def test_person_history_excludes_id_number_and_phone() -> None:
    history_model = Person.history.model
    names = {fld.name for fld in history_model._meta.get_fields()}
    assert "id_number" not in names
    assert "phone" not in names


def _populate(county_map: Any) -> list[Person]:
    h = f.household(county_map.village_a1, members=0)
    people = [f.person(h, phone=f"+86138001380{i:02d}") for i in range(5)]
    people.append(f.person(h))  # blank phone: stays blank
    SmsMessage.objects.create(
        to="+8613800138000", to_hash=phone_index("+8613800138000"), template="otp", idempotency_key="k1"
    )
    return people


def _all_raw() -> list[str]:
    values: list[str] = []
    for model, fld in encrypted_fields():
        values.extend(v for v in raw_values(model, fld.name).values() if v)
    return values


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("rotate_pii_keys", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_rotate_pii_keys_moves_every_row_to_the_new_key(county_map: Any) -> None:
    with keys(OLD_KEY):
        people = _populate(county_map)
        plain = {p.pk: (p.id_number, p.phone) for p in people}
    assert len(_all_raw()) == 5 * 2 + 1 + 1

    with keys(NEW_KEY, OLD_KEY):
        dry = run("--dry-run")
        assert "12 values to rotate." in dry
        assert all(not pii.is_under_newest_key(v) for v in _all_raw())

        out = run("--batch-size", "2")
        assert "applications.Person.id_number: 6 rows, 6 rotated" in out
        assert "applications.Person.phone: 6 rows, 5 rotated, 0 already current, 1 empty" in out
        assert "assist_center.SmsMessage.to: 1 rows, 1 rotated" in out
        assert all(decryptable_by(NEW_KEY, v) and not decryptable_by(OLD_KEY, v) for v in _all_raw())

        # Idempotent: a second run has nothing to do.
        assert "6 rows, 0 rotated, 6 already current" in run()
        assert "0 values to rotate." in run("--dry-run")

    # The old key can now go.
    with keys(NEW_KEY):
        for p in Person.objects.filter(pk__in=plain):
            assert (p.id_number, p.phone) == plain[p.pk]
        assert SmsMessage.objects.get(idempotency_key="k1").to == "+8613800138000"


@pytest.mark.django_db
def test_rotate_pii_keys_resumes_after_an_interruption(county_map: Any) -> None:
    with keys(OLD_KEY):
        _populate(county_map)
    with keys(NEW_KEY, OLD_KEY):
        real_rotate = pii.rotate
        calls = {"n": 0}

        def failing_rotate(stored: str) -> str:
            calls["n"] += 1
            if calls["n"] == 4:
                raise RuntimeError("killed")
            return real_rotate(stored)

        target = "assist_center.management.commands.rotate_pii_keys.rotate"
        with mock.patch(target, side_effect=failing_rotate), pytest.raises(RuntimeError):
            run("--batch-size", "2")
        # Batches before the failure committed; the interrupted batch rolled back as a whole, so
        # fewer rows are current than rotate() calls succeeded, and none is half-written.
        current = sum(pii.is_under_newest_key(v) for v in _all_raw())
        assert 1 <= current <= calls["n"] - 1
        assert all(decrypt(v) for v in _all_raw())

        out = run("--batch-size", "2")
        rotated = sum(int(n) for n in re.findall(r"(\d+) rotated", out))
        already = sum(int(n) for n in re.findall(r"(\d+) already current", out))
        assert (rotated, already) == (12 - current, current)
        assert "0 values to rotate." in run("--dry-run")


@pytest.mark.django_db
def test_rotate_pii_keys_refuses_to_bless_a_value_no_key_decrypts(county_map: Any) -> None:
    with keys(OLD_KEY):
        people = _populate(county_map)
    with keys(OTHER_KEY):
        stray = encrypt(people[0].id_number)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE applications_person SET id_number = %s WHERE id = %s", [stray, people[0].pk])
    err = io.StringIO()
    with keys(NEW_KEY, OLD_KEY), pytest.raises(CommandError) as excinfo:
        call_command("rotate_pii_keys", stdout=err)
    assert "1 values are not decryptable" in str(excinfo.value)
    assert stray not in str(excinfo.value) + err.getvalue()
    assert people[0].id_number not in str(excinfo.value) + err.getvalue()
    # Everything else was still rotated.
    assert "applications.Person.phone: 6 rows, 5 rotated" in err.getvalue()


def test_rotate_pii_keys_help_documents_the_procedure() -> None:
    from assist_center.management.commands.rotate_pii_keys import Command

    text = Command.help
    assert "PREPEND" in text and "FIELD_ENCRYPTION_KEYS" in text
    assert text.index("1)") < text.index("2)") < text.index("3)")
    assert "remove the old key" in text
