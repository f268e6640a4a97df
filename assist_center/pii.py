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
from django.apps import apps
from django.conf import settings
from django.db import models

# Stored values start with this marker so a plaintext that slipped in (or an old row) is detectable.
_PREFIX = "fernet:"

# Two-character surnames: masking them after the first character would show half a surname and
# hide nothing useful, and `欧*` reads as a different family than `欧阳*`.
_COMPOUND_SURNAMES = frozenset(
    {
        "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
        "宇文", "司徒", "夏侯", "轩辕", "令狐", "钟离", "南宫", "独孤", "端木", "西门",
        "百里", "呼延", "澹台", "公冶", "宗政", "濮阳", "太叔", "申屠", "闻人", "赫连",
        "万俟", "拓跋", "完颜", "单于", "淳于", "仲孙", "东郭", "左丘",
    }
)  # fmt: skip
_NAME_SEPARATORS = frozenset("·•・.")


class DecryptionError(Exception):
    """A stored value could not be decrypted with any configured key."""


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in keys])


@lru_cache(maxsize=4)
def _newest(key: str) -> Fernet:
    return Fernet(key.encode())


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def _token(stored: str) -> bytes:
    if not stored.startswith(_PREFIX):
        raise DecryptionError("value is not encrypted")
    return stored[len(_PREFIX) :].encode("ascii")


def encrypt(plaintext: str) -> str:
    return _PREFIX + fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(stored: str) -> str:
    token = _token(stored)
    try:
        return fernet().decrypt(token).decode("utf-8")
    except InvalidToken as exc:
        raise DecryptionError("no configured key decrypts this value") from exc


def is_under_newest_key(stored: str) -> bool:
    """Whether the newest key alone decrypts the value (Fernet tokens carry no key id to read)."""
    try:
        _newest(settings.FIELD_ENCRYPTION_KEYS[0]).decrypt(_token(stored))
    except InvalidToken:
        return False
    return True


def rotate(stored: str) -> str:
    """Re-encrypt a stored value under the newest key."""
    try:
        return _PREFIX + fernet().rotate(_token(stored)).decode("ascii")
    except InvalidToken as exc:
        raise DecryptionError("no configured key decrypts this value") from exc


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
        # Returning None makes the ORM raise FieldError ("Unsupported lookup") instead.
        if lookup_name not in ("isnull",):
            return None
        return super().get_lookup(lookup_name)

    def get_transform(self, lookup_name: str) -> Any:
        # Lower(), Length() etc. would run on the ciphertext and give confident nonsense.
        return None


def encrypted_fields() -> list[tuple[type[models.Model], EncryptedTextField]]:
    """Every concrete EncryptedTextField of every installed model, historical models included."""
    found: list[tuple[type[models.Model], EncryptedTextField]] = []
    for model in apps.get_models(include_auto_created=True):
        opts = model._meta
        if opts.proxy or not opts.managed or opts.swapped:
            continue
        for field in opts.concrete_fields:
            if isinstance(field, EncryptedTextField):
                found.append((model, field))
    return found


def mask_id_number(number: str) -> str:
    """`330***********1234`: the region's first 3 and the last 4; the birth date never shows."""
    if len(number) < 8:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def mask_name(name: str) -> str:
    """`张*`, `欧阳**`, `阿**·***`: the surname stays, for lists shown to people who may not see names."""
    name = name.strip()
    if not name:
        return ""
    # A one-character "name" would be shown whole: hide it.
    if len(name) == 1:
        return "*"
    keep = 2 if len(name) >= 3 and name[:2] in _COMPOUND_SURNAMES else 1
    # Minority names (`买买提·艾力`) keep their separators so the mask still reads as a name.
    return name[:keep] + "".join(c if c in _NAME_SEPARATORS else "*" for c in name[keep:])
