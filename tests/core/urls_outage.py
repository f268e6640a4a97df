"""A test-only URLconf: a view that, like a submission, writes its work to the outbox and returns."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.http import require_POST

from assist_center import outbox


@require_POST
def enqueue_ping(request: HttpRequest, marker: str) -> JsonResponse:
    count = int(request.GET.get("count", "1"))
    with transaction.atomic():
        for n in range(count):
            message = outbox.enqueue(
                "assist_center.tasks.ping", kwargs={"marker": f"{marker}-{n}" if n else marker}
            )
    # The after-commit hand-off to the broker has run (or failed) by the time we get here.
    return JsonResponse({"outbox_id": message.pk}, status=201)  # the last one


urlpatterns = [path("outage/ping/<slug:marker>/", enqueue_ping)]
