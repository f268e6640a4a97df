"""/healthz: JSON health of database, cache and broker; 503 when one is down, and never slow."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings

from .test_redis_outage import broker_at, free_port


def _get() -> tuple[Any, float]:
    started = time.monotonic()
    response = Client().get("/healthz")
    return response, time.monotonic() - started


def _dead_cache() -> dict[str, Any]:
    return {"default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}}


@pytest.mark.django_db
def test_healthz_is_200_when_everything_answers() -> None:
    response, _ = _get()
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker"}
    for check in body["checks"].values():
        assert check["ok"] is True
        assert isinstance(check["ms"], float)
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_is_503_with_the_cache_down() -> None:
    with override_settings(CACHES=_dead_cache()):
        response, elapsed = _get()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["cache"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True
    assert elapsed < 3


@pytest.mark.django_db
def test_healthz_is_503_with_the_broker_down_and_reveals_nothing() -> None:
    port = free_port()
    with broker_at(f"redis://:s3cret@127.0.0.1:{port}/0"):
        response, elapsed = _get()
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True
    assert elapsed < 3
    text = response.content.decode()
    for secret in ("redis://", "s3cret", str(port), "Traceback", "Error"):
        assert secret not in text
    # The shape is all there is: ok and a timing per check.
    assert all(set(check) == {"ok", "ms"} for check in body["checks"].values())


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    from assist_center import views

    def broken() -> None:
        raise RuntimeError("could not connect to server at 10.0.0.5 password=hunter2")

    monkeypatch.setitem(views.CHECKS, "database", broken)
    response, _ = _get()
    assert response.status_code == 503
    assert response.json()["checks"]["database"]["ok"] is False
    assert "hunter2" not in response.content.decode()


@pytest.mark.django_db
def test_healthz_needs_no_login_and_accepts_only_get() -> None:
    assert Client().get("/healthz").status_code in (200, 503)
    assert Client().post("/healthz").status_code == 405
