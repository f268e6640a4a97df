"""The phones that receive a township's roll reminders: its assistant's and the county's to set."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from assist_center.admin.base import ScopedModelAdmin
from assist_center.models import Region
from assist_center.permissions import CENTRE_ROLES
from assist_center.phones import InvalidPhone, mask_phone, normalise_mobile
from assist_center.pii import phone_index

from ..models import TownshipContact


class TownshipContactForm(forms.ModelForm):
    phone = forms.CharField(label=_("phone"), max_length=32, required=True)

    class Meta:
        model = TownshipContact
        fields = ("township", "label", "phone", "active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # Never echo the stored number into the page: a blank keeps it (required only on add).
            self.initial["phone"] = ""
            self.fields["phone"].required = False
            self.fields["phone"].help_text = _("Leave blank to keep %(mask)s.") % {
                "mask": mask_phone(self.instance.phone)
            }

    def clean_phone(self) -> str:
        raw = self.cleaned_data.get("phone", "")
        if not raw and self.instance.pk:
            return str(self.instance.phone)
        try:
            return normalise_mobile(raw)
        except InvalidPhone as exc:
            raise forms.ValidationError(exc.messages) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        township, phone = data.get("township"), data.get("phone")
        if township is not None and phone:
            twins = TownshipContact.objects.filter(township=township, phone_hash=phone_index(phone))
            if self.instance.pk:
                twins = twins.exclude(pk=self.instance.pk)
            if twins.exists():
                self.add_error("phone", _("This phone already receives this township's reminders."))
        return data

    def save(self, commit: bool = True) -> Any:
        obj = super().save(commit=False)
        obj.phone_hash = phone_index(obj.phone)
        if commit:
            obj.save()
        return obj


@admin.register(TownshipContact)
class TownshipContactAdmin(ScopedModelAdmin):
    form = TownshipContactForm
    viewer_roles = CENTRE_ROLES
    editor_roles = CENTRE_ROLES
    deleter_roles = CENTRE_ROLES
    # The number is encrypted; the audit trail records that it changed, never its value.
    audit_exclude_fields = (*ScopedModelAdmin.audit_exclude_fields, "phone")
    list_display = ("township", "label", "masked_phone", "active")
    list_select_related = ("township",)
    list_filter = ("active",)
    # By label only: a phone typed in the search box would end up in the URL.
    search_fields = ("label",)
    ordering = ("township__code", "label", "id")

    @admin.display(description=_("phone"))
    def masked_phone(self, obj: TownshipContact) -> str:
        return mask_phone(obj.phone)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "township":
            kwargs["queryset"] = self.related_choices(request, Region).filter(level=Region.Level.TOWNSHIP)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def audit_region(self, obj: Model) -> Region | None:
        return obj.township if isinstance(obj, TownshipContact) else None
