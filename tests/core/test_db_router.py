"""The replica router: reads inside replica_reads() go to the replica alias when one is configured;
writes, and reads outside the context, stay on the primary."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from assist_center.db_router import replica_reads
from assist_center.models import Region
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


def test_marked_reads_go_to_the_replica_and_everything_else_to_the_primary(settings: Any) -> None:
    settings.DATABASE_READ_REPLICA = True
    county = f.county()
    with (
        CaptureQueriesContext(connections["replica"]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        with replica_reads():
            assert Region.objects.filter(pk=county.pk).count() == 1  # committed: the replica sees it
            f.township(7, "珠岙镇")  # a write inside the context still goes to the primary
        assert Region.objects.count() == 2
    assert len(on_replica) == 1 and "COUNT" in on_replica[0]["sql"]
    assert any("INSERT" in q["sql"] for q in on_primary)
    assert not any("INSERT" in q["sql"] for q in on_replica)


def test_without_a_configured_replica_the_context_changes_nothing(settings: Any) -> None:
    settings.DATABASE_READ_REPLICA = False
    f.county()
    with CaptureQueriesContext(connections["replica"]) as on_replica, replica_reads():
        assert Region.objects.count() == 1
    assert len(on_replica) == 0


@pytest.mark.parametrize("url", ["/charity/", "/api/v1/public/charity/needs/"])
def test_the_public_board_and_its_feed_read_their_needs_from_the_replica(
    settings: Any, url: str, county_map: Any
) -> None:
    settings.DATABASE_READ_REPLICA = True
    settings.CACHES = {
        **settings.CACHES,
        "default": {**settings.CACHES["default"], "KEY_PREFIX": f"router-{url.count('/')}-{time.time_ns()}"},
    }
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        assert Client().get(url).status_code == 200
    assert any("charity_need" in q["sql"] for q in on_replica), [q["sql"][:80] for q in on_replica]


def test_the_dashboards_compute_their_figures_on_the_replica(
    settings: Any, personas: Any, login: Any
) -> None:
    settings.DATABASE_READ_REPLICA = True
    settings.CACHES = {
        **settings.CACHES,
        "default": {**settings.CACHES["default"], "KEY_PREFIX": f"router-dash-{time.time_ns()}"},
    }
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        assert login(personas.coordinator).get("/staff/dashboard/").status_code == 200
    assert any("applications_application" in q["sql"] for q in on_replica)
