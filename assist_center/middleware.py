"""Cross-cutting request rules from security.md."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

import structlog
from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django_structlog import signals as structlog_signals

from .http import client_ip


def _log_client_ip(request: HttpRequest, **kwargs: Any) -> None:
    # django-structlog binds the address ipware guesses from X-Forwarded-For (the left-most, which
    # the client writes); the request log must name the same client as the lockout and the limits.
    structlog.contextvars.bind_contextvars(ip=client_ip(request))


# Connected here because Django imports the middleware before the first request is logged.
structlog_signals.bind_extra_request_metadata.connect(_log_client_ip, dispatch_uid="assist_center.client_ip")


class CountyLocaleMiddleware(LocaleMiddleware):
    """Pages speak the county's language unless the user picked another; the API follows Accept-Language.

    A civil-affairs office's browser often asks for English (a headless or an English-language
    system); the staff must still read Chinese. The language switcher in the header sets the cookie
    Django's `set_language` view writes. API clients keep choosing with `Accept-Language` (design.md).
    """

    def process_request(self, request: HttpRequest) -> None:
        if request.path.startswith("/api/"):
            super().process_request(request)
            return
        language = settings.LANGUAGE_CODE
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if chosen:
            with contextlib.suppress(LookupError):
                language = translation.get_supported_language_variant(chosen)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class NoStoreMiddleware:
    """Forbid caching of every dynamic response: pages and API answers may carry personal data."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(settings.STATIC_URL):
            add_never_cache_headers(response)
            response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
        return response


class IdleTimeoutMiddleware:
    """Log out after SESSION_IDLE_TIMEOUT idle seconds or SESSION_COOKIE_AGE in all (MLPS 2.0)."""

    session_key = "_last_activity"
    started_key = "_session_started"
    stamp_every = 60

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            last = request.session.get(self.session_key)
            # Writing the activity stamp saves the session, which moves its database expiry forward:
            # without its own start stamp SESSION_COOKIE_AGE would never end an active session.
            started = int(request.session.get(self.started_key, now))
            idle = last is not None and now - int(last) > settings.SESSION_IDLE_TIMEOUT
            if idle or now - started > settings.SESSION_COOKIE_AGE:
                logout(request)
            elif (
                last is None or now - int(last) >= self.stamp_every or self.started_key not in request.session
            ):
                # Only a stamp this old is rewritten: saving the session on every request cost every
                # staff page three queries (issue 15); a minute is nothing against a 30-minute timeout.
                request.session[self.session_key] = now
                request.session[self.started_key] = started
        return self.get_response(request)
