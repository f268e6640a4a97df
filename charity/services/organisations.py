"""Organisations apply on the portal; the coordinator vets them (approve, refuse, suspend, renew)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from stdnum.cn import uscc

from assist_center.actors import Actor, account_of
from assist_center.audit import audit_record
from assist_center.errors import ConflictError, field_error
from assist_center.inputs import clean_text
from assist_center.models import Region
from assist_center.permissions import may_vet_organisations

from ..models import Category, Organisation


def validate_credit_code(kind: str, code: str) -> str:
    """The normalised 统一社会信用代码, or a field error; blank for kinds that act as persons."""
    code = (code or "").strip().upper()
    if kind in Organisation.KINDS_WITHOUT_CREDIT_CODE:
        if code and not uscc.is_valid(code):
            raise field_error("credit_code", "统一社会信用代码不正确，请核对18位代码（可不填）。")
        return code
    if not code:
        raise field_error("credit_code", "请填写18位统一社会信用代码。")
    if not uscc.is_valid(code):
        raise field_error("credit_code", "统一社会信用代码不正确，请核对18位代码。")
    return code


def organisation_apply(
    *,
    actor: Actor,
    name: str,
    kind: str,
    credit_code: str,
    contact_name: str,
    contact_phone: str,
    township_ids: Iterable[int],
    categories: Iterable[str],
) -> Organisation:
    """An organisation's application to join the 公益谷 (waits for the coordinator's vetting)."""
    name = clean_text("name", name, required=True, max_length=100)
    if kind not in Organisation.Kind.values:
        raise field_error("kind", "请选择组织类型。")
    code = validate_credit_code(kind, credit_code)
    contact_name = clean_text("contact_name", contact_name, required=True, max_length=64)
    contact_phone = clean_text("contact_phone", contact_phone, required=True, max_length=32)
    cats = [c for c in categories if c in Category.values]
    if not cats:
        raise field_error("categories", "请至少选择一个服务类别。")
    towns = list(Region.objects.filter(pk__in=list(township_ids), level=Region.Level.TOWNSHIP))
    if not towns:
        raise field_error("townships", "请至少选择一个服务乡镇。")
    if Organisation.objects.filter(name=name).exists():
        raise field_error("name", "该组织名称已登记，请联系联合帮扶中心。")
    with transaction.atomic():
        org = Organisation.objects.create(
            name=name,
            kind=kind,
            credit_code=code,
            contact_name=contact_name,
            contact_phone=contact_phone,
            categories=cats,
            applied_at=timezone.now(),
        )
        org.service_townships.set(towns)
        account = account_of(actor)
        if account is not None:
            org.members.add(account)
        audit_record(actor=actor, action="organisation.apply", subject=org, new={"kind": kind})
    return org


def _vet(*, actor: Actor, org_id: int, to: str, reason: str, allowed_from: tuple[str, ...]) -> Organisation:
    if not may_vet_organisations(actor):
        raise PermissionDenied
    reason = clean_text("reason", reason, required=to != Organisation.Vetting.APPROVED, max_length=500)
    with transaction.atomic():
        org = Organisation.objects.select_for_update().get(pk=org_id)
        if org.vetting not in allowed_from:
            raise ConflictError(f"该组织当前为“{org.get_vetting_display()}”，不能进行此操作。")
        old = {"vetting": org.vetting}
        org.vetting = to
        org.vetting_reason = reason
        org.is_vetted = to == Organisation.Vetting.APPROVED
        fields: list[str] = ["vetting", "vetting_reason", "is_vetted"]
        if to == Organisation.Vetting.APPROVED:
            org.vetted_at = timezone.now()
            org.vetted_until = timezone.localdate() + dt.timedelta(days=Organisation.VETTING_VALID_DAYS)
            fields += ["vetted_at", "vetted_until"]
        org.save(update_fields=fields)
        audit_record(
            actor=actor, action=f"organisation.{to}", subject=org, old=old, new={"vetting": to}, reason=reason
        )
    return org


def organisation_approve(*, actor: Actor, org_id: int, reason: str = "") -> Organisation:
    """Approve (or renew) for 12 months."""
    V = Organisation.Vetting
    return _vet(
        actor=actor,
        org_id=org_id,
        to=V.APPROVED,
        reason=reason,
        allowed_from=(V.APPLIED, V.APPROVED, V.SUSPENDED, V.REFUSED),
    )


def organisation_refuse(*, actor: Actor, org_id: int, reason: str) -> Organisation:
    V = Organisation.Vetting
    return _vet(actor=actor, org_id=org_id, to=V.REFUSED, reason=reason, allowed_from=(V.APPLIED,))


def organisation_suspend(*, actor: Actor, org_id: int, reason: str) -> Organisation:
    V = Organisation.Vetting
    return _vet(actor=actor, org_id=org_id, to=V.SUSPENDED, reason=reason, allowed_from=(V.APPROVED,))


def organisation_summary(org: Organisation) -> dict[str, Any]:
    return {"name": org.name, "kind": org.get_kind_display(), "vetting": org.get_vetting_display()}
