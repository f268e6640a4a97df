from __future__ import annotations

from typing import Any

from django.test import Client


def test_front_page_sends_residents_to_their_townships_form_and_staff_to_the_admin(county_map: Any) -> None:
    page = Client().get("/").content.decode()
    # Township first (issue 16): each township's form lists only its own villages.
    assert f'href="/apply/{county_map.town_a.code}/"' in page and "海游街道" in page
    assert f'href="/apply/{county_map.town_b.code}/"' in page and "沙柳街道" in page
    assert f'href="/apply/{county_map.county.code}/"' not in page
    assert 'href="/admin/"' in page
    assert "<script>" not in page and " style=" not in page
