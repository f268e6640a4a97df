"""The one password of every demo account: DEMO_PASSWORD, or generated once into var/.

Generated rather than fixed so that no password lives in the repository; kept in a 0600 file under
settings.VAR_DIR (git-ignored) so later runs and `manage.py demo_banner` show the same one.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.conf import settings

FILE_NAME = "demo_password.txt"


def password_file() -> Path:
    return Path(settings.VAR_DIR) / FILE_NAME


def read_demo_password() -> str | None:
    """Return the configured or stored demo password, or None before the first seed."""
    if settings.DEMO_PASSWORD:
        return str(settings.DEMO_PASSWORD)
    try:
        stored = password_file().read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return stored or None


def get_or_create_demo_password() -> str:
    """Return the demo password, generating and storing one (mode 0600) if there is none yet."""
    existing = read_demo_password()
    if existing:
        return existing
    path = password_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    # 24 URL-safe characters: well above the 12-character validator, easy to copy from a terminal.
    password = secrets.token_urlsafe(18)
    # O_EXCL: two seeders racing must not each write a different password.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        stored = read_demo_password()
        if stored:
            return stored
        # An empty file left by an interrupted run: replace it, keeping it private.
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
        os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(password + "\n")
    return password
