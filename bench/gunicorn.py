"""The shared web harness of the load benchmarks: gunicorn as deployed, on a loopback port.

`serve()` starts gunicorn the way docs/deployment.md runs it on a 2-core machine (3 workers of
4 threads, `assist_center.wsgi`), with DEBUG off and the bench's own settings module (the project's
settings plus the bare comparison view's URL, bench/load_settings.py), against the bench's
database; it waits for `/healthz` to answer 200 and stops gunicorn (TERM, then KILL) on the way
out, whatever happened inside.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

# docs/deployment.md, "Sizing": 2 cores -> 3 workers x 4 threads (docker-compose's web service).
WORKERS = 3
THREADS = 4
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 15.0
# Loopback ports of the bench (8107-8109 belong to this harness; 8000 is the development server's).
DEFAULT_PORT = int(os.environ.get("BENCH_WEB_PORT", "8107"))


def web_env(**extra: str) -> dict[str, str]:
    """The environment of the bench's gunicorn: production settings (DEBUG off) on the bench database.

    The encryption and blind-index keys are the bench process's own (the development ones under
    `make bench`), so the web reads what the bench wrote; the SMS backend is a real provider's class
    that nothing calls (the outbox is left for a worker the bench does not run); TRUSTED_PROXIES is
    the loopback, as behind the reverse proxy, so each simulated resident has its own address.
    """
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.load_settings",
            "DEBUG": "false",
            "DATABASE_URL": (
                f"postgres://{db['USER']}{(':' + db['PASSWORD']) if db.get('PASSWORD') else ''}"
                f"@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
            ),
            "SECRET_KEY": "bench-" + "k7Qz9vR2xW4mN8pL3tY6bH1jD5fG0sA" * 2,
            "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
            "PII_HASH_KEY": settings.PII_HASH_KEY,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "TRUSTED_PROXIES": "127.0.0.1",
            "SMS_BACKEND": "assist_center.sms.backends.AliyunBackend",
            "SMS_SIGN_NAME": "bench",
            "CACHE_KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "ac") + "-bench",
            "LOG_LEVEL": "WARNING",
            # Its own collected files (the manifest DEBUG-off pages need), not the development ones.
            "STATIC_ROOT": str(Path(settings.BASE_DIR) / "var" / "bench" / "static"),
        }
    )
    env.update(extra)
    return env


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback URL
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def serve(*, port: int = DEFAULT_PORT, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run gunicorn on 127.0.0.1:`port` until the block ends; yield its base URL."""
    base = f"http://127.0.0.1:{port}"
    if _healthy(base + "/healthz"):
        raise RuntimeError(f"something already answers on {base}: choose another BENCH_WEB_PORT")
    log_path = Path(settings.BASE_DIR) / "var" / "bench" / f"gunicorn-{port}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = env or web_env()
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--clear", "-v", "0"],
        cwd=settings.BASE_DIR, env=env, check=True, timeout=300,
    )  # fmt: skip
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    command = [
        gunicorn, "assist_center.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS),
        "--threads", str(THREADS), "--timeout", "60", "--graceful-timeout", "10",
    ]  # fmt: skip
    with log_path.open("wb") as log:  # this run's log only
        process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=log, start_new_session=True
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _healthy(base + "/healthz"):
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}; see {log_path}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"gunicorn did not answer /healthz within {START_TIMEOUT_S:.0f} s; see {log_path}"
                )
            time.sleep(0.5)
        yield base
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
