"""Who is signed in for which organisation: the one gate of the organisations' portal pages.

Members of organisations are not staff (no admin, no staff API): they sign in at /charity/login/
and work in /charity/portal/. `organisation_member_required` is their pages' decorator, like
assist_center.staff_views.staff_view is the staff's: login, the second factor where staff need it,
and an active organisation membership; `request.organisation` is then the member's organisation.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from assist_center.models import Role
from assist_center.scopes import role_of
from assist_center.staff_views import needs_second_factor

from .models import Organisation

View = Callable[..., HttpResponse]
LOGIN_URL = "/charity/login/"


def organisation_of_user(user: Any) -> Organisation | None:
    """The organisation an active organisation account acts for (its first membership), or None."""
    if not getattr(user, "is_authenticated", False) or role_of(user) != Role.ORGANISATION:
        return None
    cached: Organisation | bool | None = getattr(user, "_charity_organisation", False)
    if cached is not False:
        return cached if isinstance(cached, Organisation) else None
    org = Organisation.objects.filter(members=user).order_by("pk").first()
    user._charity_organisation = org
    return org


def organisation_of(request: HttpRequest) -> Organisation | None:
    """The signed-in member's organisation (second factor passed where required), or None."""
    if needs_second_factor(request):
        return None
    return organisation_of_user(request.user)


def organisation_member_required(view: View) -> View:
    """Sign-in at /charity/login/ (and the second factor) required; a non-member gets 403.

    Sets `request.organisation`. Whether the organisation may *claim* (vetted, unexpired) is the
    services' question: a suspended organisation still sees its own claims and projects.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated or needs_second_factor(request):
            return redirect_to_login(request.get_full_path(), LOGIN_URL)
        org = organisation_of_user(request.user)
        if org is None:
            raise PermissionDenied
        request.organisation = org  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapped
