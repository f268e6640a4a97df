"""What the benefits admins share: Chinese labels for every code, read-only rows, household links."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from applications.models import NeedItem

# The item codes are the 8+X assistance items (applications.NeedItem, translated); a code outside
# them (a department's own) is shown as it came.
ITEM_LABELS: dict[str, Any] = dict(NeedItem.choices)


def item_label(code: str) -> str:
    return str(ITEM_LABELS.get(code, code)) if code else "—"


class ItemFilter(admin.SimpleListFilter):
    """Filter by assistance item, with the items' names rather than their codes (no query)."""

    title = _("assistance item")
    parameter_name = "item"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return list(NeedItem.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(item=value) if value in NeedItem.values else queryset


class ReadOnlyAdmin:
    """Rows that change only through their services (or never): no add, change or delete here."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # No delete_selected, whatever the role: the rows are history.
        actions = super().get_actions(request)  # type: ignore[misc]
        actions.pop("delete_selected", None)
        return dict(actions)


def household_link(household: Any) -> SafeString:
    """`村名 #id` linking the household page (the household's whole story)."""
    return format_html(
        '<a href="{}">{} #{}</a>',
        reverse("staff-household", args=[household.pk]),
        household.village.name,
        household.pk,
    )


def choices_filter(field: str, title: Any, choices: list[tuple[str, Any]]) -> type[admin.SimpleListFilter]:
    """A list filter over a code column that has no model choices, with the codes' labels."""
    values = {k for k, _label in choices}

    class _Filter(admin.SimpleListFilter):
        parameter_name = field

        def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
            return choices

        def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
            value = self.value()
            return queryset.filter(**{field: value}) if value in values else queryset

    _Filter.title = title
    return _Filter
