"""Staff sessions end after 30 idle minutes, after 12 hours in all, on password change and deactivation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from tests.conftest import client_for

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def signed_in(client: Client) -> bool:
    response = client.get(reverse("admin:index"))
    return response.status_code == 200


def test_a_session_idle_for_more_than_30_minutes_is_ended(personas: Any) -> None:
    with time_machine.travel(START, tick=False) as clock:
        client = client_for(personas.coordinator)
        assert signed_in(client)
        clock.shift(dt.timedelta(minutes=29))
        assert signed_in(client)
        clock.shift(dt.timedelta(minutes=31))
        assert not signed_in(client)


def test_an_active_session_ends_after_12_hours_in_all(personas: Any) -> None:
    with time_machine.travel(START, tick=False) as clock:
        client = client_for(personas.coordinator)
        assert signed_in(client)
        for _ in range(11 * 60 // 20 + 2):  # a request every 20 minutes up to 11h40
            clock.shift(dt.timedelta(minutes=20))
            assert signed_in(client)
        clock.shift(dt.timedelta(minutes=25))
        assert not signed_in(client)


def test_a_password_change_ends_the_other_sessions(personas: Any) -> None:
    user = personas.coordinator
    other = client_for(user)
    assert signed_in(other)
    user.set_password("a-new-long-passphrase-77")
    user.save(update_fields=["password"])
    assert not signed_in(other)


def test_deactivation_ends_the_sessions(personas: Any) -> None:
    user = personas.assistant_a
    client = client_for(user)
    assert client.get(reverse("admin:index")).status_code == 200
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert client.get(reverse("admin:index")).status_code == 302
