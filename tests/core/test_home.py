from __future__ import annotations

from typing import Any

from django.test import Client


def test_front_page_sends_residents_to_the_county_form_and_staff_to_the_admin(county_map: Any) -> None:
    page = Client().get("/").content.decode()
    assert f'href="/apply/{county_map.county.code}/"' in page
    assert 'href="/admin/"' in page
    assert "<script>" not in page and " style=" not in page
