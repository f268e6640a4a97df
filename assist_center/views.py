"""Site-wide HTML/JSON views of the core."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from assist_center.celery import app as celery_app
from assist_center.models import Region

logger = logging.getLogger(__name__)

# Each check gives up after about a second, so a probe of a sick host answers within a few seconds.
CHECK_TIMEOUT_SECONDS = 1


def _check_database() -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        # LOCAL: the limit ends with this transaction and never leaks into the pooled connection.
        cursor.execute("SET LOCAL statement_timeout = %s", [f"{CHECK_TIMEOUT_SECONDS}s"])
        cursor.execute("SELECT 1")
        if cursor.fetchone() != (1,):
            raise RuntimeError("unexpected answer")


def _check_cache() -> None:
    # The cache's own socket timeouts (settings.CACHES OPTIONS) bound this.
    key = f"healthz:{uuid.uuid4().hex}"
    token = uuid.uuid4().hex
    cache.set(key, token, timeout=10)
    try:
        if cache.get(key) != token:
            raise RuntimeError("cache did not return the value just written")
    finally:
        cache.delete(key)


def _check_broker() -> None:
    options = {
        "max_retries": 0,
        "socket_connect_timeout": CHECK_TIMEOUT_SECONDS,
        "socket_timeout": CHECK_TIMEOUT_SECONDS,
    }
    with celery_app.connection_for_write(
        connect_timeout=CHECK_TIMEOUT_SECONDS, transport_options=options
    ) as conn:
        conn.ensure_connection(max_retries=0, timeout=CHECK_TIMEOUT_SECONDS)
        client = getattr(conn.default_channel, "client", None)
        if client is not None and hasattr(client, "ping"):
            client.ping()


CHECKS: dict[str, Callable[[], None]] = {
    "database": _check_database,
    "cache": _check_cache,
    "broker": _check_broker,
}


def _run(name: str, check: Callable[[], None]) -> dict[str, bool | float]:
    started = time.monotonic()
    try:
        check()
        ok = True
    except Exception as exc:
        # Only the class name is logged (through the redacting filter); the response says nothing,
        # since errors can carry host names and connection strings.
        logger.warning("healthz: %s check failed: %s", name, type(exc).__name__)
        ok = False
    return {"ok": ok, "ms": round((time.monotonic() - started) * 1000, 1)}


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database, cache and broker health for load balancers and monitoring: 200 if all answer, else 503.

    Public: it shows only ok/failed and timings, nothing about hosts or configuration.
    """
    checks = {name: _run(name, check) for name, check in CHECKS.items()}
    healthy = all(result["ok"] for result in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": checks},
        status=200 if healthy else 503,
    )


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The public front page: where to apply, what family members do, where staff sign in."""
    county = Region.objects.filter(level=Region.Level.COUNTY).only("code").first()
    # Township first (issue 16): the county's flat list repeats some village names, so a resident
    # picks the township and then sees only its villages.
    townships = (
        list(
            Region.objects.filter(parent=county, level=Region.Level.TOWNSHIP)
            .order_by("code")
            .only("code", "name")
        )
        if county
        else []
    )
    return render(
        request, "home.html", {"county_code": county.code if county else None, "townships": townships}
    )
