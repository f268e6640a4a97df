"""scripts/ensure_services.sh on a private port pair: a missing PostgreSQL cluster and Redis are made,
started and given the database; a second run only checks; a remote server is left alone.

This machine's own servers (5432, 6379) are never touched: the test picks free loopback ports, so
the script finds nothing answering there and goes through its "create the cluster, trust the local
postgres role, start it, create the database" and "start Redis" paths with the PostgreSQL and Redis
installed here. Installing the packages on a bare root is what scripts/prove_bare_setup.sh proves
(`make prove-setup`, in a fresh Debian 12 root). The cluster and the Redis are removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "ensure_services.sh"

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("pg_createcluster") is None or shutil.which("redis-server") is None,
    reason="needs root and Debian's PostgreSQL and Redis packages (installed by ensure_services on CI)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _clusters_on(port: int) -> list[tuple[str, str]]:
    out = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True).stdout
    return [
        (f[0], f[1]) for f in (line.split() for line in out.splitlines()) if len(f) > 2 and f[2] == str(port)
    ]


@pytest.fixture
def private_ports() -> Iterator[tuple[int, int]]:
    pg_port, redis_port = _free_port(), _free_port()
    before = {tuple(line.split()[:2]) for line in subprocess.run(
        ["pg_lsclusters", "-h"], capture_output=True, text=True, check=True).stdout.splitlines()}  # fmt: skip
    try:
        yield pg_port, redis_port
    finally:
        for version, name in _clusters_on(pg_port):
            if (version, name) not in before:
                subprocess.run(["pg_dropcluster", "--stop", version, name], check=False)
        subprocess.run(
            ["redis-cli", "-p", str(redis_port), "shutdown", "nosave"], check=False, capture_output=True
        )


def _answers(pg_port: int, redis_port: int) -> tuple[bool, bool]:
    pg = (
        subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(pg_port)], check=False).returncode
        == 0
    )
    ping = subprocess.run(
        ["redis-cli", "-p", str(redis_port), "ping"], capture_output=True, text=True, check=False
    )
    return pg, ping.stdout.strip() == "PONG"


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT)], env={**os.environ, **env}, capture_output=True, text=True, timeout=180
    )


def test_a_missing_cluster_and_redis_are_created_started_and_given_the_database(
    private_ports: tuple[int, int],
) -> None:
    pg_port, redis_port = private_ports
    env = {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{pg_port}/ensure_services_probe",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
    }
    shared_before = _answers(5432, 6379)
    first = _run(env)
    assert first.returncode == 0, first.stderr
    assert f"on port {pg_port}" in first.stdout
    assert f"Starting Redis on port {redis_port}" in first.stdout
    assert "Created database ensure_services_probe." in first.stdout

    # The local postgres role gets in over the loopback without a password (trust, as here).
    answer = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", str(pg_port), "-U", "postgres", "-d", "ensure_services_probe",
         "-w", "-tAc", "SHOW server_encoding"],
        capture_output=True, text=True, env={**os.environ, "PGPASSWORD": ""}, check=False,
    )  # fmt: skip
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.strip() == "UTF8"  # Chinese text fits
    ping = subprocess.run(["redis-cli", "-p", str(redis_port), "ping"], capture_output=True, text=True)
    assert ping.stdout.strip() == "PONG"
    # Broker and cache only: nothing is saved to disk.
    save = subprocess.run(
        ["redis-cli", "-p", str(redis_port), "config", "get", "save"], capture_output=True, text=True
    )
    assert save.stdout.split("\n")[1].strip() == ""
    # This machine's own servers answer as before on their ports, untouched.
    assert _answers(5432, 6379) == shared_before

    # Both answer now: a second run only checks and changes nothing.
    second = _run(env)
    assert second.returncode == 0, second.stderr
    assert second.stdout == ""
    assert len(_clusters_on(pg_port)) == 1


def test_a_remote_server_is_left_alone() -> None:
    # Nothing listens there and nothing is installed, started or created for it.
    result = _run(
        {
            "DATABASE_URL": "postgres://postgres@db.example.invalid:5432/x",
            "REDIS_URL": "redis://cache.example.invalid:6379/0",
        }
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
