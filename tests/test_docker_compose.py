"""docker-compose.yml and the Dockerfile describe the production stack without holding secrets.

No container engine runs on the development machines, so these read the files, and have Debian's
docker-compose (installed by scripts/ensure_debian_packages.sh) resolve and validate the compose
file, which needs no engine. scripts/prove_bare_setup.sh goes further: it runs the Dockerfile's steps
on a fresh Debian root and the services' commands and healthchecks there.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.fernet import Fernet

from assist_center.sms.templates import TEMPLATES

REPO = Path(__file__).resolve().parent.parent
# A `${VAR}`, `${VAR:-default}` or `${VAR:?message}` reference and nothing else.
_REFERENCE = re.compile(r"^\$\{[A-Z][A-Z0-9_]*(?::[-?][^}]*)?\}$")
_SECRET_NAME = re.compile(r"SECRET|PASSWORD|_KEY|KEYS|TOKEN|DSN", re.IGNORECASE)
# A Fernet key, a Django secret or any long random-looking token pasted into the file.
_SECRET_VALUE = re.compile(r"[A-Za-z0-9_\-]{40,}={0,2}")
REQUIRED_IN_PRODUCTION = ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "PII_HASH_KEY", "ALLOWED_HOSTS")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]  # type: ignore[no-any-return]


def _command(service: dict[str, Any]) -> str:
    command = service["command"]
    return " ".join(command) if isinstance(command, list) else str(command)


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): str(v) for k, v in env.items()}


def test_the_stack_has_every_service(services: dict[str, Any]) -> None:
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)


def test_database_and_cache_images_and_health_checks(services: dict[str, Any]) -> None:
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "ping" in " ".join(services["redis"]["healthcheck"]["test"])


def test_app_services_run_the_right_commands(services: dict[str, Any]) -> None:
    web = _command(services["web"])
    assert web.startswith("gunicorn assist_center.wsgi")
    assert "0.0.0.0:8000" in web
    assert _command(services["worker"]).startswith("celery -A assist_center worker")
    assert _command(services["beat"]).startswith("celery -A assist_center beat")
    for name in ("web", "worker", "beat"):
        assert services[name]["build"] == "."


def test_web_waits_for_healthy_database_and_redis_and_for_migrations(services: dict[str, Any]) -> None:
    depends = services["web"]["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"
    migrate = services["migrate"]
    assert "migrate" in _command(migrate)
    assert depends["migrate"]["condition"] == "service_completed_successfully"


def test_app_services_run_with_debug_off_and_require_the_production_secrets(services: dict[str, Any]) -> None:
    for name in ("web", "worker", "beat", "migrate"):
        env = _environment(services[name])
        assert env["DEBUG"].lower() == "false", name
        for var in REQUIRED_IN_PRODUCTION:
            # `:?` makes compose stop with a message instead of starting without the value.
            assert re.fullmatch(rf"\$\{{{var}:\?[^}}]+\}}", env[var]), (name, var)
        assert services[name]["env_file"] in (".env", [".env"])


def test_no_secret_value_is_written_in_the_file(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for key, value in _environment(service).items():
            if _SECRET_NAME.search(key):
                assert _REFERENCE.match(value), (name, key)
            # Inside a composed value (DATABASE_URL) every credential must still be a reference.
            without_refs = re.sub(r"\$\{[^}]*\}", "", value)
            assert not _SECRET_VALUE.search(without_refs), (name, key)
            assert not re.search(r"://[^/@]*:[^/@]+@", without_refs), (name, key)


def test_no_secret_in_the_dockerfile_and_the_image_runs_unprivileged() -> None:
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert text.startswith("#") and "FROM python:3.11-slim" in text
    assert "fonts-noto-cjk" in text and "libpango" in text
    assert "collectstatic" in text
    assert re.search(r"^USER (?!root)\S+", text, re.MULTILINE)
    for var in REQUIRED_IN_PRODUCTION:
        assert not re.search(rf"{var}\s*=", text), var
    assert ".env" in (REPO / ".dockerignore").read_text(encoding="utf-8").split()


def test_every_environment_variable_of_the_settings_is_documented() -> None:
    settings_text = (REPO / "assist_center" / "settings" / "base.py").read_text(encoding="utf-8")
    read = set(re.findall(r"env(?:\.\w+)?\(\s*\"([A-Z][A-Z0-9_]*)\"", settings_text))
    read |= set(re.findall(r"_secret\(\s*\"([A-Z][A-Z0-9_]*)\"", settings_text))
    assert {"DEBUG", "SECRET_KEY", "DATABASE_URL", "PII_HASH_KEY"} <= read
    documented = set(
        re.findall(r"^\| `([A-Z][A-Z0-9_]*)`", (REPO / "docs" / "configuration.md").read_text(), re.M)
    )
    assert read - documented == set()


def test_compose_reads_only_documented_variables(compose: dict[str, Any]) -> None:
    lines = (REPO / "docker-compose.yml").read_text(encoding="utf-8").splitlines()
    text = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    # `$${VAR}` is an escape for the container's shell, not a variable compose reads.
    used = set(re.findall(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)", text))
    documented = set(
        re.findall(r"^\| `([A-Z][A-Z0-9_]*)`", (REPO / "docs" / "configuration.md").read_text(), re.M)
    )
    assert used - documented == set()
    example = (REPO / "docs" / "env.example").read_text(encoding="utf-8")
    for var in (*REQUIRED_IN_PRODUCTION, "POSTGRES_PASSWORD"):
        assert re.search(rf"^{var}=", example, re.M), var


def test_web_worker_and_beat_have_healthchecks(services: dict[str, Any]) -> None:
    web = " ".join(services["web"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/healthz" in web and "ALLOWED_HOSTS" in web
    worker = " ".join(services["worker"]["healthcheck"]["test"])
    # Its own node only: another worker's reply must not keep a dead one healthy.
    assert "celery -A assist_center inspect ping --destination celery@$${HOSTNAME}" in worker
    beat = " ".join(services["beat"]["healthcheck"]["test"])
    assert "/tmp/celerybeat-schedule" in beat and "/tmp/celerybeat-schedule" in _command(services["beat"])
    for name in ("web", "worker", "beat"):
        check = services[name]["healthcheck"]
        assert {"interval", "timeout", "retries", "start_period"} <= set(check), name


def test_every_app_service_waits_for_healthy_database_and_redis(services: dict[str, Any]) -> None:
    for name in ("migrate", "web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name
        if name != "migrate":
            assert depends["migrate"]["condition"] == "service_completed_successfully", name


def _example_env() -> dict[str, str]:
    """docs/env.example with its blanks filled as an operator would, optional ones left empty."""
    values: dict[str, str] = {}
    for line in (REPO / "docs" / "env.example").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    generated = {
        "SECRET_KEY": secrets.token_urlsafe(64),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "PII_HASH_KEY": secrets.token_urlsafe(48),
        "POSTGRES_PASSWORD": secrets.token_hex(24),
    }
    for key, value in values.items():
        if key in generated:
            values[key] = generated[key]
        elif key == "SMS_TEMPLATE_IDS":
            values[key] = re.sub(r"=(?=,|$)", "=SMS_100001", value)
        elif not value and key != "SENTRY_DSN":
            values[key] = f"example-{key.lower()}"
    return values


def _compose_config(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`docker-compose config` on a copy of the file beside a .env: interpolated and validated."""
    cli = shutil.which("docker-compose")
    if cli is None:
        pytest.fail("docker-compose is missing: run scripts/ensure_debian_packages.sh")
    shutil.copy(REPO / "docker-compose.yml", tmp_path / "docker-compose.yml")
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in env.items()), encoding="utf-8")
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    return subprocess.run(
        [cli, "config"], cwd=tmp_path, env=clean, capture_output=True, text=True, timeout=60, check=False
    )


def test_docker_compose_validates_the_file_with_the_example_env(tmp_path: Path) -> None:
    result = _compose_config(tmp_path, _example_env())
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)["services"]
    web = resolved["web"]
    assert web["environment"]["DEBUG"] == "false"
    assert web["environment"]["DATABASE_URL"].startswith("postgres://assist:")
    assert web["healthcheck"]["test"][0] == "CMD"
    # Every reference is set or defaulted; the healthcheck's `$${HOSTNAME}` is escaped for the
    # container's shell, not interpolated to a blank by compose.
    assert "is not set" not in result.stderr


def test_docker_compose_refuses_to_start_without_a_required_secret(tmp_path: Path) -> None:
    env = _example_env()
    del env["PII_HASH_KEY"]
    result = _compose_config(tmp_path, env)
    assert result.returncode != 0
    assert "set PII_HASH_KEY in .env" in result.stderr


def test_the_example_env_starts_production_with_an_sms_template_id_for_every_template(tmp_path: Path) -> None:
    result = _compose_config(tmp_path, _example_env())
    assert result.returncode == 0, result.stderr
    environment = yaml.safe_load(result.stdout)["services"]["web"]["environment"]
    # The web container's whole environment (compose's block over the .env), nothing of this one's.
    env = {str(k): str(v) for k, v in environment.items()}
    env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
    env["DJANGO_SETTINGS_MODULE"] = "assist_center.settings.base"
    probe = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'debug': s.DEBUG, 'sms': s.SMS_BACKEND, 'templates': sorted(s.SMS_TEMPLATE_IDS),"
        " 'empty': sorted(k for k, v in s.SMS_TEMPLATE_IDS.items() if not v)}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert loaded.returncode == 0, loaded.stderr
    settings = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert settings["debug"] is False
    assert settings["sms"].endswith("AliyunBackend")
    assert settings["templates"] == sorted(TEMPLATES)
    assert settings["empty"] == []


def test_the_example_env_names_every_variable_production_requires() -> None:
    settings_text = (REPO / "assist_center" / "settings" / "base.py").read_text(encoding="utf-8")
    backends_text = (REPO / "assist_center" / "sms" / "backends.py").read_text(encoding="utf-8")
    required = set(re.findall(r"_secret\(\s*\"([A-Z][A-Z0-9_]*)\"", settings_text))
    # What the example's provider (Aliyun) reads when it sends; Tencent adds SMS_TENCENT_APP_ID.
    required |= set(re.findall(r"_require\(\"([A-Z][A-Z0-9_]*)\"\)", backends_text)) - {"SMS_TENCENT_APP_ID"}
    required |= {"ALLOWED_HOSTS", "SMS_BACKEND", "SMS_TEMPLATE_IDS", "POSTGRES_PASSWORD"}
    assert {"SECRET_KEY", "SMS_ACCESS_KEY_ID", "SMS_SIGN_NAME"} <= required
    example = (REPO / "docs" / "env.example").read_text(encoding="utf-8")
    assert {var for var in required if not re.search(rf"^{var}=", example, re.M)} == set()


def _check_code(service: dict[str, Any]) -> str:
    """The Python one-liner of a `["CMD", "python", "-c", CODE]` healthcheck."""
    test = service["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"], test
    return str(test[3])


@pytest.mark.django_db(transaction=True)
def test_the_web_healthcheck_passes_against_a_running_server_and_fails_without_one(live_server: Any) -> None:
    code = _check_code(_services()["web"]).replace("http://127.0.0.1:8000", live_server.url)
    env = {**os.environ, "ALLOWED_HOSTS": "localhost,127.0.0.1"}
    ok = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0, ok.stderr
    # Nothing listening: the check fails (a dead web turns unhealthy, not "healthy by default").
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    down = subprocess.run(
        [sys.executable, "-c", code.replace(live_server.url, dead)], env=env, capture_output=True, timeout=30
    )
    assert down.returncode != 0


def test_the_beat_healthcheck_turns_unhealthy_when_the_schedule_file_goes_stale(tmp_path: Path) -> None:
    code = _check_code(_services()["beat"]).replace("/tmp/celerybeat-schedule", str(tmp_path / "schedule"))

    def check() -> int:
        return subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30).returncode

    assert check() != 0  # no schedule file yet: beat has not started scheduling
    schedule = tmp_path / "schedule.db"  # the shelve backend may add a suffix
    schedule.write_bytes(b"")
    assert check() == 0
    eleven_minutes_ago = time.time() - 11 * 60
    os.utime(schedule, (eleven_minutes_ago, eleven_minutes_ago))
    assert check() != 0


def _services() -> dict[str, Any]:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))["services"]
