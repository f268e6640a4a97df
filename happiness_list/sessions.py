"""The resident's verified session on the happiness list: one household, 15 minutes, server-side.

Opened by a correct SMS code to a phone of the household (or a registered guardian's phone, or an
assistant at the township window) and kept in Django's database-backed session, never in a
cookie value or the URL. Other modules (ratings, the access log) read it through
`household_session(request)` only.

Contract for the rating and access pages:
- `household_session(request)` returns a HouseholdSession or None (none opened, expired, or the
  session's data damaged). A staff member's own login does not make one.
- `application_id` is the case the resident arrived for when one was named, else None (the
  closure SMS carries the household's card token; the rating panel lists its closed cases,
  newest first).
- The list page includes `happiness_list/_ratings.html` and `happiness_list/_access_log.html`
  when those templates exist, with `happiness` (the HouseholdSession), `token` (the URL token)
  and `year` in the context; see happiness_list.views.resident.optional_includes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

__all__ = [
    "SESSION_KEY",
    "SESSION_SECONDS",
    "HouseholdSession",
    "household_session",
    "household_session_end",
    "household_session_open",
]

SESSION_KEY = "happiness_household"
# issue 12: "the session it opens is short-lived (15 minutes) and for that household alone".
SESSION_SECONDS = 15 * 60


@dataclass(frozen=True)
class HouseholdSession:
    household_id: int
    # The case opened for rating (the closure SMS's application), or None.
    application_id: int | None
    # How the resident came in: "phone" (own phone), "guardian" (a registered supporter's phone),
    # "assisted" (an assistant at the township window).
    method: str
    # The 幸福签 card token the session was opened under.
    token: str
    expires_at: float

    @property
    def assisted(self) -> bool:
        return self.method == "assisted"


def household_session_open(
    request: HttpRequest, *, household_id: int, application_id: int | None, method: str, token: str
) -> HouseholdSession:
    """Open (or replace) the household session of this browser; a new session key against fixation."""
    request.session.cycle_key()
    expires = time.time() + SESSION_SECONDS
    request.session[SESSION_KEY] = {
        "household_id": int(household_id),
        "application_id": int(application_id) if application_id else None,
        "method": method,
        "token": token,
        "expires_at": expires,
    }
    return HouseholdSession(
        household_id=int(household_id),
        application_id=int(application_id) if application_id else None,
        method=method,
        token=token,
        expires_at=expires,
    )


def household_session_end(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)


def household_session(request: HttpRequest) -> HouseholdSession | None:
    """The live household session of this request, or None (none, expired, or unreadable)."""
    session = getattr(request, "session", None)
    if session is None:
        return None
    data: Any = session.get(SESSION_KEY)
    if not isinstance(data, dict):
        return None
    try:
        expires = float(data["expires_at"])
        household_id = int(data["household_id"])
        application_id = int(data["application_id"]) if data.get("application_id") else None
        method = str(data["method"])
        token = str(data["token"])
    except (KeyError, TypeError, ValueError):
        return None
    if time.time() >= expires:
        session.pop(SESSION_KEY, None)
        return None
    return HouseholdSession(
        household_id=household_id,
        application_id=application_id,
        method=method,
        token=token,
        expires_at=expires,
    )
