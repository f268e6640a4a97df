"""The intake contract: every bad input gets a 400 with a Chinese message on its field, never a 500.

Also the shared helpers of the intake-core tests (bodies, SMS delivery, codes read from the test
SMS backend), imported by the other test modules.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from applications.intake import MAX_MEMBERS, MAX_SUPPORTERS, parse_application_input
from applications.models import Application
from assist_center.errors import ApplicationError
from assist_center.identity import ERROR_MESSAGES as ID_ERROR_MESSAGES
from assist_center.identity import InvalidIdNumber, make_id_number, parse_id_number
from assist_center.models import SmsMessage
from assist_center.sms import backends
from assist_center.sms.services import sms_deliver

URL = "/api/v1/public/applications/"
APPLICANT_PHONE = "13800138000"
SUPPORTER_PHONE = "13900139000"

_seq = itertools.count(1)


def id_for(birth: dt.date = dt.date(1960, 3, 1)) -> str:
    return make_id_number(region6="331099", birth=birth, seq=next(_seq) % 1000)


def child_birth() -> dt.date:
    today = dt.date.today()
    return dt.date(today.year - 8, 1, 1)


def valid_body(county_map: Any, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "region_code": county_map.town_a.code,
        "village_code": county_map.village_a1.code,
        "address": "上叶村幸福路1号",
        "applicant": {"name": "张三", "id_number": id_for(), "phone": APPLICANT_PHONE},
        "members": [{"name": "李四", "id_number": id_for(dt.date(1962, 5, 5)), "relation": "spouse"}],
        "supporters": [
            {
                "name": "张小明",
                "id_number": id_for(dt.date(1988, 7, 7)),
                "relation": "child",
                "phone": SUPPORTER_PHONE,
            }
        ],
        "needs": ["dibao", "medical"],
        "need_note": "",
        "consents": {"data_check": True, "share_with_organisations": False, "publish_need": False},
        "guardian_confirmed": False,
    }
    body.update(overrides)
    return body


def post_json(client: Client, url: str, body: Any, **headers: Any) -> Any:
    return client.post(
        url, data=json.dumps(body, ensure_ascii=False), content_type="application/json", **headers
    )


def deliver_sms() -> None:
    """What a worker does once the outbox hands it the tasks: send every pending SMS."""
    for sms_id in SmsMessage.objects.filter(status=SmsMessage.Status.PENDING).values_list("pk", flat=True):
        sms_deliver(sms_id=sms_id)


def last_code(phone_e164: str = "+86" + APPLICANT_PHONE) -> str:
    deliver_sms()
    codes = [m.params["code"] for m in backends.outbox if m.template == "otp" and m.to == phone_e164]
    assert codes, "no SMS code was sent"
    return codes[-1]


def request_code(client: Client, phone: str = APPLICANT_PHONE, purpose: str = "apply", **headers: Any) -> str:
    response = post_json(client, "/api/v1/public/otp/", {"phone": phone, "purpose": purpose}, **headers)
    assert response.status_code == 202, response.content
    return last_code(phone if phone.startswith("+") else "+86" + phone)


def fields_of(response: Any) -> dict[str, str]:
    assert response.status_code == 400, (response.status_code, response.content)
    data = response.json()
    assert set(data) == {"message", "extra"}
    return dict(data["extra"]["fields"])


# --- ID numbers: one message per reason, never echoing the number --------------------------------


def _with_check(body17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body17 + "10X98765432"[sum(int(c) * w for c, w in zip(body17, weights, strict=True)) % 11]


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("11010519900101001", "length"),
        ("1101051990010100 A", "characters"),
        ("110105199001010011", "checksum"),
        (_with_check("11010519901301001"), "date"),
        (_with_check("01010519900101001"), "province"),
        (_with_check("11010518990101001"), "too_old"),
        (_with_check("11010520990101001"), "future"),
    ],
)
def test_each_wrong_id_number_gets_its_own_message_on_its_path(
    county_map: Any, number: str, reason: str
) -> None:
    with pytest.raises(InvalidIdNumber) as exc:
        parse_id_number(number)
    assert exc.value.code == reason  # the case really is the reason it is named for
    body = valid_body(county_map)
    body["members"][0]["id_number"] = number
    fields = fields_of(post_json(Client(), URL, body))
    expected = str(ID_ERROR_MESSAGES[reason])
    assert fields == {"members.0.id_number": expected}
    assert any("\u4e00" <= c <= "\u9fff" for c in expected), "the message is in Chinese"
    assert number.replace(" ", "") not in json.dumps(fields, ensure_ascii=False)


def test_id_reasons_have_distinct_chinese_messages(county_map: Any) -> None:
    numbers = {
        "length": "11010519900101001",
        "characters": "11010519900101001A",
        "checksum": "110105199001010011",
        "date": _with_check("11010519901301001"),
        "province": _with_check("01010519900101001"),
        "too_old": _with_check("11010518990101001"),
        "future": _with_check("11010520990101001"),
    }
    messages = {}
    for reason, number in numbers.items():
        body = valid_body(county_map)
        body["applicant"]["id_number"] = number
        messages[reason] = fields_of(post_json(Client(), URL, body))["applicant.id_number"]
    assert len(set(messages.values())) == len(numbers), messages
    assert messages["checksum"] == "身份证号码校验位不正确，请检查是否输错。"
    assert messages["province"] == "身份证号码开头的省级行政区代码无效。"


def test_same_person_twice_is_refused_on_the_second_occurrence(county_map: Any) -> None:
    body = valid_body(county_map)
    body["supporters"][0]["id_number"] = body["members"][0]["id_number"]
    assert fields_of(post_json(Client(), URL, body)) == {
        "supporters.0.id_number": "此人已在申请中填写过（同一身份证号码不能重复）。"
    }


def test_same_person_typed_differently_is_still_the_same_person(county_map: Any) -> None:
    body = valid_body(county_map)
    number = body["applicant"]["id_number"]
    # Full-width digits and spaces from a phone keyboard: the same number once normalised.
    body["members"][0]["id_number"] = " ".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in number)
    assert fields_of(post_json(Client(), URL, body)) == {
        "members.0.id_number": "此人已在申请中填写过（同一身份证号码不能重复）。"
    }


@pytest.mark.parametrize("phone", ["0576-83312345", "057683312345", "+8657683312345"])
def test_a_landline_is_refused_as_a_supporters_phone(county_map: Any, phone: str) -> None:
    body = valid_body(county_map)
    body["supporters"][0]["phone"] = phone
    assert fields_of(post_json(Client(), URL, body)) == {
        "supporters.0.phone": "请填写手机号码（不能是固定电话）。"
    }


def test_a_supporter_needs_a_phone(county_map: Any) -> None:
    body = valid_body(county_map)
    del body["supporters"][0]["phone"]
    assert fields_of(post_json(Client(), URL, body)) == {"supporters.0.phone": "请填写手机号码。"}


def test_a_landline_is_refused_as_the_applicants_phone(county_map: Any) -> None:
    body = valid_body(county_map)
    body["applicant"]["phone"] = "0576-83312345"
    assert fields_of(post_json(Client(), URL, body)) == {
        "applicant.phone": "请填写手机号码（不能是固定电话）。"
    }


def test_a_child_under_14_needs_the_guardian_confirmation(county_map: Any) -> None:
    body = valid_body(county_map)
    body["members"].append({"name": "张小小", "id_number": id_for(child_birth()), "relation": "grandchild"})
    fields = fields_of(post_json(Client(), URL, body))
    assert fields == {
        "guardian_confirmed": "家庭成员中有未满 14 周岁的未成年人：请确认您是其监护人或已取得监护人同意。"
    }
    body["guardian_confirmed"] = True
    data = parse_application_input(body)
    assert data.guardian_confirmed is True


def test_too_many_members_and_supporters(county_map: Any) -> None:
    body = valid_body(county_map)
    body["members"] = [
        {"name": f"成员{i}", "id_number": id_for(dt.date(1970, 1, 1 + i)), "relation": "other"}
        for i in range(MAX_MEMBERS + 1)
    ]
    body["supporters"] = [
        {"name": f"赡养人{i}", "id_number": id_for(dt.date(1980, 1, 1 + i)), "relation": "child",
         "phone": f"1390013{9000 + i}"}
        for i in range(MAX_SUPPORTERS + 1)
    ]  # fmt: skip
    assert fields_of(post_json(Client(), URL, body)) == {
        "members": "除申请人外，家庭成员最多填写 10 人。",
        "supporters": "赡养（抚养、扶养）人最多填写 6 人。",
    }


def test_exactly_the_maximum_is_accepted(county_map: Any) -> None:
    body = valid_body(county_map)
    body["members"] = [
        {"name": f"成员{i}", "id_number": id_for(dt.date(1970, 1, 1 + i)), "relation": "other"}
        for i in range(MAX_MEMBERS)
    ]
    data = parse_application_input(body)
    assert len(data.members) == MAX_MEMBERS


def test_unknown_keys_are_refused_at_every_level(county_map: Any) -> None:
    body = valid_body(county_map, is_admin=True)
    body["applicant"]["relation"] = "self"
    body["members"][0]["phone"] = "13700137000"
    body["consents"]["marketing"] = True
    fields = fields_of(post_json(Client(), URL, body))
    assert fields == {
        "is_admin": "未知字段。",
        "applicant.relation": "未知字段。",
        "members.0.phone": "未知字段。",
        "consents.marketing": "未知字段。",
    }


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("address", 12, "必须是文本。"),
        ("address", ["上叶村"], "必须是文本。"),
        ("guardian_confirmed", "false", "必须是 true 或 false。"),
        ("needs", "dibao", "必须是列表。"),
        ("members", {"name": "李四"}, "必须是列表。"),
        ("applicant", "张三", "必须是对象。"),
        ("consents", True, "必须是对象。"),
        ("consents.data_check", 1, "必须是 true 或 false。"),
        ("applicant.name", 42, "必须是文本。"),
        ("applicant.id_number", 110105199001010010, "必须是文本。"),
        ("applicant.phone", 13800138000, "必须是文本。"),
        ("members.0.relation", None, "该字段是必填项。"),
        ("members.0.relation", "self", "请从列出的关系中选择。"),
        ("supporters.0.relation", "grandparent", "请从列出的关系中选择。"),
        ("needs", ["dibao", "wheelchair"], "请从列出的救助事项中选择需求。"),
        ("needs", ["dibao", "dibao"], "每项需求只能选择一次。"),
        ("needs", [["dibao"]], "请从列出的救助事项中选择需求。"),
        ("region_code", "331099999000", "救助码所属地区不存在。"),
        ("village_code", "331099102201", "请选择救助码所属地区内的村（社区）。"),
        ("consents.data_check", False, "需要您同意数据核对，否则无法办理申请。"),
        ("address", "", "该字段是必填项。"),
        ("address", "路" * 201, "地址最多 200 个字。"),
        ("applicant.name", "张" * 51, "姓名最多 50 个字。"),
        ("need_note", "要" * 1001, "其他需求最多 1000 个字。"),
    ],
)
def test_wrong_types_and_values_get_a_message_on_their_path(
    county_map: Any, path: str, value: Any, message: str
) -> None:
    body = valid_body(county_map)
    target: Any = body
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[last] = value
    fields = fields_of(post_json(Client(), URL, body))
    assert fields.get(path) == message, fields


def test_a_need_or_a_note_is_required(county_map: Any) -> None:
    body = valid_body(county_map, needs=[], need_note="  ")
    assert fields_of(post_json(Client(), URL, body)) == {"needs": "请至少选择一项需求，或写明您的其他需求。"}
    body["need_note"] = "家里房子漏雨"
    assert parse_application_input(body).need_note == "家里房子漏雨"


@pytest.mark.parametrize("path", ["applicant.name", "address", "need_note", "applicant.id_number"])
def test_nul_bytes_are_refused(county_map: Any, path: str) -> None:
    body = valid_body(county_map)
    if path.startswith("applicant."):
        body["applicant"][path.split(".")[1]] = "张\x00三"
    else:
        body[path] = "幸福路\x001号"
    fields = fields_of(post_json(Client(), URL, body))
    assert path in fields
    assert "\x00" not in json.dumps(fields)


def test_a_lone_surrogate_is_refused_not_a_500(county_map: Any) -> None:
    raw = json.dumps(valid_body(county_map, address="ADDR")).replace('"ADDR"', '"\\ud800"')
    response = Client().post(URL, data=raw, content_type="application/json")
    assert fields_of(response) == {"address": "含有控制字符或无效字符。"}
    raw_key = json.dumps(valid_body(county_map)).replace('"guardian_confirmed"', '"\\udcff"')
    response = Client().post(URL, data=raw_key, content_type="application/json")
    assert response.status_code == 400
    assert "\\udcff" in response.json()["extra"]["fields"]


def test_rare_characters_and_middle_dots_are_accepted_in_names(county_map: Any) -> None:
    body = valid_body(county_map)
    body["applicant"]["name"] = "𠈌明"
    body["members"][0]["name"] = "买买提·艾力"
    data = parse_application_input(body)
    assert data.applicant.name == "𠈌明"
    assert data.members[0].name == "买买提·艾力"


def test_markup_and_sql_are_plain_text(county_map: Any) -> None:
    body = valid_body(county_map, address="<script>alert(1)</script>", need_note="'; DROP TABLE--")
    body["needs"] = []
    data = parse_application_input(body)
    assert data.address == "<script>alert(1)</script>"
    assert data.need_note == "'; DROP TABLE--"


def test_values_are_normalised(county_map: Any) -> None:
    body = valid_body(county_map)
    number = make_id_number(region6="110105", birth=dt.date(1990, 1, 1), seq=7)
    assert number.endswith("X")
    body["applicant"]["id_number"] = number.lower()[:-1] + "x"
    body["applicant"]["phone"] = "138 0013 8000"
    data = parse_application_input(body)
    assert data.applicant.id_number == number
    assert data.applicant.phone == "+8613800138000"
    assert data.applicant.relation == "self"
    assert data.supporters[0].phone == "+8613900139000"


def test_a_village_of_the_county_is_within_the_county_code(county_map: Any) -> None:
    body = valid_body(county_map, region_code=county_map.county.code, village_code=county_map.village_b1.code)
    assert parse_application_input(body).village_code == county_map.village_b1.code
    body = valid_body(
        county_map, region_code=county_map.village_a2.code, village_code=county_map.village_a2.code
    )
    assert parse_application_input(body).village_code == county_map.village_a2.code
    body = valid_body(
        county_map, region_code=county_map.village_a2.code, village_code=county_map.village_a1.code
    )
    with pytest.raises(ApplicationError) as exc:
        parse_application_input(body)
    assert set(exc.value.extra["fields"]) == {"village_code"}


# --- the body itself ------------------------------------------------------------------------------


def test_an_oversized_body_is_refused_before_parsing(county_map: Any) -> None:
    body = valid_body(county_map, need_note="x" * (70 * 1024))
    response = post_json(Client(), URL, body)
    assert response.status_code == 413
    assert response.json() == {"message": "请求内容过大。", "extra": {}}


def test_a_body_over_the_django_limit_is_still_a_clean_413(db: Any) -> None:
    response = Client().post(URL, data="[" * (3 * 1024 * 1024), content_type="application/json")
    assert response.status_code == 413


# Deeply nested bodies: tests/core/test_hostile_input.py.
@pytest.mark.parametrize("raw", ["{", "not json", "", '{"a": 1,}', "\xff\xfe"])
def test_malformed_json_is_a_400(db: Any, raw: str) -> None:
    response = Client().post(URL, data=raw.encode("latin-1"), content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"message": "请求内容不是有效的 JSON。", "extra": {}}


@pytest.mark.parametrize("raw", ["[]", "1", '"text"', "null", "true"])
def test_json_that_is_not_an_object_is_a_400(db: Any, raw: str) -> None:
    response = Client().post(URL, data=raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["message"] == "请求内容必须是一个 JSON 对象。"


def test_messages_follow_accept_language(county_map: Any) -> None:
    body = valid_body(county_map)
    body["members"][0]["id_number"] = "110105199001010011"
    response = post_json(Client(), URL, body, HTTP_ACCEPT_LANGUAGE="en")
    assert fields_of(response) == {
        "members.0.id_number": "The ID number's check character is wrong; please look for a typing mistake."
    }


# --- fuzz: nothing ever gives a 500 -------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
known_keys = st.sampled_from(
    ["region_code", "village_code", "address", "applicant", "members", "supporters", "needs", "need_note",
     "consents", "guardian_confirmed", "otp"]
)  # fmt: skip


@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(overrides=st.dictionaries(known_keys, json_values, max_size=5), anything=json_values)
def test_no_body_gives_a_500(county_map: Any, overrides: dict[str, Any], anything: Any) -> None:
    client = Client(raise_request_exception=False)
    body = valid_body(county_map)
    body.update(overrides)
    for payload in (body, anything):
        response = post_json(client, URL, payload)
        assert response.status_code < 500, response.content
        assert response.status_code != 201 or Application.objects.exists()
    for url in ("/api/v1/public/otp/", "/api/v1/public/applications/ABCDEFGHJK/status/"):
        response = post_json(client, url, anything)
        assert response.status_code < 500, response.content


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(person=st.dictionaries(st.sampled_from(["name", "id_number", "relation", "phone", "x"]), json_values))
def test_no_person_gives_a_500(county_map: Any, person: dict[str, Any]) -> None:
    client = Client(raise_request_exception=False)
    for key in ("applicant", "members", "supporters"):
        body = valid_body(county_map)
        body[key] = person if key == "applicant" else [person]
        response = post_json(client, URL, body)
        assert response.status_code < 500, response.content
