"""The staff API, like the staff pages, refuses a session that has not passed the second factor."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings
from django.urls import reverse

from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_an_unverified_staff_session_gets_403_when_2fa_is_required(personas: Any) -> None:
    client = client_for(personas.coordinator)  # signed in with a password only
    assert client.get(reverse("api-referrals")).status_code == 200
    with override_settings(STAFF_REQUIRE_2FA=True):
        response = client.get(reverse("api-referrals"))
    assert response.status_code == 403
