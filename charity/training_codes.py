"""The rotating attendance code of a training session: a TOTP-like 6-digit code (RFC 6238 shape).

The trainer's page shows the code of the current window; an attendee types it. A code is valid
in its window and the one before (a code read at the end of a window still works while typed),
so a photo of the screen sent to someone at home stops working within two windows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import struct

WINDOW_SECONDS = 120
DIGITS = 6


def code_at(secret: str, when: dt.datetime) -> str:
    """The code of the window containing `when` (HMAC-SHA1 dynamic truncation, as in RFC 4226)."""
    counter = int(when.timestamp()) // WINDOW_SECONDS
    digest = hmac.new(bytes.fromhex(secret), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**DIGITS).zfill(DIGITS)


def code_is_valid(secret: str, code: str, when: dt.datetime) -> bool:
    """Whether `code` is this window's or the previous one's (constant-time comparison)."""
    code = code.strip()
    ok = False
    for back in (0, 1):
        expected = code_at(secret, when - dt.timedelta(seconds=back * WINDOW_SECONDS))
        ok |= hmac.compare_digest(expected, code)
    return ok


def seconds_left(when: dt.datetime) -> int:
    return WINDOW_SECONDS - int(when.timestamp()) % WINDOW_SECONDS
