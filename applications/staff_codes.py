"""Staff codes: the stable, non-identifying code a resident can quote for a staff or organisation account."""

from __future__ import annotations

import base64

from assist_center.pii import blind_index

__all__ = ["STAFF_CODE_LENGTH", "normalise_staff_code", "staff_code"]

STAFF_CODE_LENGTH = 8


def staff_code(user_id: int) -> str:
    """The stable, non-identifying code of a staff or organisation account, e.g. `K7QF-2M9X`.

    An HMAC of the account id under the blind-index key: the same account always has the same
    code, the code says nothing about who it is, and only someone holding the key (the centre,
    through staff_code_resolve) can map it back. Base32 without padding, so it reads aloud well.
    """
    digest = blind_index("staff_code", str(user_id))
    raw = base64.b32encode(bytes.fromhex(digest)).decode("ascii")[:STAFF_CODE_LENGTH]
    return f"{raw[:4]}-{raw[4:]}"


def normalise_staff_code(code: str) -> str:
    """The code as staff_code prints it, from what a resident typed or read out (case, spaces, dashes)."""
    cleaned = "".join(ch for ch in code.upper() if ch.isascii() and ch.isalnum())
    if len(cleaned) != STAFF_CODE_LENGTH:
        return ""
    return f"{cleaned[:4]}-{cleaned[4:]}"
