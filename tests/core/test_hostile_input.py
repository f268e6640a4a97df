"""What a penetration test of the running demo found (issue 17), each through HTTP with the personas.

1. no page shows the full birth date beside the masked ID number (it would rebuild the number);
3. no 500 without a login (a NUL byte in the family link, an over-long admin username);
4. a deeply nested or huge JSON body to any staff API URL is a 400/413 in the error format;
5. staff API bodies are strict: wrong JSON types, unknown keys and non-finite numbers are refused;
6. bad filter values in any admin changelist are ignored or refused, never a 500;
7. the admin's unscoped "view on site" shortcut is gone.
The fuzzing of the public API (tests/applications/test_intake_input.py) runs here against the
staff API bodies and the admin filter parameters.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from applications.models import Application, ApplicationMember
from assist_center.identity import age_on
from assist_center.models import AuditEvent, CalendarDay
from tests import factories as f
from tests.applications.test_application_admin import Cases
from tests.applications.test_application_admin import cases as cases  # the fixture
from tests.applications.test_intake_input import json_values, valid_body
from tests.referrals.builders import open_case

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def post_raw(client: Client, url: str, raw: str | bytes, **extra: Any) -> Any:
    return client.post(url, data=raw, content_type="application/json", **extra)


def post(client: Client, url: str, data: Any, **extra: Any) -> Any:
    return post_raw(client, url, json.dumps(data), **extra)


# --- the staff API's POST endpoints, each with an in-scope object and a persona that may act -----


@dataclass
class Target:
    name: str
    url: str
    persona: str
    body: dict[str, Any]  # a valid body


@pytest.fixture
def targets(personas: Any, county_map: Any, cases: Cases) -> list[Target]:
    a1 = cases.a1
    member = a1.members.get(role=ApplicationMember.Role.APPLICANT)
    case = open_case(county_map.village_a1, actor=personas.coordinator, items=["dibao", "medical"])
    civil = case.referrals.get(department__code="civil_affairs")
    r = civil.pk

    def ref(name: str) -> str:
        return reverse(f"api-referral-{name}", args=[r])

    return [
        Target("on-behalf", reverse("api-application-on-behalf"), "assistant_a", {}),
        Target("withdraw", reverse("api-application-withdraw", args=[a1.pk]), "assistant_a", {"reason": "x"}),
        Target("reject", reverse("api-application-reject", args=[a1.pk]), "assistant_a", {"reason": "x"}),
        Target(
            "member-reveal",
            reverse("api-application-member-reveal", args=[a1.pk, member.pk]),
            "assistant_a",
            {"field": "id_number", "reason": "核对户籍信息"},
        ),
        Target("accept", ref("accept"), "dept_civil", {}),
        Target("request-info", ref("request-info"), "dept_civil", {"question": "请补充材料"}),
        Target("answer-info", ref("answer-info"), "assistant_a", {"answer": "已补充"}),
        Target("return", ref("return"), "dept_civil", {"reason_code": "not_ours", "note": ""}),
        Target("complete", ref("complete"), "dept_civil", {"outcomes": []}),
        Target("reassign", ref("reassign"), "coordinator", {"department": 1, "reason": "x"}),
        Target("extend", ref("extend"), "coordinator", {"days": 3, "reason": "x"}),
        Target("cancel", ref("cancel"), "coordinator", {"reason": "x"}),
        Target(
            "case-referral-add",
            reverse("api-case-referral-add", args=[case.pk]),
            "assistant_a",
            {"department": 1, "title": "联合走访"},
        ),
    ]


def test_the_targets_cover_every_staff_post_endpoint(targets: list[Target]) -> None:
    from django.urls import get_resolver

    from assist_center.api import ScopedAPIView

    posting = set()
    for pattern in get_resolver().url_patterns:
        for sub in getattr(pattern, "url_patterns", []):
            for p in getattr(sub, "url_patterns", [sub]):
                cls = getattr(p.callback, "cls", None)
                if cls and issubclass(cls, ScopedAPIView) and hasattr(cls, "post"):
                    posting.add(p.name)
    names = {"api-application-" + t.name for t in targets} | {"api-referral-" + t.name for t in targets}
    names |= {"api-" + t.name for t in targets}
    # The 公益谷 claim reads no body (the need's public id in the URL is all it takes), like accept;
    # tests/charity/test_claims.py and test_claim_race.py cover it.
    posting -= {"charity-need-claim"}
    assert posting <= names, posting - names


def bodied(targets: list[Target]) -> list[Target]:
    # Accepting a referral takes no body: it never reads one, so none can hurt it.
    return [t for t in targets if t.name != "accept"]


# --- 4: depth and size ------------------------------------------------------------------------

DEEP = '{"reason": ' + "[" * 20000 + "]" * 20000 + "}"
NINE_DEEP = '{"a": ' + "[" * 9 + "]" * 9 + "}"


def test_a_deeply_nested_body_is_a_400_at_every_staff_url(
    personas: Any, targets: list[Target], login: Any
) -> None:
    events, applications = AuditEvent.objects.count(), Application.objects.count()
    for t in bodied(targets):
        client = login(getattr(personas, t.persona))
        for raw in (DEEP, NINE_DEEP):
            response = post_raw(client, t.url, raw, **EN)
            assert response.status_code == 400, (t.name, response.content[:200])
            assert response.json() == {"message": "The request body is nested too deeply.", "extra": {}}
    assert Application.objects.count() == applications
    assert AuditEvent.objects.count() == events


def test_a_huge_body_is_a_413_at_every_staff_url(personas: Any, targets: list[Target], login: Any) -> None:
    huge = json.dumps({"reason": "要" * 40_000})
    for t in bodied(targets):
        response = post_raw(login(getattr(personas, t.persona)), t.url, huge)
        assert response.status_code == 413, t.name
        assert response.json() == {"message": "请求内容过大。", "extra": {}}


def test_the_public_api_refuses_deep_bodies_too(db: Any) -> None:
    for raw in (DEEP, "[" * 20000 + "]" * 20000):
        response = post_raw(Client(), reverse("api-public-applications"), raw, **EN)
        assert response.status_code == 400
        assert response.json()["message"] == "The request body is nested too deeply."


def test_a_staff_api_takes_json_only(personas: Any, targets: list[Target], login: Any) -> None:
    extend = next(t for t in targets if t.name == "extend")
    response = login(personas.coordinator).post(extend.url, {"days": "3", "reason": "x"})  # a form post
    assert response.status_code == 415


# --- 5: strict bodies -------------------------------------------------------------------------


def test_a_number_is_not_a_reason(personas: Any, cases: Cases, login: Any) -> None:
    before = cases.a1.status
    url = reverse("api-application-reject", args=[cases.a1.pk])
    response = post(login(personas.assistant_a), url, {"reason": 12345678})
    assert response.status_code == 400
    assert response.json()["extra"]["fields"] == {"reason": "必须是文本。"}
    cases.a1.refresh_from_db()
    assert cases.a1.status == before


def test_infinity_is_not_a_reason(personas: Any, county_map: Any, cases: Cases, login: Any) -> None:
    before = cases.a1.status
    withdraw = reverse("api-application-withdraw", args=[cases.a1.pk])
    for raw in ('{"reason": 1e999}', '{"reason": Infinity}', '{"reason": NaN}', '{"reason": -1e400}'):
        response = post_raw(login(personas.assistant_a), withdraw, raw)
        assert response.status_code == 400, raw
        assert response.json()["message"] == "请求内容不是有效的 JSON。"
    cases.a1.refresh_from_db()
    assert cases.a1.status == before
    case = open_case(county_map.village_a1, actor=personas.coordinator, items=["dibao"])
    referral = case.referrals.get()
    status = referral.status
    cancel = reverse("api-referral-cancel", args=[referral.pk])
    assert post_raw(login(personas.coordinator), cancel, '{"reason": 1e999}').status_code == 400
    referral.refresh_from_db()
    assert referral.status == status


@pytest.mark.parametrize(
    ("name", "body", "field", "message"),
    [
        ("extend", {"days": "3", "reason": "x"}, "days", "Must be a whole number."),
        ("extend", {"days": True, "reason": "x"}, "days", "Must be a whole number."),
        ("extend", {"days": 3.0, "reason": "x"}, "days", "Must be a whole number."),
        ("extend", {"days": 3, "reason": ["x"]}, "reason", "Must be text."),
        ("extend", {"days": 3, "reason": "x", "colour": "red"}, "colour", "Unknown field."),
        ("reassign", {"department": "1", "reason": "x"}, "department", "Must be a whole number."),
        ("return", {"reason_code": 1, "note": ""}, "reason_code", "Must be text."),
        ("request-info", {"question": {"q": "?"}}, "question", "Must be text."),
        ("complete", {"outcomes": {"item": "dibao"}}, "outcomes", "Must be a list."),
        ("complete", {"outcomes": [{"item": "dibao", "granted": "yes"}]}, "outcomes.0.granted",
         "Must be true or false."),
        ("complete", {"outcomes": [{"item": "dibao", "granted": True, "amount": False}]},
         "outcomes.0.amount", "Must be a number."),
        ("complete", {"outcomes": [{"item": "dibao", "granted": True, "x": 1}]}, "outcomes.0.x",
         "Unknown field."),
        ("member-reveal", {"field": "id_number", "reason": 12345678}, "reason", "Must be text."),
        ("case-referral-add", {"department": 1, "title": "走访", "days": "5"}, "days",
         "Must be a whole number."),
    ],
)  # fmt: skip
def test_a_wrong_json_type_is_refused_on_its_field(
    personas: Any, targets: list[Target], login: Any, name: str, body: Any, field: str, message: str
) -> None:
    t = next(t for t in targets if t.name == name)
    response = post(login(getattr(personas, t.persona)), t.url, body, **EN)
    assert response.status_code == 400, response.content
    assert response.json()["extra"]["fields"] == {field: message}


@pytest.mark.parametrize("raw", ["[]", "1", '"reason"', "null"])
def test_a_body_that_is_not_an_object_is_refused(
    personas: Any, targets: list[Target], login: Any, raw: str
) -> None:
    for t in targets:
        if t.name in ("accept", "on-behalf"):  # no body / the intake's own messages
            continue
        response = post_raw(login(getattr(personas, t.persona)), t.url, raw)
        assert response.status_code == 400, t.name
        assert response.json()["message"] == "请求内容必须是一个 JSON 对象。"


@pytest.mark.parametrize("value", ["\x00", "王\x00", "99999", "-1", "9" * 30, "𠈌", "1e999"])
def test_hostile_list_parameters_of_the_staff_api_are_a_400_or_ignored(
    personas: Any, cases: Cases, login: Any, value: str
) -> None:
    client = login(personas.coordinator)
    lists = {
        reverse("api-applications"): [
            "status",
            "township",
            "channel",
            "need",
            "possible_duplicate",
            "q",
            "page",
        ],
        reverse("api-referrals"): ["status", "colour", "department", "page"],
    }
    for url, params in lists.items():
        for param in params:
            response = client.get(url, {param: value})
            assert response.status_code in (200, 400, 404), (url, param, value)


# --- fuzz: no staff body gives a 500 ----------------------------------------------------------

staff_keys = st.sampled_from(
    ["reason", "field", "question", "answer", "reason_code", "note", "outcomes", "department", "days",
     "title", "x"]
)  # fmt: skip


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    which=st.integers(min_value=0),
    body=st.dictionaries(staff_keys, json_values, max_size=4),
    anything=json_values,
)
def test_no_staff_body_gives_a_500(
    personas: Any, targets: list[Target], county_map: Any, which: int, body: Any, anything: Any
) -> None:
    t = targets[which % len(targets)]
    client = Client(raise_request_exception=False)
    client.force_login(getattr(personas, t.persona))
    payloads = [{**t.body, **body}, anything]
    if t.name == "on-behalf":
        on_behalf = valid_body(county_map)
        on_behalf.pop("otp", None)
        payloads.append({**on_behalf, **body})
    for payload in payloads:
        response = post(client, t.url, payload)
        assert response.status_code < 500, (t.name, payload, response.content[:300])


# --- 6: admin changelist filters --------------------------------------------------------------


def filter_parameters(user: Any) -> list[tuple[str, list[str]]]:
    """(changelist URL, the query parameters its filters, date hierarchy, search and paging read)."""
    out = []
    for model, model_admin in admin.site._registry.items():
        request = RequestFactory().get("/")
        request.user = user
        if not model_admin.has_view_permission(request):
            continue
        cl = model_admin.get_changelist_instance(request)
        params = [str(p) for spec in cl.filter_specs for p in spec.expected_parameters() if p]
        if model_admin.date_hierarchy:
            params += [f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day")]
        params += ["q", "o", "p", "all"]
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        out.append((url, params))
    return out


HOSTILE = ["\x00", "a\x00b", "99999", "0", "-1", "10000-01-01", "2026-02-30", "9" * 30, "1e999", "𠈌"]


@pytest.mark.parametrize("persona", ["coordinator", "assistant_a", "dept_civil", "auditor"])
def test_no_admin_filter_value_gives_a_500(personas: Any, cases: Cases, persona: str) -> None:
    user = getattr(personas, persona)
    client = Client(raise_request_exception=False)
    client.force_login(user)
    checked = 0
    for url, params in filter_parameters(user):
        for param in params:
            for value in HOSTILE:
                response = client.get(url, {param: value})
                assert response.status_code < 500, (url, param, value)
                checked += 1
    assert checked > 50


def test_an_impossible_year_or_a_nul_ignores_the_filter(personas: Any, cases: Cases, login: Any) -> None:
    client = login(personas.coordinator)
    url = reverse("admin:assist_center_auditevent_changelist")
    for params in ({"created_at__year": "99999"}, {"created_at__gte": "99999-01-01"}, {"action": "\x00"}):
        response = client.get(url, params)
        assert response.status_code == 302 and response["Location"].endswith("?e=1"), params
    url = reverse("admin:applications_application_changelist")
    for params in ({"q": "王\x00"}, {"status": "\x00"}, {"township__id__exact": "\x00"}):
        response = client.get(url, params)
        assert response.status_code == 302 and response["Location"].endswith("?e=1"), params


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.integers(min_value=0), param=st.integers(min_value=0), value=st.text(max_size=20))
def test_no_fuzzed_admin_filter_gives_a_500(personas: Any, which: int, param: int, value: str) -> None:
    lists = filter_parameters(personas.coordinator)
    url, params = lists[which % len(lists)]
    client = Client(raise_request_exception=False)
    client.force_login(personas.coordinator)
    response = client.get(url, {params[param % len(params)]: value})
    assert response.status_code < 500, (url, params[param % len(params)], value)


# --- 3: no 500 without a login ----------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/family/%00/", "/family/a%00b/", "/family/%C0%80/", "/family/" + "A" * 80 + "/"]
)
def test_a_broken_family_link_is_a_404(db: Any, path: str) -> None:
    response = Client(raise_request_exception=False).get(path)
    assert response.status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/happiness/%00/",
        "/happiness/a%00b" + "c" * 20 + "/",
        "/happiness/%C0%80/",
        "/happiness/" + "A" * 80 + "/",
        "/happiness/" + "A" * 80 + "/statement.pdf",
    ],
)
def test_a_broken_happiness_link_is_a_404(db: Any, path: str) -> None:
    response = Client(raise_request_exception=False).get(path)
    assert response.status_code == 404


def test_the_happiness_json_refuses_hostile_bodies(db: Any) -> None:
    url = "/api/v1/public/happiness/" + "A" * 43 + "/"
    # A small body's endpoint: the deep one is refused by its size before it is parsed.
    assert post_raw(Client(), url, DEEP, **EN).status_code == 413
    for raw in ('{"phone": ' + "[" * 500 + "]" * 500 + "}", "[1]", '"x"', "{bad json"):
        response = post_raw(Client(), url, raw, **EN)
        assert response.status_code == 400, raw
    response = post_raw(Client(), url, '{"phone": ["13800138001"], "otp": {"a": 1}, "x": 1}', **EN)
    assert response.status_code == 400


def test_an_over_long_admin_username_is_a_form_error(personas: Any) -> None:
    client = Client(raise_request_exception=False)
    for username in ("a" * 300, "王" * 256, "a\x00b"):
        response = client.post(reverse("admin:login"), {"username": username, "password": "x" * 12})
        assert response.status_code == 200, username
        assert response.context["form"].errors


# --- 7: the admin shortcut --------------------------------------------------------------------


@override_settings(DEBUG=True)  # as the demo runs: a 404 then says why
def test_the_admin_shortcut_is_gone(personas: Any, cases: Cases, login: Any) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(personas.assistant_a)
    day = ContentType.objects.get_for_model(CalendarDay).pk
    application = ContentType.objects.get_for_model(Application).pk
    other_township = cases.b1.pk
    missing = Application.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1000
    answers = [
        client.get(f"/admin/r/{day}/2026-02-30/"),
        client.get(f"/admin/r/{day}/99999-01-01/"),
        client.get(f"/admin/r/{application}/{other_township}/"),
        client.get(f"/admin/r/{application}/{missing}/"),
    ]
    assert [r.status_code for r in answers] == [404, 404, 404, 404]
    for r in answers:
        assert b"get_absolute_url" not in r.content
        assert b"doesn\xe2\x80\x99t exist" not in r.content


# --- 1: the birth date beside the masked ID number --------------------------------------------

BIRTH = dt.date(1958, 4, 1)
BIRTH_SHAPES = ["1958-04-01", "1958年4月1日", "19580401", "1958-4-1", "April 1, 1958", "1958/04/01"]


def assert_no_birth_date(response: Any, where: str) -> None:
    assert response.status_code == 200, where
    body = response.content.decode()
    for shape in BIRTH_SHAPES:
        assert shape not in body, (where, shape)


def test_no_page_shows_the_birth_date_beside_the_masked_number(
    personas: Any, county_map: Any, cases: Cases, login: Any
) -> None:
    household = f.household(county_map.village_a1, members=0)
    person = f.person(household, name="周桂芳", birth=BIRTH)
    age = age_on(BIRTH, timezone.localdate())
    member = cases.a1.members.get(role=ApplicationMember.Role.APPLICANT)
    assert member.birth_date == BIRTH
    for persona in ("assistant_a", "cadre_a1", "coordinator"):
        client = login(getattr(personas, persona))
        pages = {
            "person list": reverse("admin:applications_person_changelist"),
            "person page": reverse("admin:applications_person_change", args=[person.pk]),
            "household page": reverse("admin:applications_household_change", args=[household.pk]),
            "application page": reverse("admin:applications_application_change", args=[cases.a1.pk]),
            "application list": reverse("admin:applications_application_changelist"),
            "staff API detail": reverse("api-application-detail", args=[cases.a1.pk]),
        }
        for where, url in pages.items():
            assert_no_birth_date(client.get(url), f"{persona}: {where}")
        page = client.get(reverse("admin:applications_person_change", args=[person.pk])).content.decode()
        assert person.id_number[:3] + "*" * 11 + person.id_number[-4:] in page
        assert f">{age}<" in page  # the age instead of the date


def test_the_birth_date_cannot_be_edited_in_the_person_admin(
    personas: Any, county_map: Any, login: Any
) -> None:
    household = f.household(county_map.village_a1, members=0)
    person = f.person(household, name="周桂芳", birth=BIRTH)
    url = reverse("admin:applications_person_change", args=[person.pk])
    client = login(personas.assistant_a)
    form = client.get(url).context["adminform"].form
    assert "birth_date" not in form.fields
    client.post(
        url,
        {"name": "周桂芳", "sex": person.sex, "relation": person.relation, "birth_date": "2000-01-01"},
    )
    person.refresh_from_db()
    assert person.birth_date == BIRTH
