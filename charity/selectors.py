"""Every read of the charity app: the public allowlist, the board, and each user's scope."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from assist_center.models import Role
from assist_center.scopes import is_county_wide, profile_of, register_scope, role_of

from .access import organisation_of_user
from .models import Claim, Need, Organisation, PublicReport

PUBLIC_STATUSES = (Need.Status.PUBLISHED, Need.Status.CLAIMED, Need.Status.COMPLETED)
# The one list of what the public may see of a need (issue 11). Nothing else leaves the server.
PUBLIC_FIELDS = (
    "id",
    "category",
    "category_label",
    "township",
    "month",
    "age_band",
    "household_size",
    "text",
    "estimated_cost",
    "quantity",
    "status",
    "status_label",
    "priority",
)


def public_need_dict(need: Need) -> dict[str, Any]:
    """The allowlisted public view of a need: the board card, the share page and the JSON feed."""
    township = need.public_township.name if need.public_township_id and need.public_township else "全县"
    return {
        "id": need.public_id,
        "category": need.category,
        "category_label": need.get_category_display(),
        "township": township,
        "month": need.published_at.strftime("%Y-%m") if need.published_at else "",
        "age_band": need.get_public_age_band_display(),
        "household_size": need.get_public_size_band_display(),
        "text": need.public_text,
        "estimated_cost": str(need.estimated_cost) if need.estimated_cost is not None else None,
        "quantity": need.quantity,
        "status": need.status,
        "status_label": need.get_status_display(),
        "priority": bool(need.priority and need.status == Need.Status.PUBLISHED),
    }


def may_see_vetted_only(user: Any) -> bool:
    org = organisation_of_user(user)
    if org is None:
        return False
    from django.utils import timezone

    return org.claim_refusal(timezone.localdate()) is None


def board_needs(
    *, user: Any = None, category: str = "", township_id: int | None = None, status: str = ""
) -> QuerySet[Need]:
    """The needs on the board, priority first, newest next; vetted-only ones for vetted organisations."""
    qs = Need.objects.filter(status__in=PUBLIC_STATUSES).select_related("public_township")
    if not may_see_vetted_only(user):
        qs = qs.exclude(visibility=Need.Visibility.VETTED_ONLY)
    if category:
        qs = qs.filter(category=category)
    if township_id:
        qs = qs.filter(public_township_id=township_id)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-priority", "-published_at", "-id")


def public_need_or_404(public_id: str, *, user: Any = None) -> Need:
    need = board_needs(user=user).filter(public_id=public_id).first()
    if need is None:
        raise Http404
    return need


# --- scopes ----------------------------------------------------------------------------------------


def scope_needs(qs: QuerySet[Need], user: Any) -> QuerySet[Need]:
    if is_county_wide(user):
        return qs
    p = profile_of(user)
    if p is not None and role_of(user) == Role.TOWNSHIP_ASSISTANT and p.region_id:
        return qs.filter(township_id=p.region_id)
    return qs.none()


def scope_claims(qs: QuerySet[Claim], user: Any) -> QuerySet[Claim]:
    if is_county_wide(user):
        return qs
    org = organisation_of_user(user)
    if org is not None:
        return qs.filter(organisation=org)
    p = profile_of(user)
    if p is not None and role_of(user) == Role.TOWNSHIP_ASSISTANT and p.region_id:
        return qs.filter(need__township_id=p.region_id)
    return qs.none()


def scope_organisations(qs: QuerySet[Organisation], user: Any) -> QuerySet[Organisation]:
    if is_county_wide(user):
        return qs
    org = organisation_of_user(user)
    return qs.filter(pk=org.pk) if org is not None else qs.none()


def scope_reports(qs: QuerySet[PublicReport], user: Any) -> QuerySet[PublicReport]:
    return qs if is_county_wide(user) else qs.none()


register_scope(Need, scope_needs)
register_scope(Claim, scope_claims)
register_scope(PublicReport, scope_reports)


def claims_of_organisation(org: Organisation) -> QuerySet[Claim]:
    return (
        Claim.objects.filter(organisation=org)
        .select_related("need", "need__public_township")
        .order_by("-claimed_at")
    )


def claim_of_organisation_or_404(org: Organisation, claim_id: int) -> Claim:
    claim = claims_of_organisation(org).filter(pk=claim_id).first()
    if claim is None:
        raise Http404
    return claim


def claim_visible_to_staff_or_404(user: Any, claim_id: int) -> Claim:
    claim = (
        scope_claims(Claim.objects.select_related("need", "organisation", "need__township"), user)
        .filter(pk=claim_id)
        .first()
    )
    if claim is None or organisation_of_user(user) is not None:
        raise Http404
    return claim


def release_counts() -> dict[int, int]:
    """Released (lapsed) claims per organisation, for the centre."""
    from django.db.models import Count

    rows = (
        Claim.objects.filter(status=Claim.Status.RELEASED)
        .values("organisation_id")
        .annotate(n=Count("id"))
        .values_list("organisation_id", "n")
    )
    return dict(rows)


__all__ = ["PUBLIC_FIELDS", "Q", "board_needs", "public_need_dict", "public_need_or_404"]
