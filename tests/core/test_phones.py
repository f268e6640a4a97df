"""Phone numbers: E.164 normalisation, the mobile requirement for SMS, display masks."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from assist_center.phones import ERROR_MESSAGES, InvalidPhone, mask_phone, normalise_mobile, normalise_phone

TRANSLATIONS = Path(__file__).resolve().parents[2] / "locale" / "pending" / "phones.tsv"
MOBILE = "+8613800138000"
LANDLINE = "+861088888888"


def load_translations() -> dict[str, str]:
    pairs = {}
    for line in TRANSLATIONS.read_text(encoding="utf-8").splitlines():
        msgid, msgstr = line.split("\t")
        pairs[msgid] = msgstr
    return pairs


def runs(text: str, size: int = 4) -> set[str]:
    return {text[i : i + size] for i in range(len(text) - size + 1)}


def assert_no_echo(error: InvalidPhone, raw: Any) -> None:
    """Fail if any rendering of the error carries a 4-character run of the input."""
    with translation.override("en"):
        english = str(error.message)
        rendered = [english, str(error), repr(error), *error.messages]
    with translation.override("zh-hans"):
        rendered.append(str(error.message))
    rendered.append(load_translations()[english])
    forbidden = runs(str(raw))
    for text in rendered:
        leaked = {run for run in forbidden if run in text}
        assert not leaked, f"message echoes the input: {leaked}"


def code_of(normalise: Any, raw: Any) -> str:
    with pytest.raises(InvalidPhone) as caught:
        normalise(raw)
    assert_no_echo(caught.value, raw)
    return str(caught.value.code)


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("13800138000", MOBILE),
        ("138 0013 8000", MOBILE),
        ("138-0013-8000", MOBILE),
        ("138.0013.8000", MOBILE),
        ("+86 138-0013-8000", MOBILE),
        ("+86 13800138000", MOBILE),
        ("+86 (0) 138 0013 8000", MOBILE),
        ("008613800138000", MOBILE),
        ("0086 138 0013 8000", MOBILE),
        ("8613800138000", MOBILE),
        (" 13800138000\n", MOBILE),
        ("１３８００１３８０００", MOBILE),
        ("＋８６\u3000１３８－００１３－８０００", MOBILE),
        ("010 8888 8888", LANDLINE),
        ("(010) 8888-8888", LANDLINE),
        ("+86 10 8888 8888", LANDLINE),
        ("+852 9123 4567", "+85291234567"),
        ("+1 650 253 0000", "+16502530000"),
    ],
)
def test_typed_variants_are_normalised_to_e164(raw: str, e164: str) -> None:
    assert normalise_phone(raw) == e164


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("\u3000\t\n", "empty"),
        (None, "invalid"),
        (13800138000, "invalid"),
        (b"13800138000", "invalid"),
        ("1" * 65, "invalid"),
        ("138\x0000138000", "invalid"),
        ("1-800-FLOWERS", "invalid"),  # phonenumbers alone reads this as a CN mobile
        ("13800138000 ext 12", "invalid"),  # ... and this as a mobile with an extension
        ("13800138000x12", "invalid"),
        ("13800138000#", "invalid"),
        ("١٣٨٠٠١٣٨٠٠٠", "invalid"),  # Arabic-Indic digits
        ("१३८००१३८०००", "invalid"),  # Devanagari digits
        ("tel:+8613800138000", "invalid"),
        ("+86+13800138000", "invalid"),
        ("138+00138000", "invalid"),
        ("12345", "invalid"),
        ("1380013800", "invalid"),
        ("138001380001", "invalid"),
        ("14012345678", "invalid"),
        ("+", "invalid"),
        ("𠈌", "invalid"),
        ("<script>alert(1)</script>", "invalid"),
        ("13800138000'; DROP TABLE x;--", "invalid"),
    ],
)
def test_rejections_have_codes_and_messages_never_echo_the_input(raw: Any, code: str) -> None:
    assert code_of(normalise_phone, raw) == code
    assert code_of(normalise_mobile, raw) == code


@pytest.mark.parametrize("raw", ["13800138000", "+86 199 1234 5678", "166 1234 5678", "+852 9123 4567"])
def test_mobile_numbers_are_accepted_where_sms_is_needed(raw: str) -> None:
    assert normalise_mobile(raw) == normalise_phone(raw)


@pytest.mark.parametrize("raw", ["010 8888 8888", "0755 8888 8888", "+852 2123 4567"])
def test_landlines_are_refused_where_sms_is_needed(raw: str) -> None:
    assert code_of(normalise_mobile, raw) == "not_mobile"


@pytest.mark.parametrize(
    ("e164", "masked"),
    [
        (MOBILE, "138****8000"),
        ("13800138000", "138****8000"),
        (LANDLINE, "010****8888"),
        ("+8675588888888", "075****8888"),
        ("+85291234567", "+852 ****4567"),
        ("+16502530000", "+1 ****0000"),
        ("", "****"),
        ("+", "****"),
        ("garbage", "****"),
        ("+86 138 0013 8000", "****"),
        ("+86١٣٨٠٠١٣٨٠٠٠", "****"),
        (None, "****"),
    ],
)
def test_masks_show_no_more_than_prefix_and_last_digits(e164: Any, masked: str) -> None:
    assert mask_phone(e164) == masked


def test_every_error_code_has_its_own_message() -> None:
    with translation.override("en"):
        messages = [str(message) for message in ERROR_MESSAGES.values()]
    assert len(set(messages)) == len(messages)


def test_translations_file_covers_every_message() -> None:
    translations = load_translations()
    with translation.override("en"):
        msgids = [str(message) for message in ERROR_MESSAGES.values()]

    assert sorted(translations) == sorted(msgids)
    assert all(translations[msgid].strip() for msgid in msgids)


def test_the_error_is_a_django_validation_error_that_survives_pickling() -> None:
    error = InvalidPhone("not_mobile")
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 (our own bytes, pickled a line above)

    assert isinstance(error, ValidationError)
    assert isinstance(copy, InvalidPhone)
    assert copy.code == "not_mobile"
    assert copy.messages == error.messages


# --- properties ---------------------------------------------------------------------------------

# Mobile prefixes the bundled metadata knows; new allocations appear with library updates.
mobile_prefixes = st.sampled_from(
    [f"13{d}" for d in range(10)]
    + ["145", "147", "150", "151", "152", "153", "155", "156", "157", "158", "159", "162", "165", "166"]
    + ["167", "170", "171", "172", "173", "175", "176", "177", "178"]
    + [f"18{d}" for d in range(10)]
    + ["190", "191", "192", "193", "195", "196", "197", "198", "199"]
)
cn_mobiles = st.tuples(mobile_prefixes, st.text("0123456789", min_size=8, max_size=8)).map("".join)
FULL_WIDTH = {c: chr(ord(c) + 0xFEE0) for c in "0123456789+-"}


@given(national=cn_mobiles, data=st.data())
def test_any_way_of_typing_a_mobile_gives_the_same_e164(national: str, data: st.DataObject) -> None:
    prefix = data.draw(st.sampled_from(["", "+86", "+86 ", "0086", "0086 ", "86"]))
    separator = data.draw(st.sampled_from(["", " ", "-", "\u3000"]))
    typed = prefix + national[:3] + separator + national[3:7] + separator + national[7:]
    if data.draw(st.booleans()):
        typed = "".join(FULL_WIDTH.get(c, c) for c in typed)

    assert normalise_mobile(typed) == "+86" + national
    assert normalise_phone(typed) == "+86" + national


@given(national=cn_mobiles)
def test_a_cn_mobile_mask_hides_exactly_the_middle_four_digits(national: str) -> None:
    assert mask_phone("+86" + national) == national[:3] + "****" + national[-4:]


junk_alphabet = st.sampled_from(
    [*"0123456789+-(). #xX", "１", "９", "＋", "\u3000", "\t", "\x00", "١", "٩", "𠈌", "é"]
)


@settings(deadline=None)
@given(raw=st.one_of(st.text(alphabet=junk_alphabet, max_size=30), cn_mobiles.map(lambda n: n[:-1])))
def test_no_error_message_contains_four_characters_of_the_input(raw: str) -> None:
    for normalise in (normalise_phone, normalise_mobile):
        try:
            normalise(raw)
        except InvalidPhone as error:
            assert_no_echo(error, raw)
