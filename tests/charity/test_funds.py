"""The fund ledger: append-only in the database, corrections, donor consent, overdue, downloads."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import InternalError, connection, transaction
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from assist_center.errors import ApplicationError, ConflictError
from assist_center.models import AuditEvent
from charity.funds_selectors import overdue_pledges, projects_with_undisclosed_leftover, totals
from charity.funds_services import fund_entry_correct, fund_entry_record
from charity.models import FundEntry, Organisation, Project
from charity.projects_services import project_move

from . import funds_builders as b

pytestmark = pytest.mark.django_db


def _org(personas: Any, n: int = 1) -> Organisation:
    return Organisation.objects.get(members=personas.org_member_1 if n == 1 else personas.org_member_2)


def _pledge(personas: Any, **kw: Any) -> FundEntry:
    today = timezone.localdate()
    args: dict[str, Any] = {
        "actor": personas.coordinator,
        "organisation": _org(personas),
        "kind": FundEntry.Kind.PLEDGE,
        "amount": "10000",
        "occurred_on": today - dt.timedelta(days=20),
        "due_on": today + dt.timedelta(days=10),
        "donor_name": "王建国",
    }
    args.update(kw)
    return fund_entry_record(**args)


def test_the_database_refuses_update_and_delete_of_a_ledger_entry(personas: Any) -> None:
    entry = _pledge(personas)
    with pytest.raises(InternalError, match="append-only"), transaction.atomic():
        FundEntry.objects.filter(pk=entry.pk).update(amount=Decimal("1"))
    with pytest.raises(InternalError, match="append-only"), transaction.atomic():
        FundEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(InternalError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE charity_fundentry SET amount = 0 WHERE id = %s", [entry.pk])
    entry.refresh_from_db()
    assert entry.amount == Decimal("10000.00")


def test_a_correction_replaces_the_entry_in_totals_and_keeps_both_lines(personas: Any) -> None:
    org = _org(personas)
    wrong = fund_entry_record(
        actor=personas.org_member_1,
        organisation=org,
        kind=FundEntry.Kind.RECEIPT,
        amount="5000",
        occurred_on=timezone.localdate(),
        donor_name="李",
    )
    assert totals().received == Decimal("5000.00")
    fixed = fund_entry_correct(
        actor=personas.org_member_1, entry=wrong, amount="500", correction_note="多录了一个零"
    )
    assert fixed.corrects_id == wrong.pk and fixed.correction_note == "多录了一个零"
    assert totals().received == Decimal("500.00")
    assert FundEntry.objects.count() == 2
    assert AuditEvent.objects.filter(action="charity.fund_entry.correct", reason="多录了一个零").count() == 1
    # The same entry cannot be corrected twice: correct the correction instead.
    with pytest.raises(ConflictError):
        fund_entry_correct(actor=personas.org_member_1, entry=wrong, amount="600", correction_note="再改")
    again = fund_entry_correct(actor=personas.org_member_1, entry=fixed, amount="600", correction_note="再改")
    assert totals().received == Decimal("600.00")
    page = Client().get("/charity/funds/").content.decode()
    assert "多录了一个零" in page and "此记录已被更正" in page and again.public_id in page


def test_a_correction_needs_a_note(personas: Any) -> None:
    entry = _pledge(personas)
    with pytest.raises(ApplicationError) as exc:
        fund_entry_correct(actor=personas.coordinator, entry=entry, amount="1", correction_note="  ")
    assert exc.value.extra["fields"]["correction_note"]


def test_donor_names_show_only_with_consent(personas: Any) -> None:
    _pledge(personas, donor_name="王建国", donor_consents_to_name=False)
    _pledge(personas, donor_name="张秀英", donor_consents_to_name=True)
    page = Client().get("/charity/funds/").content.decode()
    assert "张秀英" in page
    assert "王建国" not in page
    assert "爱心人士" in page
    text = Client().get("/charity/funds/ledger.csv").content.decode("utf-8-sig")
    assert "张秀英" in text and "王建国" not in text and "爱心人士" in text


def test_an_overdue_pledge_is_flagged_until_received_in_full(personas: Any) -> None:
    today = timezone.localdate()
    pledge = _pledge(personas, occurred_on=today - dt.timedelta(days=60), due_on=today - dt.timedelta(days=1))
    assert [s.pledge.pk for s in overdue_pledges(today=today)] == [pledge.pk]
    assert "逾期未到账的认捐" in Client().get("/charity/funds/").content.decode()
    fund_entry_record(
        actor=personas.coordinator,
        organisation=pledge.organisation,
        kind=FundEntry.Kind.RECEIPT,
        amount="4000",
        occurred_on=today,
        pledge=pledge,
    )
    assert overdue_pledges(today=today)[0].received == Decimal("4000")
    # A correction of the pledge keeps the receipts recorded against the original.
    corrected = fund_entry_correct(
        actor=personas.coordinator, entry=pledge, amount="4000", correction_note="认捐额调整"
    )
    assert overdue_pledges(today=today) == []
    assert corrected.amount == Decimal("4000")


def test_a_member_keeps_only_their_own_organisations_ledger(personas: Any) -> None:
    with pytest.raises(PermissionDenied):
        _pledge(personas, actor=personas.org_member_2)
    with pytest.raises(PermissionDenied):
        _pledge(personas, actor=personas.assistant_a)
    assert _pledge(personas, actor=personas.org_member_1).created_by == personas.org_member_1


@pytest.mark.parametrize(
    ("field", "kw"),
    [
        ("amount", {"amount": "abc"}),
        ("amount", {"amount": "-5"}),
        ("amount", {"amount": "1.005"}),
        ("occurred_on", {"occurred_on": "2999-01-01"}),
        ("due_on", {"due_on": None}),
        ("purpose", {"kind": FundEntry.Kind.SPENDING, "due_on": None, "donor_name": "", "purpose": ""}),
        ("project", {"kind": FundEntry.Kind.LEFTOVER, "due_on": None, "donor_name": "", "purpose": "x"}),
    ],
)
def test_bad_input_gets_a_chinese_field_message(personas: Any, field: str, kw: dict[str, Any]) -> None:
    with pytest.raises(ApplicationError) as exc:
        _pledge(personas, **kw)
    assert exc.value.status == 400
    message = exc.value.extra["fields"][field]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message)


def test_downloads_escape_formula_cells(personas: Any) -> None:
    fund_entry_record(
        actor=personas.coordinator,
        organisation=_org(personas),
        kind=FundEntry.Kind.SPENDING,
        amount="100",
        occurred_on=timezone.localdate(),
        purpose='=HYPERLINK("http://evil")',
    )
    rows = list(
        csv.reader(io.StringIO(Client().get("/charity/funds/ledger.csv").content.decode("utf-8-sig")))
    )
    assert rows[0][0] == "编号"
    assert rows[1][7] == '\'=HYPERLINK("http://evil")'
    response = Client().get("/charity/funds/ledger.xlsx")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    assert sheet.cell(row=2, column=8).value == '\'=HYPERLINK("http://evil")'
    assert sheet.cell(row=2, column=8).data_type == "s"


def test_leftover_undisclosed_three_months_after_the_end_is_flagged(personas: Any) -> None:
    org = _org(personas)
    p = b.project(coordinator=personas.coordinator, member=personas.org_member_1, organisation=org)
    p = project_move(actor=personas.coordinator, project=p, to=Project.Status.COMPLETED)
    ended = p.ended_on
    assert ended is not None
    assert list(projects_with_undisclosed_leftover(today=ended + dt.timedelta(days=80))) == []
    later = ended + dt.timedelta(days=100)
    assert list(projects_with_undisclosed_leftover(today=later)) == [p]
    fund_entry_record(
        actor=personas.org_member_1,
        organisation=org,
        project=p,
        kind=FundEntry.Kind.LEFTOVER,
        amount="1200",
        occurred_on=ended,
        purpose="结余转入下一期项目",
    )
    assert list(projects_with_undisclosed_leftover(today=later)) == []


def test_the_public_ledger_page_and_filters(personas: Any) -> None:
    _pledge(personas)
    client = Client()
    assert client.get("/charity/funds/?kind=pledge&year=2026&org=1&page=99").status_code == 200
    assert client.get("/charity/funds/?kind=%00&year=abc&org=x").status_code == 200
    page = client.get("/charity/funds/")
    assert page.status_code == 200
    assert "<script" not in page.content.decode() and "style=" not in page.content.decode()
