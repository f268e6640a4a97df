"""Site-wide HTML/JSON views of the core."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Placeholder until the health checks land."""
    return JsonResponse({"status": "ok"})
