"""Masked columns and the reveal form, shared by the person and application admins.

The birth date is part of the ID number (digits 7 to 14): beside the masked number it would give
the whole number back to anyone who knows the county's region code. These pages show the age;
the full date is seen only through the audited reveal of the ID number (security.md, issue 17).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assist_center.identity import age_on
from assist_center.permissions import CENTRE_ROLES
from assist_center.phones import mask_phone
from assist_center.pii import mask_id_number

from ..models import Person

EDITOR_ROLES = CENTRE_ROLES
# Never a form field, never a column: only masks and the audited reveal show these.
PII_FIELDS = ("id_number", "id_number_hash", "phone", "phone_hash")


def masked_id_number(obj: Person) -> str:
    return mask_id_number(obj.id_number) if obj.id_number else "-"


def masked_phone(obj: Person) -> str:
    return mask_phone(obj.phone) if obj.phone else "-"


class MaskedColumns:
    """Columns for a person (Person or ApplicationMember): masked ID number and phone, and the age."""

    @admin.display(description=_("ID number"))
    def masked_id_number(self, obj: Person) -> str:
        return masked_id_number(obj)

    @admin.display(description=_("phone"))
    def masked_phone(self, obj: Person) -> str:
        return masked_phone(obj)

    @admin.display(description=_("age"))
    def age(self, obj: Any) -> int | str:
        return age_on(obj.birth_date, timezone.localdate()) if obj.birth_date else "-"


# The audited reveal page (applications.admin): shows the value once, after a reason.
REVEAL_TEMPLATE = "admin/applications/reveal.html"
REVEAL_LABELS = {"id_number": _("ID number"), "phone": _("phone")}


class RevealForm(forms.Form):
    field = forms.ChoiceField(label=_("value"), choices=())
    reason = forms.CharField(label=_("reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, fields: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = [(f, REVEAL_LABELS[f]) for f in fields]  # type: ignore[attr-defined]
