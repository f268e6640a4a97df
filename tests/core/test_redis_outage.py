"""Redis down: a request that queues work still answers quickly, and the work runs once Redis is back.

Runs its own throwaway redis-server (never the shared one) and a real Celery worker.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.test import Client, override_settings

from assist_center import outbox
from assist_center.celery import app as celery_app
from assist_center.models import AuditEvent, OutboxMessage

pytestmark = [
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """A redis-server child process without persistence, on its own port."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"redis-server did not start on port {self.port}") from None
                time.sleep(0.05)
            finally:
                client.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def queued(self, queue: str = "celery") -> list[bytes]:
        client = redis.Redis(host="127.0.0.1", port=self.port)
        try:
            return list(client.lrange(queue, 0, -1))
        finally:
            client.close()


def _reset_broker_pools() -> None:
    # The app caches connection and producer pools built from the old URL.
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    with contextlib.suppress(AttributeError, KeyError):
        celery_app.__dict__["amqp"]._producer_pool = None


@contextlib.contextmanager
def broker_at(url: str) -> Iterator[None]:
    """Point Django settings and the Celery app at another broker for the duration."""
    old = celery_app.conf.broker_url
    with override_settings(CELERY_BROKER_URL=url):
        celery_app.conf.broker_url = url
        _reset_broker_pools()
        outbox.reset_hold_off()
        try:
            yield
        finally:
            celery_app.conf.broker_url = old
            _reset_broker_pools()
            outbox.reset_hold_off()


@contextlib.contextmanager
def _logging_left_alone() -> Iterator[None]:
    """Undo what starting a worker does to the process's logging, so later tests see Django's config.

    Celery's log setup replaces the root handlers (dropping the PII-redacting filter) unless
    worker_hijack_root_logger is off, and it turns on warnings capture and sets CELERY_LOG_* variables.
    """
    names = ["", "celery", "celery.task", "celery.redirected"]
    saved = {name: (logging.getLogger(name).handlers[:], logging.getLogger(name).level) for name in names}
    saved_env = {k: os.environ.get(k) for k in ("CELERY_LOG_LEVEL", "CELERY_LOG_FILE")}
    hijack = celery_app.conf.worker_hijack_root_logger
    celery_app.conf.worker_hijack_root_logger = False
    try:
        yield
    finally:
        celery_app.conf.worker_hijack_root_logger = hijack
        for name, (handlers, level) in saved.items():
            logging.getLogger(name).handlers = handlers
            logging.getLogger(name).setLevel(level)
        logging.captureWarnings(False)
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def celery_worker() -> Iterator[Any]:
    """A real worker in a thread (solo pool) consuming from the current broker."""
    import assist_center.tasks  # noqa: F401 - registers the tasks with the app

    with (
        _logging_left_alone(),
        start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=20) as worker,
    ):
        yield worker


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
    """Poll for work done by another thread (a worker), which no clock in the test controls."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.redis_outage
@pytest.mark.urls("tests.core.urls_outage")
@pytest.mark.django_db(transaction=True)
def test_request_succeeds_quickly_with_redis_down_and_work_runs_after_it_returns(
    redis_server: RedisServer,
) -> None:
    marker = "outage-1"
    with broker_at(redis_server.url):
        redis_server.stop()

        started = time.monotonic()
        response = Client().post(f"/outage/ping/{marker}/")
        elapsed = time.monotonic() - started

        assert response.status_code == 201
        assert elapsed < 3, f"the request took {elapsed:.2f} s with the broker down"
        message = OutboxMessage.objects.get(pk=response.json()["outbox_id"])
        assert message.status == OutboxMessage.Status.PENDING
        assert message.attempts == 1
        assert message.last_error
        assert "redis://" not in message.last_error

        # A sweep while Redis is still down fails fast too, and keeps the row pending.
        started = time.monotonic()
        assert outbox.sweep_pending(older_than_seconds=0) == 0
        assert time.monotonic() - started < 3
        message.refresh_from_db()
        assert message.status == OutboxMessage.Status.PENDING
        assert message.attempts == 2

        redis_server.start()  # same port: the configured URL is valid again
        assert outbox.sweep_pending(older_than_seconds=0) == 1
        message.refresh_from_db()
        assert message.status == OutboxMessage.Status.SENT
        assert message.sent_at is not None
        assert message.last_error == ""

        with celery_worker():
            assert wait_until(lambda: AuditEvent.objects.filter(idempotency_key=f"ping:{marker}").exists())
    event = AuditEvent.objects.get(idempotency_key=f"ping:{marker}")
    assert event.action == "ping"
    assert event.actor_label == "system"


@pytest.mark.redis_outage
@pytest.mark.urls("tests.core.urls_outage")
@pytest.mark.django_db(transaction=True)
def test_request_does_not_hang_on_a_broker_that_accepts_but_never_answers() -> None:
    # A host that accepts connections and then says nothing (a hung Redis, a half-dead proxy):
    # only the socket timeouts can end the wait.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    try:
        with broker_at(f"redis://127.0.0.1:{port}/0"):
            started = time.monotonic()
            response = Client().post("/outage/ping/silent-1/")
            elapsed = time.monotonic() - started
    finally:
        listener.close()
    assert response.status_code == 201
    assert elapsed < 3, f"the request took {elapsed:.2f} s with a silent broker"
    message = OutboxMessage.objects.get(pk=response.json()["outbox_id"])
    assert message.status == OutboxMessage.Status.PENDING
    assert message.last_error


@pytest.mark.redis_outage
@pytest.mark.urls("tests.core.urls_outage")
@pytest.mark.django_db(transaction=True)
def test_a_request_queueing_several_tasks_waits_on_a_silent_broker_once() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        with broker_at(f"redis://127.0.0.1:{listener.getsockname()[1]}/0"):
            started = time.monotonic()
            response = Client().post("/outage/ping/many-1/?count=3")
            elapsed = time.monotonic() - started
            # The requests right behind it do not wait at all.
            started = time.monotonic()
            assert Client().post("/outage/ping/many-2/").status_code == 201
            assert time.monotonic() - started < 0.5
    finally:
        listener.close()
    assert response.status_code == 201
    assert elapsed < 2, f"the request took {elapsed:.2f} s"
    rows = list(OutboxMessage.objects.order_by("pk"))
    assert [r.status for r in rows] == [OutboxMessage.Status.PENDING] * 4
    assert [r.attempts for r in rows] == [1, 0, 0, 0]
    assert all(r.last_error for r in rows)
