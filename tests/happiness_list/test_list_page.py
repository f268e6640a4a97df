"""The resident's list page and its JSON: totals from the ledger, masking, the access log, problems."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.test import Client

from applications.models import AccessPurpose, HouseholdAccess, Person
from applications.services.access import household_access_record
from applications.staff_codes import staff_code
from assist_center.audit import RESIDENT
from assist_center.models import AuditEvent
from happiness_list.models import EntryProblem

from .list_builders import (
    DIBAO_TOTAL,
    HEAD_PHONE,
    TODAY,
    YEAR,
    YEAR_TOTAL,
    Seeded,
    last_code,
    open_list,
    page,
)

pytestmark = pytest.mark.django_db


def _opened(seeded: Seeded) -> Client:
    client = Client()
    with time_machine.travel(TODAY, tick=False):
        assert open_list(client, seeded.card.token).status_code == 302
    return client


def _get(client: Client, url: str) -> Any:
    with time_machine.travel(TODAY, tick=False):
        return client.get(url)


def _id_numbers(seeded: Seeded) -> list[str]:
    return [p.id_number for p in Person.objects.all() if p.id_number]


def test_the_totals_follow_the_seeded_ledger_by_kind(seeded: Seeded) -> None:
    body = _get(_opened(seeded), page(seeded.card.token)).content.decode()
    assert f"data-total>{YEAR_TOTAL}<" in body
    # 低保: ten months of 1150 from the ledger; the temporary relief; the organisations' help
    # priced only where the organisation gave a value (the kit, not the rice).
    groups = dict(re.findall(r'id="h-([a-z_]+)">.*?<span class="hl-group-total">([\d.]+) ', body, re.S))
    assert groups["dibao"] == DIBAO_TOTAL
    assert groups["temporary"] == "2000.00"
    assert groups["charity"] == "300.00"
    assert "大米 50 斤" in body and "学习用品一套" in body
    # Provider, period and status of each entry, and why the amount.
    assert "民政局" in body and f"{YEAR}-03" in body and "海游商会" in body
    assert body.count('class="hl-entry"') == 10 + 1 + 2


def test_no_id_number_phone_or_other_household_in_the_page_or_the_json(seeded: Seeded) -> None:
    client = _opened(seeded)
    body = _get(client, page(seeded.card.token)).content.decode()
    # Two minutes later (one code a minute per phone), through the public OTP endpoint.
    with time_machine.travel(TODAY, tick=False) as traveller:
        traveller.shift(120)
        sent = Client().post(
            "/api/v1/public/otp/",
            {"phone": HEAD_PHONE, "purpose": "happiness", "token": seeded.card.token},
            content_type="application/json",
        )
        assert sent.status_code == 202
        answer = Client().post(
            f"/api/v1/public/happiness/{seeded.card.token}/",
            {"phone": HEAD_PHONE, "otp": last_code(HEAD_PHONE)},
            content_type="application/json",
        )
    assert answer.status_code == 200
    data = answer.json()
    assert data["total"] == YEAR_TOTAL
    text = answer.content.decode()
    for shown in (body, text):
        for number in _id_numbers(seeded):
            assert number not in shown and number[-6:] not in shown
        assert HEAD_PHONE not in shown
        assert "王大明" not in shown and "李小花" not in shown  # masked only
        assert "777.77" not in shown and "赵其他" not in shown and "沙柳" not in shown
    relations = {m["relation"] for m in data["household"]["members"]}
    assert len(data["household"]["members"]) == 2 and len(relations) == 2
    assert all("*" in m["name"] for m in data["household"]["members"])


def test_the_access_log_shows_a_departments_read_with_its_staff_code_and_the_reading_is_logged(
    seeded: Seeded, personas: Any
) -> None:
    with time_machine.travel(TODAY, tick=False):
        household_access_record(
            actor=personas.dept_civil,
            household_id=seeded.household.pk,
            purpose=AccessPurpose.REFERRAL_BRIEF,
            department=personas.dept_civil.profile.department,
        )
    body = _get(_opened(seeded), page(seeded.card.token)).content.decode()
    section = body[body.index('id="access-log"') :]
    assert 'data-access-purpose="referral_brief"' in section
    assert staff_code(personas.dept_civil.pk) in section
    assert personas.dept_civil.username not in section
    assert personas.dept_civil.get_full_name() == "" or personas.dept_civil.get_full_name() not in section
    read = AuditEvent.objects.filter(
        action="access_log_read", subject_id=str(seeded.household.pk), actor_label=RESIDENT
    )
    assert read.exists()
    # The resident's own reading is not a row of the household's log.
    assert not HouseholdAccess.objects.filter(purpose=AccessPurpose.ACCESS_LOG_READ).exists()


def test_something_wrong_opens_a_township_task_whose_status_the_resident_sees(seeded: Seeded) -> None:
    client = _opened(seeded)
    body = _get(client, page(seeded.card.token)).content.decode()
    entry_id = int(re.search(r'name="entry" value="(\d+)"', body).group(1))  # type: ignore[union-attr]
    with time_machine.travel(TODAY, tick=False):
        r = client.post(
            page(seeded.card.token),
            {"action": "problem", "entry": entry_id, "kind": "not_received", "note": "没收到"},
        )
    assert r.status_code == 302
    problem = EntryProblem.objects.get(entry_id=entry_id)
    assert problem.household_id == seeded.household.pk and problem.due_date is not None
    body = _get(client, page(seeded.card.token)).content.decode()
    assert 'class="hl-problem hl-colour-' in body
    # Another household's entry: 404, nothing opened.
    from benefits.models import BenefitEntry

    theirs = BenefitEntry.objects.get(household=seeded.other)
    with time_machine.travel(TODAY, tick=False):
        r = client.post(
            page(seeded.card.token), {"action": "problem", "entry": theirs.pk, "kind": "not_ours"}
        )
    assert r.status_code == 404 and not EntryProblem.objects.filter(entry_id=theirs.pk).exists()


def test_earlier_years_and_the_printable_statement(seeded: Seeded) -> None:
    client = _opened(seeded)
    body = _get(client, page(seeded.card.token)).content.decode()
    assert f'href="?year={YEAR - 1}"' in body
    last_year = _get(client, page(seeded.card.token) + f"?year={YEAR - 1}").content.decode()
    assert "data-total>1150.00<" in last_year  # December's dibao
    pdf = _get(client, f"/happiness/{seeded.card.token}/statement.pdf?year={YEAR}")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    # Without the session the statement sends back to the phone check.
    r = _get(Client(), f"/happiness/{seeded.card.token}/statement.pdf")
    assert r.status_code == 302 and r["Location"] == page(seeded.card.token)


def test_another_households_token_is_the_phone_check_and_a_staff_session_cannot_rate(
    seeded: Seeded, personas: Any
) -> None:
    client = _opened(seeded)
    other = _get(client, page(seeded.other_card.token)).content.decode()
    assert 'name="phone"' in other and "data-total" not in other and "777.77" not in other
    staff = Client()
    staff.force_login(personas.assistant_a)
    r = staff.post(f"/happiness/{seeded.card.token}/rate/", {"case": "1"})
    assert r.status_code == 403


def test_the_township_window_opens_the_list_as_assisted_and_the_log_shows_it(
    seeded: Seeded, personas: Any, login: Any
) -> None:
    from .ratings_builders import closed_case

    with time_machine.travel(TODAY, tick=False):
        closed_case(seeded.household.village, assistant=personas.assistant_a, household=seeded.household)
    assistant = login(personas.assistant_a)
    with time_machine.travel(TODAY, tick=False):
        r = assistant.post(f"/staff/households/{seeded.household.pk}/happiness-open/", {"reason": "窗口代查"})
        assert r.status_code == 302 and r["Location"] == page(seeded.card.token)
        body = assistant.get(page(seeded.card.token)).content.decode()
        # The assistant cannot rate the household's cases in its place.
        refused = assistant.post(f"/happiness/{seeded.card.token}/rate/", {"case": "1"})
    assert refused.status_code == 403
    assert f"data-total>{YEAR_TOTAL}<" in body and 'class="hl-assisted"' in body
    # The closed case is listed for rating, but at the window without a form.
    assert 'class="hr-case' in body and 'class="hr-form"' not in body
    # Reading the list at the window is a row of the household's own log, under the assistant.
    row = HouseholdAccess.objects.get(household_id=seeded.household.pk, purpose=AccessPurpose.ASSISTED_LIST)
    assert row.actor_id == personas.assistant_a.pk


def test_the_page_reads_a_bounded_number_of_queries_whatever_the_entries(
    seeded: Seeded,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = _opened(seeded)
    with CaptureQueriesContext(connection) as few:
        _get(client, page(seeded.card.token))
    # Three more reliefs: the same number of queries.
    from benefits.services.ledger import benefit_record

    for n in range(3):
        benefit_record(
            actor=None,
            household_id=seeded.household.pk,
            source="referral_outcome",
            source_key=f"outcome:more-{n}",
            period=dt.date(YEAR, 6 + n, 1),
            item="temporary",
            provider_name="民政局",
            amount=Decimal("100.00"),
        )
    with CaptureQueriesContext(connection) as more:
        _get(client, page(seeded.card.token))
    assert len(more.captured_queries) == len(few.captured_queries), [
        q["sql"][:120] for q in more.captured_queries
    ]
    assert len(few.captured_queries) <= 40
