"""The public statistics page (/charity/stats/)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from .stats_selectors import public_stats


@require_GET
def stats(request: HttpRequest) -> HttpResponse:
    return render(request, "charity/stats/stats.html", {"s": public_stats(), "today": timezone.localdate()})
