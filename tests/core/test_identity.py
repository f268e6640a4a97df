"""Resident ID numbers: the GB 11643-1999 validator as security.md specifies it."""

from __future__ import annotations

import dataclasses
import pickle
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django import forms
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from assist_center.identity import (
    ERROR_MESSAGES,
    DocumentType,
    InvalidIdNumber,
    ResidentId,
    make_id_number,
    normalise_id_number,
    parse_id_number,
    validate_id_number,
)

TODAY = date(2026, 11, 29)
VALID = "110105199001010010"
VALID_X = "11010519900101007X"
TRANSLATIONS = Path(__file__).resolve().parents[2] / "locale" / "pending" / "identity.tsv"


def with_check(body: str) -> str:
    """Append the check character, computed independently of the module under test."""
    assert len(body) == 17
    total = sum(int(c) * pow(2, 17 - i, 11) for i, c in enumerate(body))
    value = (12 - total % 11) % 11
    return body + ("X" if value == 10 else str(value))


def load_translations() -> dict[str, str]:
    pairs = {}
    for line in TRANSLATIONS.read_text(encoding="utf-8").splitlines():
        msgid, msgstr = line.split("\t")
        pairs[msgid] = msgstr
    return pairs


def runs(text: str, size: int = 4) -> set[str]:
    return {text[i : i + size] for i in range(len(text) - size + 1)}


def assert_no_echo(error: InvalidIdNumber, raw: Any) -> None:
    """Fail if any rendering of the error carries a 4-character run of the input."""
    with translation.override("en"):
        english = str(error.message)
        rendered = [english, str(error), repr(error), *error.messages]
    with translation.override("zh-hans"):
        rendered.append(str(error.message))
    rendered.append(load_translations()[english])
    forbidden = runs(str(raw)) | (runs(normalise_id_number(raw)) if isinstance(raw, str) else set())
    for text in rendered:
        leaked = {run for run in forbidden if run in text}
        assert not leaked, f"message echoes the input: {leaked}"


def code_of(raw: Any, *, today: date = TODAY) -> str:
    with pytest.raises(InvalidIdNumber) as caught:
        parse_id_number(raw, today=today)
    assert_no_echo(caught.value, raw)
    return str(caught.value.code)


# --- the examples of security.md and the brief ------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        (VALID, VALID),
        ("11010519900101007x", VALID_X),
        ("11010519900101007ｘ", VALID_X),
        ("11010519900101007Ｘ", VALID_X),
        ("１１０１０５１９９００１０１００１０", VALID),
        ("110105 19900101 0010", VALID),
        (" 110105199001010010\n", VALID),
        ("110105\t19900101\r\n0010", VALID),
        ("\u3000110105\u300019900101\u30000010\u3000", VALID),
        ("110105\u00a019900101\u00a00010", VALID),
        ("１１０１０５ １９９００１０１ ００７ｘ", VALID_X),
    ],
)
def test_typed_variants_of_a_valid_number_are_accepted_and_stored_canonically(raw: str, stored: str) -> None:
    resident = parse_id_number(raw, today=TODAY)

    assert resident.number == stored
    assert resident.document_type == DocumentType.CITIZEN
    assert resident.birth_date == date(1990, 1, 1)
    assert resident.sex == "M"
    assert resident.province_code == "11"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (None, "not_str"),
        (110105199001010010, "not_str"),
        (b"110105199001010010", "not_str"),
        (["110105199001010010"], "not_str"),
        ("", "empty"),
        ("   ", "empty"),
        ("\u3000\t\n", "empty"),
        ("\x00", "nul"),
        ("1101051990\x0001010010", "nul"),
        ("11010519900101001", "length"),
        ("1101051990010100100", "length"),
        ("1" * 101, "length"),
        ("11010519900101X010", "characters"),
        ("X10105199001010010", "characters"),
        ("11010519900101001a", "characters"),
        ("110105-19900101-0010", "characters"),
        ("١١٠١٠٥١٩٩٠٠١٠١٠٠١٠", "characters"),  # Arabic-Indic
        ("۱۱۰۱۰۵۱۹۹۰۰۱۰۱۰۰۱۰", "characters"),  # Extended Arabic-Indic (Persian)
        ("११०१०५१९९००१०१००१०", "characters"),  # Devanagari
        ("১১০১০৫১৯৯০০১০১০০১০", "characters"),  # Bengali
        ("๑๑๐๑๐๕๑๙๙๐๐๑๐๑๐๐๑๐", "characters"),  # Thai
        ("11010519900101001٠", "characters"),
        ("110105199001010\u200b010", "characters"),  # zero-width space is not whitespace
        ("𠈌", "characters"),
        ("<script>alert(1)</script>", "characters"),
        ("1' OR '1'='1", "characters"),
        ("110105199001010011", "checksum"),
        ("11010519900101001X", "checksum"),
        ("110105199013010018", "date"),
        (with_check("11010519900229001"), "date"),
        (with_check("11010519000229001"), "date"),  # 1900 was not a leap year
        (with_check("11010519900100001"), "date"),
        (with_check("11010519900132001"), "date"),
        (with_check("11010500000101001"), "date"),
        (with_check("11010518991231001"), "too_old"),
        (with_check("11010520261130001"), "future"),
        (with_check("01010519900101001"), "province"),
        (with_check("16010519900101001"), "province"),
        (with_check("71010019900101001"), "province"),
        (with_check("84000019900101001"), "province"),
        (with_check("00000019900101001"), "province"),
    ],
)
def test_rejection_reasons_have_distinct_codes_and_messages_never_echo_the_input(raw: Any, code: str) -> None:
    assert code_of(raw) == code


def test_every_error_code_has_its_own_message() -> None:
    with translation.override("en"):
        messages = [str(message) for message in ERROR_MESSAGES.values()]
    assert len(set(messages)) == len(messages)


def test_translations_file_covers_every_message_and_label() -> None:
    translations = load_translations()
    with translation.override("en"):
        msgids = [str(m) for m in ERROR_MESSAGES.values()] + [str(label) for label in DocumentType.labels]

    assert sorted(translations) == sorted(msgids)
    assert all(translations[msgid].strip() for msgid in msgids)


def test_the_first_and_last_birth_dates_accepted_are_1900_01_01_and_today() -> None:
    assert parse_id_number(with_check("11010519000101001"), today=TODAY).birth_date == date(1900, 1, 1)
    assert parse_id_number(with_check("11010520261129001"), today=TODAY).birth_date == TODAY


def test_a_leap_day_birth_is_accepted() -> None:
    assert parse_id_number(with_check("11010520000229002"), today=TODAY).birth_date == date(2000, 2, 29)


def test_an_abolished_county_code_stays_valid() -> None:
    # 110103 (Chongwen district, Beijing) was abolished in 2010; its residents kept their numbers.
    assert parse_id_number(with_check("11010319800101001"), today=TODAY).province_code == "11"


@pytest.mark.parametrize(
    "region",
    [
        "110105",
        "150000",
        "210000",
        "230000",
        "310000",
        "370000",
        "410000",
        "460000",
        "500000",
        "540000",
        "610000",
        "650000",
    ],
)
def test_every_province_range_is_accepted(region: str) -> None:
    number = make_id_number(region6=region, birth=date(1990, 1, 1), seq=2)
    assert parse_id_number(number, today=TODAY).document_type == DocumentType.CITIZEN


@pytest.mark.parametrize("region", ["810000", "820000", "830000"])
def test_hong_kong_macao_and_taiwan_permits_are_reported_as_permits(region: str) -> None:
    resident = parse_id_number(make_id_number(region6=region, birth=date(1985, 6, 1), seq=3), today=TODAY)

    assert resident.document_type == DocumentType.HK_MACAO_TW_PERMIT
    assert resident.province_code == region[:2]


def test_a_leading_9_is_a_foreigner_permanent_residence_number_not_a_citizen_id() -> None:
    number = make_id_number(region6="911156", birth=date(1970, 3, 4), seq=12)
    resident = parse_id_number(number, today=TODAY)

    assert resident.document_type == DocumentType.FOREIGNER_PERMANENT
    assert resident.province_code == "11"
    assert resident.birth_date == date(1970, 3, 4)
    assert resident.sex == "F"


def test_a_foreigner_number_is_not_refused_for_its_acceptance_code() -> None:
    number = make_id_number(region6="999840", birth=date(1970, 3, 4), seq=11)
    assert parse_id_number(number, today=TODAY).province_code == "99"


def test_a_foreigner_number_still_needs_a_valid_check_character_and_date() -> None:
    number = make_id_number(region6="911156", birth=date(1970, 3, 4), seq=11)
    assert code_of(number[:-1] + ("0" if number[-1] != "0" else "1")) == "checksum"
    assert code_of(with_check("91115619701304011")) == "date"


# --- ResidentId --------------------------------------------------------------------------------


def test_the_mask_shows_the_first_three_and_last_four_characters_only() -> None:
    assert parse_id_number(VALID, today=TODAY).masked == "110***********0010"
    assert parse_id_number(VALID_X, today=TODAY).masked == "110***********007X"


def test_repr_and_str_disclose_neither_number_nor_birth_date() -> None:
    resident = parse_id_number(VALID, today=TODAY)
    for text in (repr(resident), str(resident), f"{resident}"):
        assert "110***********0010" in text
        assert "19900101" not in text
        assert "1990" not in text


def test_a_resident_id_cannot_be_changed() -> None:
    resident = parse_id_number(VALID, today=TODAY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        resident.number = VALID_X  # type: ignore[misc]


def test_an_even_sequence_digit_means_female() -> None:
    assert (
        parse_id_number(make_id_number(region6="110105", birth=date(1990, 1, 1), seq=10), today=TODAY).sex
        == "F"
    )


@pytest.mark.parametrize(
    ("birth", "day", "age"),
    [
        (date(1990, 1, 1), date(1990, 1, 1), 0),
        (date(1990, 6, 15), date(2026, 6, 14), 35),
        (date(1990, 6, 15), date(2026, 6, 15), 36),
        (date(2000, 2, 29), date(2023, 2, 28), 22),
        (date(2000, 2, 29), date(2023, 3, 1), 23),
        (date(2000, 2, 29), date(2024, 2, 29), 24),
        (date(2012, 11, 30), date(2026, 11, 29), 13),
        (date(2012, 11, 29), date(2026, 11, 29), 14),
    ],
)
def test_age_counts_completed_years(birth: date, day: date, age: int) -> None:
    resident = parse_id_number(make_id_number(region6="110105", birth=birth, seq=1), today=TODAY)
    assert resident.age_on(day) == age


def test_age_before_birth_is_an_error() -> None:
    resident = parse_id_number(VALID, today=TODAY)
    with pytest.raises(ValueError):
        resident.age_on(date(1989, 12, 31))


# --- defaults, the Django validator, the error type ---------------------------------------------


def test_today_defaults_to_the_local_date_in_shanghai(settings: Any) -> None:
    settings.TIME_ZONE = "Asia/Shanghai"
    born_on_local_today = with_check("11010520261130001")
    # 17:00 UTC on 29 November is 01:00 on 30 November in Shanghai.
    with time_machine.travel(datetime(2026, 11, 29, 17, 0, tzinfo=UTC), tick=False):
        assert parse_id_number(born_on_local_today).birth_date == date(2026, 11, 30)
        assert code_of_default(with_check("11010520261201001")) == "future"


def code_of_default(raw: str) -> str:
    with pytest.raises(InvalidIdNumber) as caught:
        parse_id_number(raw)
    return str(caught.value.code)


class IdForm(forms.Form):
    id_number = forms.CharField(validators=[validate_id_number])


def test_the_validator_lets_a_form_accept_a_valid_number() -> None:
    assert IdForm(data={"id_number": "11010519900101007x"}).is_valid()


def test_the_validator_gives_a_form_error_with_its_code_and_no_part_of_the_number() -> None:
    form = IdForm(data={"id_number": "110105199001010011"})

    assert not form.is_valid()
    assert form.errors.as_data()["id_number"][0].code == "checksum"
    assert "0101" not in str(form.errors)


def test_the_error_is_a_django_validation_error_that_survives_pickling() -> None:
    error = InvalidIdNumber("checksum")
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 (our own bytes, pickled a line above)

    assert isinstance(error, ValidationError)
    assert isinstance(copy, InvalidIdNumber)
    assert copy.code == "checksum"
    assert copy.messages == error.messages


def test_the_error_accepts_a_custom_message() -> None:
    assert InvalidIdNumber("empty", "Required.").messages == ["Required."]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"region6": "11010", "birth": date(1990, 1, 1), "seq": 1},
        {"region6": "١١٠١٠٥", "birth": date(1990, 1, 1), "seq": 1},
        {"region6": "110105", "birth": date(1990, 1, 1), "seq": -1},
        {"region6": "110105", "birth": date(1990, 1, 1), "seq": 1000},
    ],
)
def test_make_id_number_refuses_malformed_parts(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        make_id_number(**kwargs)


def test_make_id_number_reproduces_the_documented_examples() -> None:
    assert make_id_number(region6="110105", birth=date(1990, 1, 1), seq=1) == VALID
    assert make_id_number(region6="110105", birth=date(1990, 1, 1), seq=7) == VALID_X


# --- properties ---------------------------------------------------------------------------------

provinces = st.sampled_from(
    [
        f"{p:02d}"
        for low, high in ((11, 15), (21, 23), (31, 37), (41, 46), (50, 54), (61, 65))
        for p in range(low, high + 1)
    ]
)
citizen_regions = st.tuples(provinces, st.text("0123456789", min_size=4, max_size=4)).map("".join)
permit_regions = st.sampled_from(["810000", "820000", "830000"])
foreigner_regions = st.text("0123456789", min_size=5, max_size=5).map(lambda rest: "9" + rest)
regions = st.one_of(citizen_regions, permit_regions, foreigner_regions)
births = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
seqs = st.integers(min_value=0, max_value=999)
valid_numbers = st.builds(make_id_number, region6=regions, birth=births, seq=seqs)

FULL_WIDTH = {c: chr(ord(c) + 0xFEE0) for c in "0123456789X"}
SPACES = ["", " ", "\u3000", "\t", "\u00a0"]


@given(region=regions, birth=births, seq=seqs)
def test_any_generated_number_round_trips(region: str, birth: date, seq: int) -> None:
    number = make_id_number(region6=region, birth=birth, seq=seq)
    resident = parse_id_number(number, today=TODAY)

    expected_type = (
        DocumentType.FOREIGNER_PERMANENT
        if region[0] == "9"
        else DocumentType.HK_MACAO_TW_PERMIT
        if region[:2] in ("81", "82", "83")
        else DocumentType.CITIZEN
    )
    assert resident == ResidentId(
        number=number,
        document_type=expected_type,
        sex="M" if seq % 2 else "F",
        birth_date=birth,
        province_code=region[1:3] if region[0] == "9" else region[:2],
    )
    assert resident.masked == number[:3] + "*" * 11 + number[-4:]
    assert resident.age_on(TODAY) >= 0


@given(number=valid_numbers, data=st.data())
def test_full_width_spacing_and_lower_case_x_do_not_change_the_number(
    number: str, data: st.DataObject
) -> None:
    typed = ""
    for c in number:
        typed += data.draw(st.sampled_from(SPACES))
        c = FULL_WIDTH[c] if data.draw(st.booleans()) else c
        typed += c.lower() if data.draw(st.booleans()) else c
    typed += data.draw(st.sampled_from(SPACES))

    assert parse_id_number(typed, today=TODAY).number == number


@given(number=valid_numbers, position=st.integers(min_value=0, max_value=17), data=st.data())
def test_changing_any_one_character_breaks_the_check_character(
    number: str, position: int, data: st.DataObject
) -> None:
    # Every weight is non-zero modulo the prime 11 and a digit changes by at most 9, so MOD 11-2
    # detects every single substitution; the checksum is tested before the date, so it is the
    # reason reported.
    choices = [c for c in ("0123456789X" if position == 17 else "0123456789") if c != number[position]]
    changed = number[:position] + data.draw(st.sampled_from(choices)) + number[position + 1 :]

    assert code_of(changed) == "checksum"


@given(number=valid_numbers, position=st.integers(min_value=0, max_value=15))
def test_swapping_two_adjacent_different_digits_breaks_the_check_character(
    number: str, position: int
) -> None:
    a, b = number[position], number[position + 1]
    assume(a != b)
    swapped = number[:position] + b + a + number[position + 2 :]

    assert code_of(swapped) == "checksum"


junk_alphabet = st.sampled_from(
    [*"0123456789Xx #-./", "１", "９", "Ｘ", "\u3000", "\t", "\x00", "١", "٩", "१", "𠈌", "é", "\u200b"]
)
junk = st.text(alphabet=junk_alphabet, max_size=40)
near_misses = st.builds(
    lambda number, cut, insert: number[:cut] + insert + number[cut:],
    valid_numbers,
    st.integers(min_value=0, max_value=18),
    st.text(alphabet=junk_alphabet, max_size=3),
)


@settings(deadline=None)
@given(raw=st.one_of(junk, near_misses))
def test_no_error_message_contains_four_characters_of_the_input(raw: str) -> None:
    try:
        parse_id_number(raw, today=TODAY)
    except InvalidIdNumber as error:
        assert_no_echo(error, raw)


@given(number=valid_numbers)
def test_a_birth_date_after_today_is_refused(number: str) -> None:
    birth = parse_id_number(number, today=TODAY).birth_date
    assert code_of(number, today=birth - timedelta(days=1)) == "future"
