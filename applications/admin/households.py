"""Admin of households, persons and applications: scoped to the user's township or village, PII masked.

A person's full ID number or phone never reaches the browser from these pages; it appears only on
the reveal page, after a reason, through assist_center.services.person_reveal (audited).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from assist_center.admin.base import REGIONAL_ROLES, ScopedInlineMixin, ScopedModelAdmin
from assist_center.errors import ApplicationError
from assist_center.models import Region
from assist_center.scopes import can_reveal_pii
from assist_center.services import person_reveal

from .. import selectors
from ..models import AccessPurpose, Household, Person
from ..services.access import household_access_record
from .access import HouseholdAccessAdminMixin
from .common import (
    EDITOR_ROLES,
    PII_FIELDS,
    REVEAL_LABELS,
    REVEAL_TEMPLATE,
    MaskedColumns,
    RevealForm,
)

# --- households ------------------------------------------------------------------------------


class PersonInline(MaskedColumns, ScopedInlineMixin, admin.TabularInline):
    """Members of a household, read-only and masked; a member is edited on its own page."""

    model = Person
    fields = ("name", "relation", "age", "masked_id_number", "masked_phone")
    readonly_fields = fields
    exclude = PII_FIELDS
    extra = 0
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class HouseholdForm(forms.ModelForm):
    class Meta:
        model = Household
        fields = ("village", "address")


@admin.register(Household)
class HouseholdAdmin(HouseholdAccessAdminMixin, ScopedModelAdmin):
    form = HouseholdForm
    viewer_roles = REGIONAL_ROLES
    editor_roles = EDITOR_ROLES
    inlines = (PersonInline,)
    list_display = ("id", "village", "township", "address", "member_count", "is_enrolled")
    # Explicit: Meta.ordering is dropped once the member count adds a GROUP BY.
    ordering = ("id",)
    list_select_related = ("village", "township")
    list_filter = (
        "is_enrolled",
        ("township", RelatedOnlyFieldListFilter),
        ("village", RelatedOnlyFieldListFilter),
    )
    search_fields = ("address", "village__name")
    fields = ("village", "address", "is_enrolled", "household_page")
    # Enrolment is a decision with its own service and audit trail, not a checkbox.
    readonly_fields = ("is_enrolled", "household_page")

    @admin.display(description=_("household page"))
    def household_page(self, obj: Household | None) -> str:
        # By URL name: the page is the referrals app's (it shows cases), above this one.
        if obj is None or obj.pk is None:
            return "-"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("staff-household", args=[obj.pk]),
            _("Applications, cases, enrolments and benefits"),
        )

    def scope_queryset(self, request: HttpRequest, qs: QuerySet[Any]) -> QuerySet[Any]:
        return selectors.scope_household_qs(qs, request.user)

    def household_access_household_id(self, obj: Any) -> int | None:
        return int(obj.pk)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # One COUNT per page, not per row.
        return super().get_queryset(request).annotate(member_count=Count("members"))

    @admin.display(description=_("members"), ordering="member_count")
    def member_count(self, obj: Any) -> int:
        return int(getattr(obj, "member_count", 0))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "village":
            kwargs["queryset"] = self.related_choices(request, Region).filter(level=Region.Level.VILLAGE)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # The township is denormalised from the village (see Household); it is never typed in.
        obj.township_id = obj.village.township_id
        super().save_model(request, obj, form, change)

    def audit_region(self, obj: Model) -> Region | None:
        return obj.village if isinstance(obj, Household) else None


# --- persons ---------------------------------------------------------------------------------


@admin.register(Person)
class PersonAdmin(MaskedColumns, HouseholdAccessAdminMixin, ScopedModelAdmin):
    viewer_roles = REGIONAL_ROLES
    editor_roles = EDITOR_ROLES
    # Persons enter through the application form, which validates the ID number and consents.
    adder_roles = ()
    list_display = ("name", "village", "relation", "masked_id_number", "masked_phone")
    list_select_related = ("household__village",)
    list_filter = ("relation",)
    # Search by name only: an ID number or phone typed here would end up in the URL (?q=).
    search_fields = ("name",)
    fields = (
        "household",
        "name",
        "sex",
        "age",
        "relation",
        "document_type",
        "masked_id_number",
        "masked_phone",
        "reveal_link",
    )
    # The birth date is not edited here: it comes from the ID number, and shown in full beside the
    # mask it would rebuild the number (see .common).
    readonly_fields = ("household", "document_type", "age", "masked_id_number", "masked_phone", "reveal_link")
    exclude = (*PII_FIELDS, "birth_date")

    def scope_queryset(self, request: HttpRequest, qs: QuerySet[Any]) -> QuerySet[Any]:
        return selectors.scope_person_qs(qs, request.user)

    @admin.display(description=_("village"), ordering="household__village__code")
    def village(self, obj: Person) -> str:
        return str(obj.household.village)

    @admin.display(description=_("reveal"))
    def reveal_link(self, obj: Person) -> str:
        if obj.pk is None:
            return "-"
        url = reverse("admin:applications_person_reveal", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Reveal the full value (audited)"))

    def audit_region(self, obj: Model) -> Region | None:
        return obj.household.village if isinstance(obj, Person) else None

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path(
                "<path:object_id>/reveal/",
                self.admin_site.admin_view(self.reveal_view),
                name="applications_person_reveal",
            )
        ]
        return custom + super().get_urls()

    def revealable_fields(self, request: HttpRequest, obj: Person) -> list[str]:
        village = obj.household.village
        return [f for f in ("id_number", "phone") if can_reveal_pii(request.user, village, f)]  # type: ignore[arg-type]

    def reveal_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Ask for a reason, then show the full value once; the service writes the audit event."""
        obj: Person = self.get_object(request, unquote(object_id))  # Http404 when out of scope
        allowed = self.revealable_fields(request, obj)
        if not allowed:
            raise PermissionDenied
        form = RevealForm(request.POST if request.method == "POST" else None, fields=allowed)
        value: str | None = None
        field = ""
        if request.method == "POST" and form.is_valid():
            field = form.cleaned_data["field"]
            try:
                value = person_reveal(
                    actor=request.user, person_id=obj.pk, field=field, reason=form.cleaned_data["reason"]
                )
                household_access_record(
                    actor=request.user,
                    household_id=obj.household_id,
                    purpose=AccessPurpose.REVEAL,
                    subject=obj,
                    reason=form.cleaned_data["reason"],
                )
            except ApplicationError as exc:
                form.add_error("reason", str(exc.message))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reveal personal data"),
            "opts": self.opts,
            "original": obj,
            "form": form,
            "value": value,
            "field_label": REVEAL_LABELS.get(field, ""),
            "home_label": _("Home"),
            "changelist_url": reverse("admin:applications_person_changelist"),
            "change_url": reverse("admin:applications_person_change", args=[obj.pk]),
            "reveal_note": _(
                "The full value is shown once. Your name, the time and the reason are recorded."
            ),
            "once_note": _("This view has been recorded in the audit log."),
            "back_label": _("Back"),
            "submit_label": _("Reveal"),
        }
        return TemplateResponse(request, REVEAL_TEMPLATE, context)
