"""The access matrix, requested: every URL of the URLconf, for every persona of tests/conftest.py.

tests/test_every_url_and_admin_is_scoped.py proves that each URL *names* the test of its scope;
this one requests them all (its `walk` and `PUBLIC` are reused, not copied):
- a URL without parameters, for each persona and for an anonymous visitor: never a 500; anonymous
  gets no 200 from anything that is not PUBLIC (a redirect to a login, 401, 403, 404 or 405);
- a URL with parameters, filled with ids and tokens that do not exist: never a 200 and never a
  500 for anyone, so no view answers for an object it did not find (nor leaks by crashing).
The per-object answers (another township's row is a 404, a cadre's change a 403) are the named
scope tests' and tests/core/test_enumeration.py's.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import get_resolver

from tests.conftest import client_for
from tests.test_every_url_and_admin_is_scoped import PUBLIC, Url, _is_redirect_only, walk

pytestmark = pytest.mark.django_db

# Requests that would change the requester's own state rather than read a page.
SKIP = {"admin:logout", "set_language", "charity-logout"}
_PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")
_ANON_OK = {301, 302, 400, 401, 403, 404, 405}
_MISSING_OK = {301, 302, 400, 401, 403, 404, 405, 410}


def _fill(route: str) -> str | None:
    """A concrete path for the route, every parameter an id or token that does not exist."""
    if "(?P" in route or "^" in route:
        return None  # a regex route (the admin's catch-all): checked through the named views

    def value(match: re.Match[str]) -> str:
        conv = match.group("conv") or "str"
        if conv == "int":
            return "987654321"
        if conv == "uuid":
            return "00000000-0000-4000-8000-000000000000"
        if conv == "path":
            return "missing/thing"
        return "Zq9missing7Token"

    return "/" + _PARAM.sub(value, route)


def _urls() -> list[Url]:
    return [u for u in walk(get_resolver()) if u.name not in SKIP and not _is_redirect_only(u)]


def test_every_url_for_every_persona_never_fails_and_anonymous_reaches_only_public_ones(
    personas: Any,
) -> None:
    clients: dict[str, Client] = {name: client_for(user) for name, user in personas.all_staff().items()}
    clients["anonymous"] = Client()
    problems: list[str] = []
    requests = 0
    for url in _urls():
        path = _fill(url.route)
        if path is None:
            continue
        has_params = "<" in url.route
        for persona, client in clients.items():
            response = client.get(path)
            requests += 1
            status = response.status_code
            if status >= 500:
                problems.append(f"{persona} GET {path} ({url.name}): {status}")
            elif has_params and status not in _MISSING_OK:
                problems.append(
                    f"{persona} GET {path} ({url.name}): {status} for an object that does not exist"
                )
            elif (
                persona == "anonymous"
                and not has_params
                and url.name not in PUBLIC
                and status not in _ANON_OK
            ):
                problems.append(f"anonymous GET {path} ({url.name}): {status} without a login")
    assert not problems, "\n".join(problems)
    assert requests >= 10 * 50  # the URLconf really was walked, for all eleven clients
