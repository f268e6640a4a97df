"""What every staff page outside the admin shares: the decorator, the context, service errors on forms.

The pages are small function views (house-style.md); `staff_view` is their one gate, so a page
cannot forget the second factor or the permission check.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from .errors import ApplicationError

View = Callable[..., HttpResponse]
UserPredicate = Callable[[Any], bool]


def needs_second_factor(request: HttpRequest) -> bool:
    """Whether the signed-in user still has to pass the second factor (security.md: TOTP for staff)."""
    return bool(settings.STAFF_REQUIRE_2FA and not getattr(request.user, "is_verified", lambda: False)())


def staff_view(allowed: UserPredicate | None = None) -> Callable[[View], View]:
    """Login and the second factor required; a signed-in user `allowed` refuses gets 403.

    Pass a predicate of assist_center.permissions. Without one, the view checks the permission
    itself after its scoped fetch, so that an object out of scope stays a 404 for every role.
    """

    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if needs_second_factor(request):
                return redirect_to_login(request.get_full_path())
            if allowed is not None and not allowed(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def staff_context(request: HttpRequest, title: str) -> dict[str, Any]:
    """The admin's header, user tools and colours, without the app sidebar (it eats a tablet's width)."""
    return {**admin.site.each_context(request), "is_nav_sidebar_enabled": False, "title": title}


def add_service_errors(form: Any, exc: ApplicationError, *, fallback: str | None = None) -> bool:
    """Put a service's field errors next to the form's fields; return whether any found a place.

    Field names are the service's dotted paths: the last part is the field, a number picks a row
    of a formset ("outcomes.1.reason" is the second row's reason), other parts name the collection.
    A message with no matching field goes on `fallback` when given (a field name), else nowhere:
    the caller shows `exc.message` on the page.
    """
    fields = exc.extra.get("fields") if isinstance(exc.extra, dict) else None
    placed = False
    if form is not None and isinstance(fields, dict):
        for name, message in fields.items():
            target = _field_owner(form, str(name).split("."))
            field = str(name).rsplit(".", 1)[-1]
            if target is not None and field in getattr(target, "fields", {}):
                target.add_error(field, str(message))
                placed = True
    if not placed and fallback is not None and form is not None:
        form.add_error(fallback, str(exc.message))
        placed = True
    return placed


def _field_owner(form: Any, parts: list[str]) -> Any:
    target = form
    for part in parts[:-1]:
        if part.isascii() and part.isdigit():
            rows = getattr(target, "forms", None)
            if rows is None or int(part) >= len(rows):
                return None
            target = rows[int(part)]
    return target
