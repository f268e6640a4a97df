"""The staff admin of applications: scoped lists, masked PII, exact-ID search, history, reveal, PDF."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from applications.intake import parse_application_input
from applications.models import Application, ApplicationMember, Channel
from applications.services.submission import application_submit
from assist_center.identity import make_id_number
from assist_center.models import AuditEvent, Region
from assist_center.pii import id_number_index, mask_id_number

_seq = itertools.count(1)

CHANGELIST = "admin:applications_application_changelist"


@dataclass
class Person:
    name: str
    id_number: str
    phone: str


def new_person(name: str, *, birth: dt.date = dt.date(1958, 4, 1)) -> Person:
    n = next(_seq)
    return Person(
        name=name,
        id_number=make_id_number(region6="331099", birth=birth, seq=(2 * n + 1) % 1000),
        phone=f"1390000{n:04d}",
    )


def body(
    village: Region,
    applicant: Person,
    *,
    members: tuple[Person, ...] = (),
    supporters: tuple[Person, ...] = (),
    needs: tuple[str, ...] = ("dibao",),
) -> dict[str, Any]:
    assert village.township is not None
    return {
        "region_code": village.township.code,
        "village_code": village.code,
        "address": "幸福路8号",
        "applicant": {"name": applicant.name, "id_number": applicant.id_number, "phone": applicant.phone},
        "members": [{"name": m.name, "id_number": m.id_number, "relation": "spouse"} for m in members],
        "supporters": [
            {"name": s.name, "id_number": s.id_number, "relation": "child", "phone": s.phone}
            for s in supporters
        ],
        "needs": list(needs),
        "need_note": "",
        "consents": {"data_check": True, "share_with_organisations": False, "publish_need": False},
        "guardian_confirmed": False,
    }


def submit(assistant: Any, village: Region, applicant: Person, **kwargs: Any) -> Application:
    """An application as an assistant submits it on behalf (no SMS code needed)."""
    return application_submit(
        data=parse_application_input(body(village, applicant, **kwargs)),
        channel=Channel.ON_BEHALF,
        actor=assistant,
        otp=None,
        ip="127.0.0.1",
    )


@dataclass
class Cases:
    a1: Application
    a1_people: list[Person]
    b1: Application
    b1_people: list[Person]


@pytest.fixture
def cases(personas: Any, county_map: Any) -> Cases:
    a_people = [new_person("王秀英"), new_person("李建国"), new_person("王小明", birth=dt.date(1990, 1, 1))]
    b_people = [new_person("赵大海"), new_person("钱晓兰")]
    a1 = submit(
        personas.assistant_a,
        county_map.village_a1,
        a_people[0],
        members=(a_people[1],),
        supporters=(a_people[2],),
        needs=("dibao", "medical"),
    )
    b1 = submit(personas.assistant_b, county_map.village_b1, b_people[0], members=(b_people[1],))
    return Cases(a1=a1, a1_people=a_people, b1=b1, b1_people=b_people)


def plain_values(people: list[Person]) -> list[str]:
    return [v for p in people for v in (p.id_number, p.phone)]


# --- changelist: scope, masks, columns ------------------------------------------------------


CHANGELIST_STATUS = {
    "coordinator": 200,
    "assistant_a": 200,
    "assistant_b": 200,
    "cadre_a1": 200,
    "dept_civil": 403,
    "dept_medical": 403,
    "auditor": 403,
}


def test_changelist_shows_each_persona_only_its_scope(personas: Any, cases: Cases, login: Any) -> None:
    url = reverse(CHANGELIST)
    seen: dict[str, set[str]] = {}
    for name, expected in CHANGELIST_STATUS.items():
        response = login(getattr(personas, name)).get(url)
        assert response.status_code == expected, name
        if expected == 200:
            html = response.content.decode()
            seen[name] = {c for c in (cases.a1.receipt_code, cases.b1.receipt_code) if c in html}
    assert seen == {
        "coordinator": {cases.a1.receipt_code, cases.b1.receipt_code},
        "assistant_a": {cases.a1.receipt_code},
        "assistant_b": {cases.b1.receipt_code},
        "cadre_a1": {cases.a1.receipt_code},
    }
    for name in ("org_member_1", "anonymous"):
        response = login(getattr(personas, name)).get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_changelist_columns_show_names_masks_counts_and_the_duplicate_marker(
    personas: Any, cases: Cases, login: Any
) -> None:
    Application.objects.filter(pk=cases.a1.pk).update(possible_duplicate=True)
    html = login(personas.coordinator).get(reverse(CHANGELIST)).content.decode()
    assert "王秀英" in html and "赵大海" in html
    assert 'class="possible-duplicate"' in html
    assert html.count('class="possible-duplicate"') == 1
    # Applicant + adult member + supporter must sign: 0 of 3 so far.
    assert "0/3" in html
    for value in plain_values(cases.a1_people + cases.b1_people):
        assert value not in html


def test_changelist_query_count_does_not_grow_with_rows(
    personas: Any, county_map: Any, login: Any, django_assert_max_num_queries: Any
) -> None:
    client = login(personas.assistant_a)
    url = reverse(CHANGELIST)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    for _ in range(5):
        submit(personas.assistant_a, county_map.village_a1, new_person("孙丽"), members=(new_person("周强"),))
    small = count()
    for _ in range(25):
        submit(personas.assistant_a, county_map.village_a2, new_person("吴芳"), members=(new_person("郑伟"),))
    with django_assert_max_num_queries(small):
        assert client.get(url).status_code == 200
    assert Application.objects.count() == 30


# --- filters --------------------------------------------------------------------------------


def test_filters_by_status_township_channel_need_and_duplicate(
    personas: Any, cases: Cases, county_map: Any, login: Any
) -> None:
    Application.objects.filter(pk=cases.b1.pk).update(
        status=Application.Status.WITHDRAWN, possible_duplicate=True
    )
    client = login(personas.coordinator)
    url = reverse(CHANGELIST)

    def codes(**params: Any) -> set[str]:
        response = client.get(url, params)
        assert response.status_code == 200
        assert "?e=1" not in response.get("Location", "")
        html = response.content.decode()
        return {c for c in (cases.a1.receipt_code, cases.b1.receipt_code) if c in html}

    assert codes(status__exact="withdrawn") == {cases.b1.receipt_code}
    assert codes(township__id__exact=county_map.town_a.pk) == {cases.a1.receipt_code}
    assert codes(channel__exact="on_behalf") == {cases.a1.receipt_code, cases.b1.receipt_code}
    assert codes(channel__exact="self") == set()
    assert codes(need="medical") == {cases.a1.receipt_code}
    assert codes(need="dibao") == {cases.a1.receipt_code, cases.b1.receipt_code}
    assert codes(possible_duplicate__exact="1") == {cases.b1.receipt_code}


def test_the_township_filter_offers_only_visible_townships(personas: Any, cases: Cases, login: Any) -> None:
    # An assistant sees one township: no township column or filter, and no sibling's name.
    html = login(personas.assistant_a).get(reverse(CHANGELIST)).content.decode()
    assert "沙柳街道" not in html
    assert "column-township" not in html
    html = login(personas.coordinator).get(reverse(CHANGELIST)).content.decode()
    assert "海游街道" in html and "沙柳街道" in html


# --- search ---------------------------------------------------------------------------------


def test_exact_id_search_finds_the_application_without_the_number_in_any_url(
    personas: Any, cases: Cases, login: Any
) -> None:
    client = login(personas.assistant_a)
    supporter = cases.a1_people[2]
    # Typed as a resident reads it out: spaces and a lowercase x would be normalised anyway.
    typed = f" {supporter.id_number[:6]} {supporter.id_number[6:]} "
    response = client.post(reverse("admin:applications_application_search"), {"q": typed}, follow=True)
    assert response.status_code == 200
    paths = [url for url, _status in response.redirect_chain] + [response.request["PATH_INFO"]]
    query = response.request.get("QUERY_STRING", "")
    for value in (supporter.id_number, supporter.id_number[6:]):
        assert all(value not in p for p in paths)
        assert value not in query
    assert f"idx={id_number_index(supporter.id_number)}" in response.redirect_chain[-1][0]
    html = response.content.decode()
    assert cases.a1.receipt_code in html
    assert cases.b1.receipt_code not in html
    assert 'id="id-search-note"' in html


def test_exact_id_search_does_not_reach_another_township(personas: Any, cases: Cases, login: Any) -> None:
    response = login(personas.assistant_a).post(
        reverse("admin:applications_application_search"), {"q": cases.b1_people[1].id_number}, follow=True
    )
    html = response.content.decode()
    assert cases.b1.receipt_code not in html
    assert cases.a1.receipt_code not in html
    # Roles that see no applications at all may not search them either.
    for persona in ("dept_civil", "auditor"):
        search = login(getattr(personas, persona)).post(
            reverse("admin:applications_application_search"), {"q": cases.b1_people[1].id_number}
        )
        assert search.status_code == 403


def test_an_invalid_id_number_is_refused_without_entering_the_url(
    personas: Any, cases: Cases, login: Any
) -> None:
    wrong = cases.a1_people[0].id_number[:-1] + ("0" if cases.a1_people[0].id_number[-1] != "0" else "1")
    response = login(personas.assistant_a).post(
        reverse("admin:applications_application_search"), {"q": wrong}, follow=True
    )
    assert all(wrong not in url for url, _s in response.redirect_chain)
    assert any(
        "not a valid ID number" in str(m) or "身份证号" in str(m) for m in get_messages(response.wsgi_request)
    )


def test_an_id_number_in_the_address_bar_is_refused(personas: Any, cases: Cases, login: Any) -> None:
    response = login(personas.assistant_a).get(reverse(CHANGELIST), {"q": cases.a1_people[0].id_number})
    assert response.status_code == 200
    assert cases.a1.receipt_code not in response.content.decode()
    assert len(list(get_messages(response.wsgi_request))) == 1


def test_search_by_name_and_by_receipt_code(personas: Any, cases: Cases, login: Any) -> None:
    client = login(personas.coordinator)
    search = reverse("admin:applications_application_search")
    by_name = client.post(search, {"q": "建国"}, follow=True)
    assert "q=" in by_name.redirect_chain[-1][0]
    assert cases.a1.receipt_code in by_name.content.decode()
    assert cases.b1.receipt_code not in by_name.content.decode()
    by_code = client.post(search, {"q": cases.b1.receipt_code.lower()}, follow=True)
    assert cases.b1.receipt_code in by_code.content.decode()
    assert cases.a1.receipt_code not in by_code.content.decode()


def test_the_search_keeps_the_active_filters(personas: Any, cases: Cases, login: Any) -> None:
    response = login(personas.coordinator).post(
        reverse("admin:applications_application_search"), {"q": "王", "status__exact": "submitted"}
    )
    assert response.status_code == 302
    assert "status__exact=submitted" in response["Location"]


def test_the_search_box_says_what_it_accepts(personas: Any, cases: Cases, login: Any) -> None:
    html = login(personas.assistant_a).get(reverse(CHANGELIST)).content.decode()
    assert 'method="post" action="/admin/applications/application/search/"' in html
    assert "姓名、回执码或完整身份证号" in html or "Name, receipt code or full ID number" in html


# --- detail page ----------------------------------------------------------------------------


def change_url(application: Application) -> str:
    return reverse("admin:applications_application_change", args=[application.pk])


def test_detail_page_masks_every_id_number_and_phone(personas: Any, cases: Cases, login: Any) -> None:
    for persona in ("assistant_a", "cadre_a1", "coordinator"):
        response = login(getattr(personas, persona)).get(change_url(cases.a1))
        assert response.status_code == 200, persona
        html = response.content.decode()
        for value in plain_values(cases.a1_people):
            assert value not in html, persona
        assert mask_id_number(cases.a1_people[0].id_number) in html
        assert "139****" in html
        assert "李建国" in html


def test_detail_page_of_another_township_is_404(personas: Any, cases: Cases, login: Any) -> None:
    for persona in ("assistant_b",):
        assert login(getattr(personas, persona)).get(change_url(cases.a1)).status_code == 404
    for persona in ("dept_civil", "auditor"):
        assert login(getattr(personas, persona)).get(change_url(cases.a1)).status_code in (403, 404)
    # The cadre of another village of the same township does not see it either.
    b1_for_cadre = login(personas.cadre_a1).get(change_url(cases.b1))
    assert b1_for_cadre.status_code == 404


def test_detail_page_is_read_only_and_links_the_paper_upload_for_unsigned_members(
    personas: Any, cases: Cases, login: Any
) -> None:
    html = login(personas.assistant_a).get(change_url(cases.a1)).content.decode()
    assert 'name="_save"' not in html
    member = cases.a1.members.get(role=ApplicationMember.Role.MEMBER)
    assert reverse("staff-paper-upload", args=(cases.a1.pk, member.pk)) in html
    # The family link and its QR code, for the assistant to hand over.
    assert f"/family/{cases.a1.family_token}/" in html
    assert 'src="data:image/svg+xml;base64,' in html


def test_a_cadre_sees_neither_the_family_link_nor_the_status_buttons(
    personas: Any, cases: Cases, login: Any
) -> None:
    html = login(personas.cadre_a1).get(change_url(cases.a1)).content.decode()
    assert cases.a1.family_token not in html
    assert "/transition/" not in html


# --- status changes -------------------------------------------------------------------------


def transition_url(application: Application, to: str) -> str:
    return reverse("admin:applications_application_transition", args=[application.pk, to])


def test_the_assistant_withdraws_an_application_with_a_reason(
    personas: Any, cases: Cases, login: Any
) -> None:
    client = login(personas.assistant_a)
    page = client.get(change_url(cases.a1)).content.decode()
    assert transition_url(cases.a1, "withdrawn") in page
    assert client.get(transition_url(cases.a1, "withdrawn")).status_code == 200
    response = client.post(transition_url(cases.a1, "withdrawn"), {"reason": "申请人电话要求撤回"})
    assert response.status_code == 302
    cases.a1.refresh_from_db()
    assert cases.a1.status == Application.Status.WITHDRAWN
    event = AuditEvent.objects.get(
        action="application.status", subject_id=str(cases.a1.pk), new_values__status="withdrawn"
    )
    assert event.actor == personas.assistant_a
    assert event.reason == "申请人电话要求撤回"


def test_a_transition_needs_a_reason(personas: Any, cases: Cases, login: Any) -> None:
    before = cases.a1.status
    response = login(personas.assistant_a).post(transition_url(cases.a1, "rejected"), {"reason": ""})
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    cases.a1.refresh_from_db()
    assert cases.a1.status == before


def test_a_stale_transition_is_refused_with_a_message(personas: Any, cases: Cases, login: Any) -> None:
    client = login(personas.assistant_a)
    client.post(transition_url(cases.a1, "withdrawn"), {"reason": "申请人要求撤回"})
    response = client.post(transition_url(cases.a1, "rejected"), {"reason": "材料不实"}, follow=True)
    assert response.status_code == 200
    cases.a1.refresh_from_db()
    assert cases.a1.status == Application.Status.WITHDRAWN
    assert [m.level_tag for m in get_messages(response.wsgi_request)][-1] == "error"


def test_transitions_are_404_out_of_scope_and_403_for_a_cadre(
    personas: Any, cases: Cases, login: Any
) -> None:
    before = cases.a1.status
    url = transition_url(cases.a1, "rejected")
    assert login(personas.assistant_b).post(url, {"reason": "材料不实"}).status_code == 404
    assert login(personas.cadre_a1).post(url, {"reason": "材料不实"}).status_code == 403
    assert login(personas.assistant_a).get(transition_url(cases.a1, "decided")).status_code == 404
    cases.a1.refresh_from_db()
    assert cases.a1.status == before


# --- history --------------------------------------------------------------------------------


def test_history_shows_the_audit_events_and_the_saved_versions(
    personas: Any, cases: Cases, login: Any
) -> None:
    client = login(personas.assistant_a)
    client.post(transition_url(cases.a1, "withdrawn"), {"reason": "申请人要求撤回"})
    url = reverse("admin:applications_application_history", args=[cases.a1.pk])
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    # Issue 16: the actions read in Chinese, not as their codes.
    assert "提交申请" in html and "application.submitted" not in html
    assert "状态变更" in html and "application.status" not in html
    assert "申请人要求撤回" in html
    assert 'id="version-history"' in html
    for value in plain_values(cases.a1_people):
        assert value not in html
    assert login(personas.assistant_b).get(url).status_code == 404


# --- reveal ---------------------------------------------------------------------------------


def reveal_url(application: Application, member: ApplicationMember) -> str:
    return reverse("admin:applications_application_member_reveal", args=[application.pk, member.pk])


def test_the_assistant_reveals_a_members_id_number_with_a_reason(
    personas: Any, cases: Cases, login: Any
) -> None:
    member = cases.a1.members.get(role=ApplicationMember.Role.MEMBER)
    client = login(personas.assistant_a)
    form = client.get(reveal_url(cases.a1, member))
    assert form.status_code == 200
    assert member.id_number not in form.content.decode()
    response = client.post(reveal_url(cases.a1, member), {"field": "id_number", "reason": "核对户籍信息"})
    assert response.status_code == 200
    assert member.id_number in response.content.decode()
    event = AuditEvent.objects.get(action="pii.reveal")
    assert (event.subject_type, event.subject_id) == ("applications.applicationmember", str(member.pk))
    assert event.actor == personas.assistant_a
    assert event.reason == "核对户籍信息"
    assert event.new_values["field"] == "id_number"


def test_a_reveal_without_a_reason_shows_nothing_and_records_nothing(
    personas: Any, cases: Cases, login: Any
) -> None:
    member = cases.a1.members.get(role=ApplicationMember.Role.APPLICANT)
    response = login(personas.assistant_a).post(
        reveal_url(cases.a1, member), {"field": "phone", "reason": " "}
    )
    assert member.phone not in response.content.decode()
    assert not AuditEvent.objects.filter(action="pii.reveal").exists()


def test_reveal_is_404_out_of_scope_and_403_for_a_cadre(personas: Any, cases: Cases, login: Any) -> None:
    member = cases.a1.members.get(role=ApplicationMember.Role.APPLICANT)
    url = reveal_url(cases.a1, member)
    assert login(personas.assistant_b).get(url).status_code == 404
    assert login(personas.cadre_a1).get(url).status_code == 403
    # A member of another application under this application's URL looks missing.
    other = cases.b1.members.first()
    assert other is not None
    assert login(personas.assistant_a).get(reveal_url(cases.a1, other)).status_code == 404
    assert not AuditEvent.objects.filter(action="pii.reveal").exists()


def test_the_coordinator_may_reveal_id_numbers_but_not_phones(
    personas: Any, cases: Cases, login: Any
) -> None:
    member = cases.a1.members.get(role=ApplicationMember.Role.APPLICANT)
    client = login(personas.coordinator)
    response = client.post(reveal_url(cases.a1, member), {"field": "phone", "reason": "县级抽查核对"})
    assert member.phone not in response.content.decode()
    assert not AuditEvent.objects.filter(action="pii.reveal").exists()
    response = client.post(reveal_url(cases.a1, member), {"field": "id_number", "reason": "县级抽查核对"})
    assert member.id_number in response.content.decode()


# --- the archived PDF form ------------------------------------------------------------------

PDF = b"%PDF-1.7\n% test form\n%%EOF\n"


def with_form(application: Application) -> Application:
    Application.objects.filter(pk=application.pk).update(
        form_pdf=PDF, form_sha256=hashlib.sha256(PDF).hexdigest(), form_generated_at=dt.datetime.now(dt.UTC)
    )
    application.refresh_from_db()
    return application


def test_the_assistant_downloads_the_form_and_the_download_is_recorded(
    personas: Any, cases: Cases, login: Any
) -> None:
    application = with_form(cases.a1)
    client = login(personas.assistant_a)
    url = reverse("admin:applications_application_form", args=[application.pk])
    assert url in client.get(change_url(application)).content.decode()
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content if response.streaming else [response.content]) == PDF
    event = AuditEvent.objects.get(action="application.form_downloaded")
    assert event.actor == personas.assistant_a
    assert event.subject_id == str(application.pk)


def test_the_form_download_is_404_out_of_scope_or_without_a_form_and_403_for_a_cadre(
    personas: Any, cases: Cases, login: Any
) -> None:
    url = reverse("admin:applications_application_form", args=[cases.a1.pk])
    assert login(personas.assistant_a).get(url).status_code == 404  # not generated yet
    with_form(cases.a1)
    assert login(personas.assistant_b).get(url).status_code == 404
    cadre = login(personas.cadre_a1)
    assert url not in cadre.get(change_url(cases.a1)).content.decode()
    assert cadre.get(url).status_code == 403
    assert not AuditEvent.objects.filter(action="application.form_downloaded").exists()
