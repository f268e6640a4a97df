"""The audit log service: every state change and every sensitive read writes one AuditEvent here."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import structlog
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils.functional import Promise

from .actors import AuditActor
from .models import AuditEvent, Department, Region
from .phones import mask_phone
from .pii import mask_id_number
from .redaction import redact_value

SYSTEM = "system"
RESIDENT = "resident"

# Keys whose values are personal identifiers: stored masked, never raw, whatever their shape
# (a phone typed with odd separators may escape the redaction regex; the key does not).
_ID_KEYS = frozenset({"id_number", "id_no", "idcard", "id_card"})
_PHONE_KEYS = frozenset({"phone", "mobile", "phone_number"})
_HASH_SUFFIX = "_hash"


class _AuditEncoder(DjangoJSONEncoder):
    """DjangoJSONEncoder (dates ISO, Decimal and UUID as str), plus models as their pk."""

    def default(self, o: Any) -> Any:
        if isinstance(o, Model):
            return o.pk
        if isinstance(o, Promise):
            return str(o)
        if isinstance(o, set | frozenset):
            return sorted(o, key=str)
        return super().default(o)


def _mask_by_key(key: str, value: Any) -> Any:
    if value in (None, ""):
        return value
    k = key.lower()
    if k.endswith(_HASH_SUFFIX):
        # A blind index identifies a person as well as the number does: keep only that it changed.
        return "[hash]"
    if k in _ID_KEYS or k.endswith("_id_number"):
        return mask_id_number(str(value))
    if k in _PHONE_KEYS or k.endswith("_phone"):
        return mask_phone(str(value))
    return value


def _clean(values: Mapping[str, Any] | None) -> dict[str, Any]:
    if not values:
        return {}
    # Round-trip through JSON first so that what is masked and redacted is exactly what is stored.
    plain: Any = json.loads(json.dumps(dict(values), cls=_AuditEncoder))
    return _clean_plain(plain)


def _clean_plain(value: dict[str, Any]) -> dict[str, Any]:
    return {key: _clean_item(str(key), v) for key, v in value.items()}


def _clean_item(key: str, value: Any) -> Any:
    if isinstance(value, dict):
        return _clean_plain(value)
    if isinstance(value, list):
        return [_clean_item(key, v) for v in value]
    return redact_value(_mask_by_key(key, value))


def _actor(actor: AuditActor) -> tuple[Any, str]:
    """(user or None, label): a user account, or a label such as "system" / "resident"."""
    if actor is None:
        return None, SYSTEM
    if isinstance(actor, str):
        return None, actor[:150] or SYSTEM
    if getattr(actor, "is_authenticated", False):
        return actor, str(actor.get_username())[:150]
    return None, RESIDENT  # an AnonymousUser: a resident on the login-free pages


def _subject(subject: Model | tuple[str, str]) -> tuple[str, str]:
    if isinstance(subject, Model):
        return subject._meta.label_lower, str(subject.pk)
    subject_type, subject_id = subject
    return str(subject_type)[:64], str(subject_id)[:64]


def _request_id() -> str:
    # django-structlog's RequestMiddleware (and its Celery receivers) bind `request_id`.
    rid = structlog.contextvars.get_contextvars().get("request_id", "")
    return str(rid)[:64] if rid else ""


def audit_record(
    *,
    actor: AuditActor,
    action: str,
    subject: Model | tuple[str, str],
    old: Mapping[str, Any] | None = None,
    new: Mapping[str, Any] | None = None,
    reason: str = "",
    region: Region | None = None,
    department: Department | None = None,
    idempotency_key: str | None = None,
) -> AuditEvent:
    """Write one audit event in the caller's transaction and return it.

    `actor` is a user, None (the system) or a label string ("resident"). PII-shaped strings in
    `old`/`new` are redacted and identifier keys (id_number, phone, *_hash) are stored masked.
    With `idempotency_key`, a second call with the same key returns the first event unchanged.
    """
    user, label = _actor(actor)
    subject_type, subject_id = _subject(subject)
    # atomic(): a savepoint inside the caller's transaction, so a failed insert cannot poison it,
    # and a rollback of the caller's transaction removes the event with the change it records.
    with transaction.atomic():
        if idempotency_key is not None:
            existing = AuditEvent.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing
        event = AuditEvent(
            actor=user,
            actor_label=label,
            action=action[:64],
            subject_type=subject_type,
            subject_id=subject_id,
            region=region,
            department=department,
            old_values=_clean(old),
            new_values=_clean(new),
            reason=redact_value(reason or ""),
            request_id=_request_id(),
            idempotency_key=idempotency_key,
        )
        try:
            with transaction.atomic():
                event.save(force_insert=True)
        except IntegrityError:
            # Two workers raced on the same key: the other one's event stands.
            if idempotency_key is None:
                raise
            return AuditEvent.objects.get(idempotency_key=idempotency_key)
        return event


def _comparable(value: Any) -> Any:
    # A foreign key may be given as an instance on one side and a pk on the other.
    return value.pk if isinstance(value, Model) else value


def diff(
    instance: Model, fields: Iterable[str], new_values: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(old, new) for the fields among `fields` whose value in `new_values` differs from the instance's.

    Fields absent from `new_values` are unchanged. Feed the result to audit_record(old=, new=).
    """
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for name in fields:
        if name not in new_values:
            continue
        before = getattr(instance, name)
        after = new_values[name]
        if _comparable(before) != _comparable(after):
            old[name] = before
            new[name] = after
    return old, new
