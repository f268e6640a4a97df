"""Site-wide 404/500 handlers: the API answers in its JSON error format, pages in HTML."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"message": _("Not found."), "extra": {}}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    # No detail at all: an exception text may carry personal data or connection strings.
    if _is_api(request):
        return JsonResponse(
            {"message": _("The service is temporarily unavailable. Please try again later."), "extra": {}},
            status=500,
        )
    return defaults.server_error(request)
