"""What every JSON endpoint shares: the client's address, the body, Idempotency-Key, strict input.

One function decides the client address for the login lockout (django-axes, through
AXES_CLIENT_IP_CALLABLE), the SMS and submission rate limits and the audit trail, so that a header
a client can forge never counts in one place and not in another (security.md, issue 17).

The body is read and parsed here rather than by DRF's JSONParser: the size is checked before a byte
is parsed, the nesting depth and non-finite numbers are refused, and a hostile body (deeply nested,
undecodable, not an object) gives a 4xx in the error format, never a 500 (JSONParser lets
RecursionError through).
"""

from __future__ import annotations

import ipaddress
import json
import math
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, RequestDataTooBig
from django.http import HttpRequest, UnreadablePostError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser
from rest_framework.request import Request

from .errors import ApplicationError, field_error

# A body of the staff API is a handful of short texts, or one on-behalf application (about 20 KB
# with 10 members and 6 supporters, every text at its maximum).
MAX_BODY_BYTES = 64 * 1024
MAX_SMALL_BYTES = 4 * 1024
# The deepest body any endpoint takes is an application: object > list > object > value.
MAX_DEPTH = 8
MAX_IDEMPOTENCY_KEY = 128

TOO_LARGE = _("The request is too large.")
NOT_JSON = _("The request body is not valid JSON.")
NOT_OBJECT = _("The request body must be a JSON object.")
TOO_DEEP = _("The request body is nested too deeply.")
UNKNOWN_FIELD = _("Unknown field.")
NOT_TEXT = _("Must be text.")
NOT_BOOLEAN = _("Must be true or false.")
NOT_LIST = _("Must be a list.")
NOT_MAPPING = _("Must be an object.")
NOT_INTEGER = _("Must be a whole number.")
NOT_NUMBER = _("Must be a number.")

AnyRequest = HttpRequest | Request


# --- the client's address --------------------------------------------------------------------

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_trusted_proxies(values: Iterable[str]) -> tuple[IpNetwork, ...]:
    """TRUSTED_PROXIES entries (addresses or networks) as networks; ImproperlyConfigured names a bad one."""
    networks = []
    for value in values:
        value = value.strip()
        if not value:
            continue
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"TRUSTED_PROXIES: {value!r} is not an IP address or network (e.g. 127.0.0.1, 10.0.0.0/8)"
            ) from None
    return tuple(networks)


@cache
def _trusted(values: tuple[str, ...]) -> tuple[IpNetwork, ...]:
    return parse_trusted_proxies(values)


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    # "[::1]:443" and "1.2.3.4:5678" are how some proxies write a peer with its port.
    if value.startswith("[") and "]" in value:
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def client_ip(request: AnyRequest) -> str | None:
    """The address of the client, as far as this server can know it.

    Without TRUSTED_PROXIES: the socket's REMOTE_ADDR; X-Forwarded-For is ignored, since anyone can
    send it. With TRUSTED_PROXIES, and only when the request came from one of them: X-Forwarded-For
    read from the right, skipping the trusted proxies' own entries; the first entry not from a
    trusted proxy is the client. An overwriting proxy leaves one entry, an appending proxy adds the
    peer it saw after whatever the client sent, so entries left of that one are never believed.
    """
    meta = request.META
    remote = _address(str(meta.get("REMOTE_ADDR") or ""))
    if remote is None:
        return None
    trusted = _trusted(tuple(getattr(settings, "TRUSTED_PROXIES", ())))

    def is_trusted(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(addr.version == net.version and addr in net for net in trusted)

    if not trusted or not is_trusted(remote):
        return str(remote)
    client = remote
    for entry in reversed(str(meta.get("HTTP_X_FORWARDED_FOR") or "").split(",")):
        addr = _address(entry)
        if addr is None:
            # Garbage where a proxy would have written an address: what lies left of it was
            # written by the client; the last hop we could believe is the answer.
            break
        client = addr
        if not is_trusted(addr):
            break
    return str(client)


# --- the body --------------------------------------------------------------------------------


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)  # NaN, Infinity, -Infinity: not JSON, and not a number we can act on


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses to inf
        raise ValueError(text)
    return value


def _depth_exceeds(data: Any, limit: int) -> bool:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Iterable[Any] = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def parse_json(raw: bytes, *, max_bytes: int = MAX_BODY_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """Parse a JSON body, or ApplicationError: 413 too large, 400 malformed, too deep or non-finite."""
    if len(raw) > max_bytes:
        raise ApplicationError(TOO_LARGE, status=413)
    try:
        data = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise ApplicationError(TOO_DEEP) from None
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ApplicationError(NOT_JSON) from None
    if _depth_exceeds(data, max_depth):
        raise ApplicationError(TOO_DEEP)
    return data


def read_body(request: AnyRequest, *, max_bytes: int = MAX_BODY_BYTES) -> bytes:
    """The raw body, refused (413) beyond `max_bytes` before it is read when the length is declared."""
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared:
        try:
            length = int(declared)
        except ValueError:
            raise ApplicationError(NOT_JSON) from None
        if length > max_bytes:
            raise ApplicationError(TOO_LARGE, status=413)
    try:
        body = request.body
    except RequestDataTooBig:
        raise ApplicationError(TOO_LARGE, status=413) from None
    except (UnreadablePostError, OSError):
        raise ApplicationError(NOT_JSON) from None
    # Checked again: a chunked request declares no length.
    if len(body) > max_bytes:
        raise ApplicationError(TOO_LARGE, status=413)
    return body


def json_object(request: AnyRequest, *, max_bytes: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """The body as a JSON object, or ApplicationError (413 too large, 400 malformed or too deep)."""
    data = parse_json(read_body(request, max_bytes=max_bytes), max_bytes=max_bytes)
    if not isinstance(data, dict):
        raise ApplicationError(NOT_OBJECT)
    return data


class LimitedJSONParser(BaseParser):
    """DRF's parser for the staff API with the same limits as json_object (size, depth, finite)."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        if stream is None:
            return {}
        # One byte over the limit is enough to know the body is too large.
        raw = stream.read(MAX_BODY_BYTES + 1)
        try:
            return parse_json(raw)
        except ApplicationError as exc:
            # DRF calls parsers lazily and wraps only ParseError; the message stays translatable.
            raise LimitedJSONParser.Refused(exc) from None

    class Refused(ParseError):
        def __init__(self, error: ApplicationError) -> None:
            super().__init__(detail=str(error.message))
            self.status_code = error.status


# --- headers ---------------------------------------------------------------------------------


def idempotency_key(request: AnyRequest) -> str | None:
    """The Idempotency-Key header, or None; 400 unless 1-128 printable ASCII characters."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    # Printable ASCII only: the key is stored, logged and compared byte for byte.
    if not key or len(key) > MAX_IDEMPOTENCY_KEY or any(not ("!" <= c <= "~") for c in key):
        message = _("The Idempotency-Key header must be 1 to 128 printable ASCII characters.")
        raise field_error("Idempotency-Key", message)
    return key


# --- strict input ----------------------------------------------------------------------------


def _printable_key(key: Any) -> str:
    return str(key).encode("utf-8", "backslashreplace").decode()[:40]


def refuse_unknown_keys(data: Mapping[str, Any], allowed: Iterable[str], *, prefix: str = "") -> None:
    """400 naming up to 20 keys of `data` not in `allowed`: a typo must not pass silently."""
    allowed = frozenset(allowed)
    unknown = [k for k in data if k not in allowed]
    if unknown:
        fields = {prefix + _printable_key(k): str(UNKNOWN_FIELD) for k in unknown[:20]}
        raise ApplicationError(UNKNOWN_FIELD, {"fields": fields})


def _type_error(field: serializers.Field, value: Any) -> Any:
    """The message when `value` has the wrong JSON type for `field`, or None when it may pass.

    DRF coerces where a JSON API should refuse: a CharField takes 12345678 and 1e999 (as "inf"),
    a BooleanField takes "yes" and 1. The value reaches the field's own validation only when its
    JSON type is the one the field means.
    """
    if value is None:
        return None  # the field's allow_null decides
    if isinstance(field, serializers.BaseSerializer | serializers.DictField | serializers.HStoreField):
        if isinstance(field, serializers.ListSerializer):
            return None if isinstance(value, list) else NOT_LIST
        return None if isinstance(value, dict) else NOT_MAPPING
    if isinstance(field, serializers.ListField | serializers.MultipleChoiceField):
        return None if isinstance(value, list) else NOT_LIST
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else NOT_BOOLEAN
    if isinstance(field, serializers.IntegerField):
        return None if isinstance(value, int) and not isinstance(value, bool) else NOT_INTEGER
    if isinstance(field, serializers.DecimalField | serializers.FloatField):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            return NOT_NUMBER
        return None
    if isinstance(field, _TEXT_FIELDS):
        return None if isinstance(value, str) else NOT_TEXT
    return None  # JSONField, a DictField's unvalidated child: any JSON value


# Fields whose JSON value is text (CharField covers Regex, Email, URL, Slug and kin).
_TEXT_FIELDS = (
    serializers.CharField,
    serializers.ChoiceField,
    serializers.DateField,
    serializers.DateTimeField,
    serializers.TimeField,
    serializers.DurationField,
    serializers.UUIDField,
)


def check_types(serializer: serializers.Serializer, data: Any, *, prefix: str = "") -> None:
    """Refuse unknown keys and wrong JSON types in `data`, recursively, before DRF coerces them."""
    if not isinstance(data, dict):
        raise ApplicationError(NOT_OBJECT)
    fields = {name: f for name, f in serializer.fields.items() if not f.read_only}
    refuse_unknown_keys(data, fields, prefix=prefix)
    for name, field in fields.items():
        if name in data:
            _check_value(field, data[name], f"{prefix}{name}")


def _check_value(field: serializers.Field, value: Any, path: str) -> None:
    message = _type_error(field, value)
    if message is not None:
        raise field_error(path, message)
    if value is None:
        return
    if isinstance(field, serializers.ListSerializer):
        for n, item in enumerate(value):
            check_types(field.child, item, prefix=f"{path}.{n}.")  # type: ignore[arg-type]
    elif isinstance(field, serializers.Serializer):
        check_types(field, value, prefix=f"{path}.")
    elif isinstance(field, serializers.ListField):
        for n, item in enumerate(value):
            _check_value(field.child, item, f"{path}.{n}")
    elif isinstance(field, serializers.DictField):
        for key, item in value.items():
            _check_value(field.child, item, f"{path}.{_printable_key(key)}")


def validated(serializer_class: type[serializers.Serializer], data: Any, **kwargs: Any) -> dict[str, Any]:
    """`data` checked strictly (types, unknown keys) and then by the serializer; 400 otherwise."""
    serializer = serializer_class(data=data, **kwargs)
    check_types(serializer, data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


__all__ = [
    "MAX_BODY_BYTES",
    "MAX_SMALL_BYTES",
    "LimitedJSONParser",
    "check_types",
    "client_ip",
    "idempotency_key",
    "json_object",
    "parse_json",
    "parse_trusted_proxies",
    "refuse_unknown_keys",
    "validated",
]
