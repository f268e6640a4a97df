"""Reads that tolerate a replica's lag go to the replica, when one is configured; nothing else does.

`DATABASE_REPLICA_URL` adds the alias "replica" (a streaming replica of the primary). Code that
reads for display only and may be a second behind (the dashboards, the public 公益谷 board) runs
its queries inside `replica_reads()`; everything else, and every write, stays on "default", so a
form never reads an older copy of what it has just written. Without a replica the context does
nothing.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings

REPLICA = "replica"
_reading = contextvars.ContextVar("replica_reads", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES and bool(getattr(settings, "DATABASE_READ_REPLICA", False))


@contextmanager
def replica_reads() -> Iterator[None]:
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


class ReplicaRouter:
    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        if _reading.get() and replica_configured():
            return REPLICA
        return None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return True  # the replica is a copy of the same database

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        return db != REPLICA  # migrations run on the primary; the replica follows by replication
