"""Admin of the organisations working with the centre: the coordinator's alone.

Organisation members have no admin access at all (is_staff is false, see staff_profile_assign):
they work in the public portal, which shows only de-identified needs.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from assist_center.admin.base import ScopedModelAdmin
from assist_center.models import Region, Role
from assist_center.scopes import is_county_wide

from ..models import Claim, Organisation


@admin.register(Organisation)
class OrganisationAdmin(ScopedModelAdmin):
    viewer_roles = (Role.COORDINATOR,)
    editor_roles = (Role.COORDINATOR,)
    list_display = ("name", "kind", "township", "is_vetted", "open_claims", "released_claims")
    list_select_related = ("township",)
    list_filter = ("kind", "is_vetted")
    search_fields = ("name", "credit_code")
    filter_horizontal = ("members",)

    def scope_queryset(self, request: HttpRequest, qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs if is_county_wide(request.user) else qs.none()

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # The centre watches claims that lapse (issue 11): counted in the changelist's one query.
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_open=Count("claims", filter=Q(claims__status__in=Claim.OPEN_STATUSES)),
                n_released=Count("claims", filter=Q(claims__status=Claim.Status.RELEASED)),
            )
        )

    @admin.display(description="未完成认领", ordering="n_open")
    def open_claims(self, obj: Any) -> int:
        return int(getattr(obj, "n_open", 0))

    @admin.display(description="超时释放", ordering="n_released")
    def released_claims(self, obj: Any) -> int:
        return int(getattr(obj, "n_released", 0))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "township":
            kwargs["queryset"] = self.related_choices(request, Region).filter(level=Region.Level.TOWNSHIP)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "members":
            # Only organisation accounts can be members: staff never act for an organisation.
            users = self.related_choices(request, db_field.remote_field.model)
            kwargs["queryset"] = users.filter(profile__role=Role.ORGANISATION)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def audit_region(self, obj: Any) -> Region | None:
        return getattr(obj, "township", None)
