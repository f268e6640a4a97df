"""Lists of the portal, the centre's report list and the organisations' changelist: a query count
that does not grow with the rows (house-style: list endpoints assert their query count)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from charity.models import PublicReport
from charity.services.claims import need_claim

from .helpers import org_with_member, published_need

pytestmark = pytest.mark.django_db


def _queries(client: Client, url: str) -> int:
    client.get(url)  # a first visit also writes the session's activity stamp (once a minute)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _reports(n: int) -> None:
    import datetime as dt

    for i in range(n):
        PublicReport.objects.create(
            subject_kind="need", subject_ref=f"r{i}", kind="error", text="有误", due_on=dt.date(2026, 12, 14)
        )


def _claims(personas: Any, county_map: Any, member: Any, n: int) -> None:
    for _ in range(n):
        need = published_need(personas.coordinator, county_map.village_a1)
        need_claim(actor=member, public_id=need.public_id)


def test_the_portal_and_the_centres_lists_do_not_query_per_row(
    personas: Any, county_map: Any, login: Any, settings: Any
) -> None:
    settings.CHARITY_MAX_OPEN_CLAIMS = 50
    _org, member = org_with_member()
    _claims(personas, county_map, member, 2)
    _reports(2)
    portal = login(member)
    coordinator = login(personas.coordinator)
    urls = ("/admin/charity/organisation/", "/admin/charity/publicreport/")
    few = [_queries(portal, "/charity/portal/"), *(_queries(coordinator, u) for u in urls)]
    _claims(personas, county_map, member, 10)
    _reports(10)
    for _ in range(5):
        org_with_member()
    many = [_queries(portal, "/charity/portal/"), *(_queries(coordinator, u) for u in urls)]
    assert many == few
    assert few[0] <= 12, few
