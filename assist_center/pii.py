"""Personal data at rest: authenticated encryption, a keyed blind index, and masks.

Keys come from FIELD_ENCRYPTION_KEYS (MultiFernet, newest first) and PII_HASH_KEY, never from
SECRET_KEY. A wrong or missing key raises instead of returning ciphertext, so a misconfigured
host fails loudly rather than showing or re-saving garbage.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

# Stored values start with this marker so a plaintext that slipped in (or an old row) is detectable.
_PREFIX = "fernet:"


class DecryptionError(Exception):
    """A stored value could not be decrypted with any configured key."""


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return _PREFIX + fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(stored: str) -> str:
    if not stored.startswith(_PREFIX):
        raise DecryptionError("value is not encrypted")
    try:
        return fernet().decrypt(stored[len(_PREFIX):].encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise DecryptionError("no configured key decrypts this value") from exc


def rotate(stored: str) -> str:
    """Re-encrypt a stored value under the newest key."""
    return _PREFIX + fernet().rotate(stored[len(_PREFIX):].encode("ascii")).decode("ascii")


def blind_index(kind: str, normalised: str) -> str:
    """HMAC-SHA256 of a normalised value, separated by kind so an ID hash never equals a phone hash."""
    key = settings.PII_HASH_KEY.encode("utf-8")
    return hmac.new(key, f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()


def id_number_index(normalised_id: str) -> str:
    return blind_index("id", normalised_id)


def phone_index(e164: str) -> str:
    return blind_index("phone", e164)


class EncryptedTextField(models.TextField):
    """A text column holding Fernet ciphertext; Python sees plaintext. Not searchable: use a blind index."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))

    def get_lookup(self, lookup_name: str) -> Any:
        # Ciphertext is randomised: every lookup except isnull would silently match nothing.
        if lookup_name not in ("isnull",):
            return None
        return super().get_lookup(lookup_name)


def mask_id_number(number: str) -> str:
    """`330***********1234`: the region's first 3 and the last 4; the birth date never shows."""
    if len(number) < 8:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def mask_name(name: str) -> str:
    """`张*` / `欧阳**`: the surname stays, for lists shown to people who may not see names in full."""
    if len(name) <= 1:
        return name
    return name[0] + "*" * (len(name) - 1)
