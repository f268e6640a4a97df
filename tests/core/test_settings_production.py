"""Production settings: secrets are required, checked at start-up, and `check --deploy` is clean."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

BASE_DIR = Path(__file__).resolve().parents[2]
PYTHON = sys.executable

# Every variable the settings read a secret or a security switch from; each is set explicitly (empty
# when absent) so that a developer's .env file cannot make these tests pass or fail.
_SECRET_VARS = ("SECRET_KEY", "SECRET_KEY_FALLBACKS", "FIELD_ENCRYPTION_KEYS", "PII_HASH_KEY")


def clean_env(**overrides: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "assist_center.settings.base",
        "DEBUG": "false",
        "PYTHONDONTWRITEBYTECODE": "1",
        **dict.fromkeys(_SECRET_VARS, ""),
    }
    env.update(overrides)
    return env


def production_secrets() -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(64),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "PII_HASH_KEY": secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "example.gov.cn",
        "SMS_BACKEND": "assist_center.sms.backends.AliyunBackend",
    }


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def start_django(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run(["-c", "import django; django.setup(); print('started')"], env)


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def assert_refused(result: subprocess.CompletedProcess[str], variable: str) -> None:
    assert result.returncode != 0
    assert "started" not in result.stdout
    # The failure is the settings' own ImproperlyConfigured, not some later, unrelated error.
    final = last_line(result.stderr)
    assert final.startswith("django.core.exceptions.ImproperlyConfigured:"), result.stderr[-2000:]
    assert variable in final


def test_production_without_secrets_refuses_to_start_naming_secret_key() -> None:
    result = start_django(clean_env())
    assert_refused(result, "SECRET_KEY")


def test_manage_py_without_secrets_refuses_to_start_naming_secret_key() -> None:
    result = run(["manage.py", "check", "--deploy"], clean_env())
    assert_refused(result, "SECRET_KEY")


@pytest.mark.parametrize("missing", ["FIELD_ENCRYPTION_KEYS", "PII_HASH_KEY"])
def test_each_missing_secret_is_named(missing: str) -> None:
    result = start_django(clean_env(**{**production_secrets(), missing: ""}))
    assert_refused(result, missing)


def test_check_deploy_with_real_secrets_is_clean() -> None:
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], clean_env(**production_secrets())
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    output = result.stdout + result.stderr
    assert "WARNING" not in output
    assert "security.W" not in output
    assert "Traceback" not in output


def test_production_defaults_are_secure() -> None:
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS >= 31536000, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.X_FRAME_OPTIONS, s.STAFF_REQUIRE_2FA)"
    )
    result = run(["-c", code], clean_env(**production_secrets()))
    assert result.returncode == 0, result.stderr
    assert last_line(result.stdout) == "False True True True True True DENY True"


def test_csp_allows_no_unsafe_inline_or_eval() -> None:
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps(s.CONTENT_SECURITY_POLICY, default=str))"
    )
    result = run(["-c", code], clean_env(**production_secrets()))
    assert result.returncode == 0, result.stderr
    assert "unsafe-inline" not in result.stdout
    assert "unsafe-eval" not in result.stdout


@pytest.mark.parametrize(
    "secret_key",
    ["short-" + "a1b2c3" * 5, "django-insecure-" + secrets.token_urlsafe(50), "ab" * 40],
    ids=["short", "insecure-prefix", "few-distinct-characters"],
)
def test_weak_secret_key_is_refused(secret_key: str) -> None:
    result = start_django(clean_env(**{**production_secrets(), "SECRET_KEY": secret_key}))
    assert_refused(result, "SECRET_KEY")
    assert secret_key not in result.stderr


def test_pii_hash_key_equal_to_secret_key_is_refused() -> None:
    env = production_secrets()
    env["PII_HASH_KEY"] = env["SECRET_KEY"]
    result = start_django(clean_env(**env))
    assert_refused(result, "PII_HASH_KEY")
    assert env["SECRET_KEY"] not in result.stderr


def test_pii_hash_key_equal_to_an_encryption_key_is_refused() -> None:
    env = production_secrets()
    env["PII_HASH_KEY"] = env["FIELD_ENCRYPTION_KEYS"]
    result = start_django(clean_env(**env))
    assert_refused(result, "PII_HASH_KEY")


def test_short_pii_hash_key_is_refused() -> None:
    result = start_django(clean_env(**{**production_secrets(), "PII_HASH_KEY": "too-short"}))
    assert_refused(result, "PII_HASH_KEY")


@pytest.mark.parametrize("debug", ["false", "true"])
@pytest.mark.parametrize(
    "bad_key",
    ["not-a-fernet-key", secrets.token_urlsafe(32), "Zm9v" * 11],
    ids=["garbage", "wrong-length", "base64-of-33-bytes"],
)
def test_malformed_field_encryption_key_fails_at_start_up_without_echoing_it(
    debug: str, bad_key: str
) -> None:
    good = Fernet.generate_key().decode()
    env = clean_env(**{**production_secrets(), "DEBUG": debug, "FIELD_ENCRYPTION_KEYS": f"{good},{bad_key}"})
    result = start_django(env)
    assert_refused(result, "FIELD_ENCRYPTION_KEYS")
    assert "key #2" in last_line(result.stderr)
    assert bad_key not in result.stderr + result.stdout
    assert good not in result.stderr + result.stdout


def test_several_encryption_keys_are_accepted_newest_first() -> None:
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(len(s.FIELD_ENCRYPTION_KEYS))"
    )
    result = run(
        ["-c", code], clean_env(**{**production_secrets(), "FIELD_ENCRYPTION_KEYS": f" {new} , {old} "})
    )
    assert result.returncode == 0, result.stderr
    assert last_line(result.stdout) == "2"


@pytest.mark.parametrize("backend", ["ConsoleBackend", "FileBackend"])
def test_development_sms_backends_are_refused_in_production(backend: str) -> None:
    env = clean_env(**{**production_secrets(), "SMS_BACKEND": f"assist_center.sms.backends.{backend}"})
    assert_refused(start_django(env), "SMS_BACKEND")


def test_empty_allowed_hosts_is_refused_in_production() -> None:
    env = clean_env(**{**production_secrets(), "ALLOWED_HOSTS": ""})
    assert_refused(start_django(env), "ALLOWED_HOSTS")


@pytest.mark.parametrize(
    ("variable", "value"),
    [("REFERRAL_BLUE_FRACTION", "50"), ("REFERRAL_YELLOW_DAYS_LEFT", "-1"), ("REFERRAL_DEFAULT_DAYS", "0")],
)
def test_a_warning_setting_out_of_range_refuses_to_start_naming_it(variable: str, value: str) -> None:
    # 50 meant as "50 %" would colour every referral blue from its first day.
    result = start_django(clean_env(**{**production_secrets(), variable: value}))
    assert_refused(result, variable)
