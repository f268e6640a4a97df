"""Site-wide error handlers: the API answers in its JSON error format, pages in HTML.

A refusal is a Chinese page in the layout the user was in: the admin's for staff pages, the
public one for residents. Django's own 403 is a bare English "403 Forbidden".
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import defaults

STAFF_PREFIXES = ("/admin/", "/staff/")


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"message": _("Not found."), "extra": {}}, status=404)
    return defaults.page_not_found(request, exception)


def _refusal(request: HttpRequest, reason: str) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"message": reason, "extra": {}}, status=403)
    if request.path.startswith(STAFF_PREFIXES) and request.user.is_authenticated:
        ctx = {**admin.site.each_context(request), "title": _("No access"), "reason": reason}
        return render(request, "admin/403.html", ctx, status=403)
    return render(request, "403.html", {"reason": reason}, status=403)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # The exception's text is one the code wrote for the user (a service's refusal); without one,
    # the page says only that this account may not open it, never whether the object exists.
    reason = str(exception) if exception is not None and str(exception) else ""
    return _refusal(request, reason or _("Your account may not open this page."))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    # Django's reason ("CSRF cookie not set.") is for developers; the user needs to know what to do.
    return _refusal(request, _("This form has expired. Go back, reload the page and send it again."))


def server_error(request: HttpRequest) -> HttpResponse:
    # No detail at all: an exception text may carry personal data or connection strings.
    if _is_api(request):
        return JsonResponse(
            {"message": _("The service is temporarily unavailable. Please try again later."), "extra": {}},
            status=500,
        )
    return defaults.server_error(request)
