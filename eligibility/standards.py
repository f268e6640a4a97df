"""Assistance standards: which version is in force for a region on a date, and publishing a new one.

A standard in force is never edited in place (issue 4): a new version with a start date replaces
it, and the previous version's `effective_to` is set to that date (exclusive). A township's own
standard overrides the county's for that item; otherwise the county's applies.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assist_center.actors import AuditActor, account_of
from assist_center.audit import audit_record
from assist_center.errors import ApplicationError, field_error
from assist_center.models import Region

from .models import Standard
from .rules import ITEMS, ParamsError, validate_params


def _regions_for(region: Region) -> list[int]:
    """[township id, county id] of a village, township or county: the lookup order of standards."""
    if region.level == Region.Level.COUNTY:
        return [region.pk]
    township_id = region.pk if region.level == Region.Level.TOWNSHIP else region.township_id
    county_id: int | None
    if region.level == Region.Level.TOWNSHIP:
        county_id = region.parent_id
    else:
        county_id = (
            Region.objects.filter(pk=township_id).values_list("parent_id", flat=True).first()
            if township_id is not None
            else None
        )
    return [r for r in (township_id, county_id) if r is not None]


def in_force_q(as_of: dt.date) -> Q:
    return Q(effective_from__lte=as_of) & (Q(effective_to__isnull=True) | Q(effective_to__gt=as_of))


def standards_in_force(region: Region, as_of: dt.date) -> dict[str, Standard]:
    """item -> the Standard in force on `as_of` for `region` (township's own, else the county's)."""
    order = _regions_for(region)
    found: dict[str, Standard] = {}
    rows = Standard.objects.filter(in_force_q(as_of), region_id__in=order).select_related("region")
    for s in sorted(rows, key=lambda s: order.index(s.region_id)):
        found.setdefault(s.item, s)
    return found


def start_date_problem(latest: Standard | None, effective_from: dt.date, today: dt.date) -> str:
    """Why a new version may not start on `effective_from` ("" if it may)."""
    if latest is None:
        return ""
    if effective_from <= latest.effective_from:
        return str(
            _("A new version must start after the latest one (%(date)s).")
            % {"date": latest.effective_from.isoformat()}
        )
    if effective_from < today:
        return str(_("A new version cannot start in the past."))
    return ""


def latest_version(item: str, region: Region) -> Standard | None:
    return Standard.objects.filter(item=item, region=region).order_by("-effective_from").first()


def standard_publish(
    *,
    actor: AuditActor,
    item: str,
    region: Region,
    effective_from: dt.date,
    params: dict[str, Any],
    note: str = "",
    today: dt.date | None = None,
) -> Standard:
    """Add a new version of an item's standard for a region, closing the version it replaces.

    The first version of an item in a region may start on any date. Later versions start after
    the latest one and not before today: reports already made against a standard stay true.
    """
    if item not in ITEMS:
        raise field_error("item", _("Unknown assistance item."))
    if region.level == Region.Level.VILLAGE:
        raise field_error("region", _("Standards are set for the county or a township."))
    if "\x00" in note or len(note) > 200:
        raise field_error("note", _("The note may have at most 200 characters."))
    try:
        clean = validate_params(item, params)
    except ParamsError as exc:
        raise ApplicationError(_("Check the standard's parameters."), {"fields": exc.fields}) from None
    today = today or timezone.localdate()
    with transaction.atomic():
        # Lock the item's versions in this region: two coordinators publishing at once get
        # consecutive versions, never the same number or two open-ended versions.
        versions = list(
            Standard.objects.select_for_update().filter(item=item, region=region).order_by("-effective_from")
        )
        latest = versions[0] if versions else None
        problem = start_date_problem(latest, effective_from, today)
        if problem:
            raise field_error("effective_from", problem)
        number = (Standard.objects.filter(item=item, region=region).aggregate(n=Max("version"))["n"] or 0) + 1
        standard = Standard.objects.create(
            item=item,
            region=region,
            effective_from=effective_from,
            version=number,
            params=clean,
            note=note,
            created_by=account_of(actor),
        )
        if latest is not None and (latest.effective_to is None or latest.effective_to > effective_from):
            latest.effective_to = effective_from
            latest.save(update_fields=["effective_to"])
        audit_record(
            actor=actor,
            action="standard.publish",
            subject=standard,
            new={
                "item": item,
                "region": region.code,
                "version": number,
                "effective_from": effective_from,
                "params": clean,
            },
            reason=note,
            region=region if region.level == Region.Level.TOWNSHIP else None,
        )
    return standard


def standard_amend(
    *, actor: AuditActor, standard_id: int, params: dict[str, Any], note: str, today: dt.date | None = None
) -> Standard:
    """Correct a version that has not started yet; one in force (or past) is refused."""
    today = today or timezone.localdate()
    try:
        clean = validate_params(Standard.objects.values_list("item", flat=True).get(pk=standard_id), params)
    except Standard.DoesNotExist:
        raise ApplicationError(_("Standard not found."), status=404) from None
    except ParamsError as exc:
        raise ApplicationError(_("Check the standard's parameters."), {"fields": exc.fields}) from None
    with transaction.atomic():
        standard = Standard.objects.select_for_update().get(pk=standard_id)
        if standard.effective_from <= today:
            raise ApplicationError(
                _("A standard in force is never changed: publish a new version with a start date."),
                status=409,
            )
        old = {"params": standard.params, "note": standard.note}
        standard.params = clean
        standard.note = note
        standard.save(update_fields=["params", "note"])
        audit_record(
            actor=actor,
            action="standard.amend",
            subject=standard,
            old=old,
            new={"params": clean, "note": note},
        )
    return standard


def standard_history(*, item: str, region: Region) -> list[Standard]:
    return list(Standard.objects.filter(item=item, region=region).order_by("-version"))
