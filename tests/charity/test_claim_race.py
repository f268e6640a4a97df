"""The claim race under real PostgreSQL concurrency: exactly one winner however many press at once."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from charity.models import Claim, Need

from .helpers import org_with_member, published_need

ROUNDS = 50
CLAIMANTS = 20


def race(clients: list[Client], public_id: str) -> tuple[list[int], list[dict[str, Any]]]:
    """Every client presses "claim" at the same instant (a barrier); their statuses and bodies."""
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []
    bodies: list[dict[str, Any]] = []
    lock = threading.Lock()

    def press(client: Client) -> None:
        try:
            barrier.wait(timeout=30)
            r = client.post(f"/api/v1/charity/needs/{public_id}/claim/")
            with lock:
                statuses.append(r.status_code)
                bodies.append(r.json())
        finally:
            connection.close()

    threads = [threading.Thread(target=press, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return statuses, bodies


@pytest.mark.django_db(transaction=True)
def test_fifty_rounds_of_twenty_simultaneous_claims_have_exactly_one_winner_each(
    personas: Any, county_map: Any, settings: Any
) -> None:
    settings.CHARITY_MAX_OPEN_CLAIMS = ROUNDS
    clients = []
    for _ in range(CLAIMANTS):
        _org, user = org_with_member()
        c = Client()
        c.force_login(user)
        clients.append(c)
    needs = [published_need(personas.coordinator, county_map.village_a1) for _ in range(ROUNDS)]

    for need in needs:
        statuses, bodies = race(clients, need.public_id)
        assert sorted(statuses) == [201] + [409] * (CLAIMANTS - 1), statuses
        assert all("已被认领" in b["message"] for b, s in zip(bodies, statuses, strict=True) if s == 409)
        assert Claim.objects.filter(need=need).count() == 1
        assert Need.objects.get(pk=need.pk).status == Need.Status.CLAIMED
