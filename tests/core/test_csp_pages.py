"""CSP without unsafe-inline/unsafe-eval on the admin and the API docs; nothing inline it would block."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from tests.conftest import client_for

pytestmark = pytest.mark.django_db

_INLINE_STYLE = re.compile(r"<style(?![^>]*\bnonce=)[^>]*>", re.IGNORECASE)
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\b(?:src|nonce)=)[^>]*>", re.IGNORECASE)


def assert_strict_csp(response: Any) -> None:
    policy = response["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "style-src 'self'" in policy and "script-src 'self'" in policy


def test_api_docs_page_has_no_inline_style_or_script_the_policy_blocks(personas: Any) -> None:
    response = client_for(personas.coordinator).get(reverse("api-docs"))
    assert response.status_code == 200
    assert_strict_csp(response)
    body = response.content.decode()
    assert not _INLINE_STYLE.search(body), "an inline <style> without a nonce is blocked by the CSP"
    assert not _INLINE_SCRIPT.search(body)
    assert "css/api_docs.css" in body
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("name", ["admin:index", "admin:login"])
def test_admin_pages_carry_the_strict_policy(personas: Any, name: str) -> None:
    response = client_for(personas.coordinator).get(reverse(name), follow=True)
    assert response.status_code == 200
    assert_strict_csp(response)
    assert "no-store" in response["Cache-Control"]
