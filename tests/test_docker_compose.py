"""docker-compose.yml and the Dockerfile describe the production stack without holding secrets.

Docker cannot run on the development machines, so these read the files instead.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

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
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))
    documented = set(
        re.findall(r"^\| `([A-Z][A-Z0-9_]*)`", (REPO / "docs" / "configuration.md").read_text(), re.M)
    )
    assert used - documented == set()
    example = (REPO / "docs" / "env.example").read_text(encoding="utf-8")
    for var in (*REQUIRED_IN_PRODUCTION, "POSTGRES_PASSWORD"):
        assert re.search(rf"^{var}=", example, re.M), var
