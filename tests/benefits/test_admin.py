"""The rolls, their history, the ledger, roll tasks and township contacts in the admin.

Scoped to the township (another township's row is a 404, a village cadre reads only), read-only
where the rows are history, every code shown by its Chinese name, a changelist in a dozen queries
whatever its length, and the two actions (an enrolment's state, a roll task's close) through the
services.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from applications.models import Household
from assist_center.models import AuditEvent
from benefits.models import BenefitEntry, Enrolment, EnrolmentEvent, RollTask, TownshipContact
from benefits.services.enrolments import enrolment_begin_exit, enrolment_start
from benefits.services.ledger import ledger_write_month
from tests import factories as f

ADMINS = ("enrolment", "enrolmentevent", "benefitentry", "rolltask", "townshipcontact")


def changelist(model: str) -> str:
    return reverse(f"admin:benefits_{model}_changelist")


def change(model: str, pk: int) -> str:
    return reverse(f"admin:benefits_{model}_change", args=[pk])


def state_url(enrolment: Enrolment) -> str:
    return reverse("admin:benefits_enrolment_state", args=[enrolment.pk])


def resolve_url(task: RollTask) -> str:
    return reverse("admin:benefits_rolltask_resolve", args=[task.pk])


def _enrol(household: Household, item: str, amount: str, actor: Any) -> Enrolment:
    return enrolment_start(
        actor=actor,
        household_id=household.pk,
        item=item,
        since=dt.date(2026, 1, 1),
        source=Enrolment.Source.ASSISTANT_ENTRY,
        monthly_amount=Decimal(amount),
        reason="县民政局存量名单核对",
    )


def _task(household: Household, enrolment: Enrolment | None, n: int) -> RollTask:
    return RollTask.objects.create(
        township=household.township,
        household=household,
        enrolment=enrolment,
        kind=RollTask.Kind.AMOUNT_DIFFERS,
        item="dibao",
        department_record={
            "record_id": f"R{n}",
            "item": "dibao",
            "status": "在册",
            "monthly_amount": "900.00",
        },
        roll_record={
            "enrolment": enrolment.pk if enrolment else None,
            "item": "dibao",
            "state": "active",
            "monthly_amount": "850.00",
            "source": "assistant_entry",
        },
        due_date=dt.date(2026, 4, 1),
        dedupe_key=f"test:{n}",
    )


@pytest.fixture
def rolls(county_map: Any, personas: Any) -> dict[str, Any]:
    """Four households of township A and one of township B, each on two items, with a ledger."""
    homes_a = [
        f.household(county_map.village_a1 if i % 2 else county_map.village_a2, members=2) for i in range(4)
    ]
    home_b = f.household(county_map.village_b1, members=2)
    enrolments: dict[int, list[Enrolment]] = {}
    for home in [*homes_a, home_b]:
        actor = personas.assistant_b if home is home_b else personas.assistant_a
        enrolments[home.pk] = [
            _enrol(home, "dibao", "850.00", actor),
            _enrol(home, "utility_relief", "30.00", actor),
        ]
    for month in (dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)):
        ledger_write_month(month=month)
    tasks = [_task(h, enrolments[h.pk][0], i) for i, h in enumerate([*homes_a, home_b])]
    for i, town in enumerate((county_map.town_a, county_map.town_b)):
        TownshipContact.objects.create(
            township=town, label=f"值班{i}", phone=f"1380000800{i}", phone_hash=f"h{i}"
        )
    return {"a": homes_a, "b": home_b, "enrolments": enrolments, "tasks": tasks}


@pytest.mark.parametrize("model", ADMINS)
def test_each_changelist_costs_at_most_twelve_queries_whatever_its_length(
    rolls: dict[str, Any], personas: Any, login: Any, model: str, django_assert_max_num_queries: Any
) -> None:
    for persona in (personas.assistant_a, personas.coordinator):
        client = login(persona)
        with django_assert_max_num_queries(12):
            response = client.get(changelist(model))
        assert response.status_code == 200


def test_the_rolls_show_every_code_by_its_chinese_name_and_only_the_townships_rows(
    rolls: dict[str, Any], personas: Any, login: Any
) -> None:
    html = login(personas.assistant_a).get(changelist("enrolment")).content.decode()
    assert html.count('class="action-checkbox"') == 0  # no actions: nothing to delete or bulk-edit
    assert "最低生活保障" in html and "电费等生活费用减免" in html
    assert "在册" in html  # the state, by its name
    for home in rolls["a"]:
        assert reverse("staff-household", args=[home.pk]) in html
    assert reverse("staff-household", args=[rolls["b"].pk]) not in html
    ledger = login(personas.assistant_a).get(changelist("benefitentry")).content.decode()
    assert "最低生活保障" in ledger and "850.00" in ledger
    assert reverse("staff-household", args=[rolls["b"].pk]) not in ledger
    # Filters by item name, not by code.
    filtered = login(personas.assistant_a).get(changelist("benefitentry") + "?item=utility_relief")
    assert "30.00" in filtered.content.decode() and "850.00" not in filtered.content.decode()


def test_history_and_ledger_cannot_be_added_changed_or_deleted_from_the_admin(
    rolls: dict[str, Any], personas: Any, login: Any
) -> None:
    enrolment = rolls["enrolments"][rolls["a"][0].pk][0]
    entry = BenefitEntry.objects.filter(household=rolls["a"][0]).first()
    event = EnrolmentEvent.objects.filter(enrolment=enrolment).first()
    assert entry is not None and event is not None
    for client in (login(personas.coordinator), login(personas.assistant_a)):
        for model, pk in (
            ("enrolment", enrolment.pk),
            ("benefitentry", entry.pk),
            ("enrolmentevent", event.pk),
        ):
            assert client.get(reverse(f"admin:benefits_{model}_add")).status_code == 403
            assert client.get(reverse(f"admin:benefits_{model}_delete", args=[pk])).status_code == 403
            page = client.get(change(model, pk))
            assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
            assert client.post(change(model, pk), {"reason": "改"}).status_code == 403


def test_another_townships_rows_are_404_and_a_cadre_reads_only(
    rolls: dict[str, Any], personas: Any, login: Any
) -> None:
    theirs = rolls["enrolments"][rolls["b"].pk][0]
    their_task = rolls["tasks"][-1]
    their_entry = BenefitEntry.objects.filter(household=rolls["b"]).first()
    their_event = EnrolmentEvent.objects.filter(enrolment=theirs).first()
    assert their_entry is not None and their_event is not None
    client = login(personas.assistant_a)
    for url in (
        change("enrolment", theirs.pk),
        state_url(theirs),
        change("rolltask", their_task.pk),
        resolve_url(their_task),
        change("benefitentry", their_entry.pk),
        change("enrolmentevent", their_event.pk),
        change("townshipcontact", TownshipContact.objects.get(township=rolls["b"].township).pk),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(state_url(theirs), {"action": "end"}).status_code == 404
    cadre = login(personas.cadre_a1)
    mine = rolls["enrolments"][rolls["a"][1].pk][0]  # village a1
    assert cadre.get(change("enrolment", mine.pk)).status_code == 200
    assert cadre.get(state_url(mine)).status_code == 403
    assert cadre.get(resolve_url(rolls["tasks"][1])).status_code == 403
    assert cadre.get(changelist("townshipcontact")).status_code == 403
    for persona in (personas.dept_civil, personas.auditor):
        assert login(persona).get(changelist("enrolment")).status_code == 403


def test_the_assistant_starts_a_gradual_exit_through_the_service_with_a_reason(
    rolls: dict[str, Any], personas: Any, login: Any
) -> None:
    enrolment = rolls["enrolments"][rolls["a"][0].pk][0]
    client = login(personas.assistant_a)
    page = client.get(state_url(enrolment)).content.decode()
    assert "启动渐退" in page and 'value="begin_exit"' in page
    assert 'value="revoke_exit"' not in page  # not open to an active enrolment
    missing = client.post(state_url(enrolment), {"action": "begin_exit", "reason": "家庭收入已超标准"})
    assert missing.status_code == 200 and 'value="begin_exit"' in missing.content.decode()
    grace_end = dt.date.today() + dt.timedelta(days=90)
    response = client.post(
        state_url(enrolment),
        {"action": "begin_exit", "grace_end": grace_end.isoformat(), "reason": "家庭收入已超标准"},
    )
    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert enrolment.state == Enrolment.State.GRADUAL_EXIT and enrolment.grace_end == grace_end
    event = EnrolmentEvent.objects.filter(enrolment=enrolment).latest("id")
    assert event.kind == EnrolmentEvent.Kind.EXIT_BEGUN and event.reason == "家庭收入已超标准"
    assert AuditEvent.objects.filter(action="enrolment.exit_begun", subject_id=str(enrolment.pk)).exists()
    # And ends it, with why.
    response = client.post(
        state_url(enrolment),
        {"action": "end", "ended_on": "2026-03-31", "why": "no_longer_eligible", "reason": "核实后终止"},
    )
    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert enrolment.state == Enrolment.State.ENDED and enrolment.end_reason == "no_longer_eligible"


def test_a_service_refusal_is_shown_beside_the_form(rolls: dict[str, Any], personas: Any, login: Any) -> None:
    enrolment = rolls["enrolments"][rolls["a"][0].pk][0]
    response = login(personas.assistant_a).post(
        state_url(enrolment), {"action": "begin_exit", "grace_end": "2020-01-01", "reason": "收入超标"}
    )
    assert response.status_code == 200
    assert Enrolment.objects.get(pk=enrolment.pk).state == Enrolment.State.ACTIVE


def test_a_roll_task_shows_both_records_and_closes_once_through_the_service(
    rolls: dict[str, Any], personas: Any, login: Any
) -> None:
    task = rolls["tasks"][0]
    client = login(personas.assistant_a)
    page = client.get(resolve_url(task)).content.decode()
    assert 'id="roll-task-records"' in page and "900.00" in page and "850.00" in page
    assert "最低生活保障" in page
    empty = client.post(resolve_url(task), {"note": "  "})
    assert empty.status_code == 200
    assert RollTask.objects.get(pk=task.pk).status == RollTask.Status.OPEN
    response = client.post(resolve_url(task), {"note": "已与县民政局核对，按部门名单金额调整"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == RollTask.Status.DONE and task.resolved_by == personas.assistant_a
    assert AuditEvent.objects.filter(action="roll_task.resolve", subject_id=str(task.pk)).exists()
    # The second close of the same task is refused with a message, and changes nothing.
    again = client.post(resolve_url(task), {"note": "再次处理"})
    assert again.status_code == 302 and again["Location"] == changelist("rolltask")
    task.refresh_from_db()
    assert task.resolution_note == "已与县民政局核对，按部门名单金额调整"


def test_the_assistant_adds_a_township_contact_masked_and_unaudited_in_value(
    rolls: dict[str, Any], county_map: Any, personas: Any, login: Any
) -> None:
    client = login(personas.assistant_a)
    add = reverse("admin:benefits_townshipcontact_add")
    page = client.get(add).content.decode()
    assert county_map.town_b.name not in page  # the township choices are the assistant's own
    response = client.post(
        add, {"township": county_map.town_a.pk, "label": "民政办", "phone": "139 0000 1234", "active": "on"}
    )
    assert response.status_code == 302
    contact = TownshipContact.objects.get(label="民政办")
    assert contact.phone == "+8613900001234" or contact.phone.endswith("13900001234")
    html = client.get(changelist("townshipcontact")).content.decode()
    assert "13900001234" not in html and "139****1234" in html
    event = AuditEvent.objects.get(action="admin.townshipcontact.add")
    assert "13900001234" not in str(event.new_values)
    bad = client.post(add, {"township": county_map.town_a.pk, "label": "错", "phone": "12345"})
    assert bad.status_code == 200 and not TownshipContact.objects.filter(label="错").exists()


def test_the_history_list_names_the_move_and_links_the_household_page(
    rolls: dict[str, Any], personas: Any, login: Any
) -> None:
    enrolment_begin_exit(
        actor=personas.assistant_a,
        enrolment_id=rolls["enrolments"][rolls["a"][0].pk][1].pk,
        grace_end=dt.date.today() + dt.timedelta(days=30),
        reason="收入超标",
    )
    html = login(personas.assistant_a).get(changelist("enrolmentevent")).content.decode()
    assert "已启动渐退" in html
    assert reverse("staff-household", args=[rolls["a"][0].pk]) in html
