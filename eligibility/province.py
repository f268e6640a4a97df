"""The adapter to the provincial assistance system (大救助信息系统): pluggable, off by default.

PROVINCE_BACKEND names a class with `check(request) -> list[dict]`; empty means off. The one
shipped, HttpProvince, speaks this protocol (docs/province.md):

    POST PROVINCE_CHECK_URL
    X-Timestamp: <unix seconds>
    X-Signature: hex(HMAC-SHA256(PROVINCE_CHECK_SECRET, "<timestamp>\\n" + body))
    {"request_id": "...", "county": "<region code>", "consent_version": "...",
     "members": [{"ref": "m1", "name": "...", "id_number": "..."}]}

    200 {"request_id": "...", "records": [{"member": "m1", "category": "deposit",
         "record_id": "...", "effective_date": "2026-11-30", "<field>": "<value>", ...}]}

Every call is bounded: PROVINCE_CHECK_TIMEOUT seconds per attempt and PROVINCE_CHECK_ATTEMPTS
attempts with a short pause between, so a province that does not answer costs a worker at most
their product and never the local report, which is already saved when the check is asked.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class ProvinceUnavailable(Exception):
    """No answer worth trying again for now: timeouts, connection errors, 5xx."""


class ProvinceRefused(Exception):
    """The province answered no (4xx, a malformed answer): trying again will not help."""


class Province(Protocol):
    def check(self, request: dict[str, Any]) -> list[dict[str, Any]]: ...


def province_backend() -> Province | None:
    path = getattr(settings, "PROVINCE_BACKEND", "")
    if not path:
        return None
    backend: Province = import_string(path)()
    return backend


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}\n".encode() + body, hashlib.sha256).hexdigest()


class HttpProvince:
    """JSON over HTTPS with an HMAC signature; retries with a pause, each attempt time-bounded."""

    def __init__(self) -> None:
        self.url = settings.PROVINCE_CHECK_URL
        self.secret = settings.PROVINCE_CHECK_SECRET
        self.timeout = float(settings.PROVINCE_CHECK_TIMEOUT)
        self.attempts = max(1, int(settings.PROVINCE_CHECK_ATTEMPTS))
        self.attempts_made = 0

    def _once(self, body: bytes) -> list[dict[str, Any]]:
        timestamp = int(time.time())
        request = urllib.request.Request(  # noqa: S310 (the operator's configured https URL)
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "X-Timestamp": str(timestamp),
                "X-Signature": sign(self.secret, timestamp, body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            if exc.code >= 500 or exc.code == 429:
                raise ProvinceUnavailable(f"HTTP {exc.code}") from exc
            raise ProvinceRefused(f"HTTP {exc.code}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise ProvinceUnavailable(type(exc).__name__) from exc
        except ValueError as exc:
            raise ProvinceRefused("answer is not JSON") from exc
        records = answer.get("records") if isinstance(answer, dict) else None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise ProvinceRefused("answer has no list of records")
        return records

    def check(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        if not self.url.startswith(("https://", "http://")):
            raise ProvinceRefused("PROVINCE_CHECK_URL is not an http(s) URL")
        body = json.dumps(request, ensure_ascii=False).encode()
        last: ProvinceUnavailable | None = None
        for attempt in range(self.attempts):
            self.attempts_made = attempt + 1
            try:
                return self._once(body)
            except ProvinceUnavailable as exc:
                last = exc
                if attempt + 1 < self.attempts:
                    time.sleep(min(2.0, 0.25 * 2**attempt))
        assert last is not None
        raise last
