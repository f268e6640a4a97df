"""The benefits ledger: what each household received, read-only (its writers are its services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin import DateFieldListFilter
from django.db.models import Model
from django.http import HttpRequest
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from applications.admin.access import HouseholdAccessAdminMixin
from applications.models import AccessPurpose
from assist_center.admin.base import REGIONAL_ROLES, ScopedModelAdmin
from assist_center.models import Department, Region

from ..models import BenefitEntry
from .common import ItemFilter, ReadOnlyAdmin, household_link, item_label


def _provider_choices() -> list[tuple[str, Any]]:
    # Departments are a few dozen rows of public reference data; organisations are named as such.
    return list(Department.objects.order_by("sort_order", "code").values_list("code", "name"))


class ProviderFilter(admin.SimpleListFilter):
    title = _("provider")
    parameter_name = "provider"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return _provider_choices()

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        value = self.value()
        return queryset.filter(provider_code=value) if value else queryset


@admin.register(BenefitEntry)
class BenefitEntryAdmin(HouseholdAccessAdminMixin, ReadOnlyAdmin, ScopedModelAdmin):
    # What a person of the household received in a month: each opening is in its access log.
    household_access_purpose = AccessPurpose.ADMIN_RECORD
    viewer_roles = REGIONAL_ROLES
    list_display = (
        "period_month",
        "household_ref",
        "person_name",
        "item_label",
        "provider",
        "amount_or_kind",
        "paid_on",
        "source",
    )
    list_select_related = ("household__village", "person")
    list_filter = (
        "source",
        ItemFilter,
        ProviderFilter,
        ("period", DateFieldListFilter),
    )
    search_fields = ("=household__id", "=household__household_number")
    search_help_text = _("Household number or household id")
    ordering = ("-period", "-id")
    # A county's ledger holds millions of rows: no second COUNT of the unfiltered table per page.
    show_full_result_count = False
    list_per_page = 50
    fields = (
        "household_ref",
        "person_name",
        "item_label",
        "provider",
        "amount",
        "in_kind",
        "period_month",
        "paid_on",
        "source",
        "source_key",
        "enrolment",
        "import_job_id",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    def audit_region(self, obj: Model) -> Region | None:
        return obj.household.village if isinstance(obj, BenefitEntry) else None

    @admin.display(description=_("household"), ordering="household_id")
    def household_ref(self, obj: BenefitEntry) -> SafeString:
        return household_link(obj.household)

    @admin.display(description=_("person"))
    def person_name(self, obj: BenefitEntry) -> str:
        return obj.person.name if obj.person is not None else "—"

    @admin.display(description=_("assistance item"), ordering="item")
    def item_label(self, obj: BenefitEntry) -> str:
        return item_label(obj.item)

    @admin.display(description=_("provider"), ordering="provider_code")
    def provider(self, obj: BenefitEntry) -> str:
        return obj.provider_name or obj.provider_code or "—"

    @admin.display(description=_("amount (yuan)"))
    def amount_or_kind(self, obj: BenefitEntry) -> str:
        return str(obj.amount) if obj.amount is not None else obj.in_kind or "—"

    @admin.display(description=_("period (month)"), ordering="period")
    def period_month(self, obj: BenefitEntry) -> str:
        return f"{obj.period:%Y-%m}"
