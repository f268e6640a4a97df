"""Assistance standards in the admin: the coordinator publishes new versions; none in force is edited.

The add form publishes a new version through eligibility.standards.standard_publish (which closes
the version it replaces). A version that has started is read-only; one that starts later may be
corrected until its first day (standard_amend).
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from assist_center.admin.base import CountyWideAdmin
from assist_center.errors import ApplicationError
from assist_center.models import Region

from ..models import Standard
from ..rules import DEMO_PARAMS, ITEM_LABELS, ParamsError, validate_params
from ..standards import latest_version, standard_amend, standard_publish, start_date_problem

PUBLISH_FIELDS = ("item", "region", "effective_from", "params", "note")


class StandardForm(forms.ModelForm):
    item = forms.ChoiceField(label=_("assistance item"), choices=list(ITEM_LABELS.items()))

    class Meta:
        model = Standard
        fields = PUBLISH_FIELDS
        help_texts = {
            "params": _("JSON object; each item has its own parameters (see docs/eligibility-rules.md)."),
            "effective_from": _("A new version replaces the one in force from this day."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region = self.fields.get("region")
        if isinstance(region, forms.ModelChoiceField):
            region.queryset = Region.objects.filter(level__in=[Region.Level.COUNTY, Region.Level.TOWNSHIP])
        if not self.instance.pk and "params" in self.fields and not self.initial.get("params"):
            self.initial["params"] = DEMO_PARAMS["dibao"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        item = data.get("item") or getattr(self.instance, "item", "")
        params = data.get("params")
        if item and params is not None:
            try:
                data["params"] = validate_params(item, params)
            except ParamsError as exc:
                self.add_error("params", "; ".join(f"{k}: {v}" for k, v in exc.fields.items()))
        region, start = data.get("region"), data.get("effective_from")
        if not self.instance.pk and item and region is not None and start is not None:
            if region.level == Region.Level.VILLAGE:
                self.add_error("region", _("Standards are set for the county or a township."))
            problem = start_date_problem(latest_version(item, region), start, timezone.localdate())
            if problem:
                self.add_error("effective_from", problem)
        return data


@admin.register(Standard)
class StandardAdmin(CountyWideAdmin):
    form = StandardForm
    list_display = ("item_label", "region", "version", "effective_from", "effective_to", "in_force", "note")
    list_filter = ("item", "region")
    list_select_related = ("region",)
    ordering = ("item", "region__code", "-effective_from")

    @admin.display(description=_("assistance item"), ordering="item")
    def item_label(self, obj: Standard) -> str:
        return ITEM_LABELS.get(obj.item, obj.item)

    @admin.display(description=_("in force today"), boolean=True)
    def in_force(self, obj: Standard) -> bool:
        today = timezone.localdate()
        return obj.effective_from <= today and (obj.effective_to is None or obj.effective_to > today)

    @admin.display(description=_("parameters"))
    def params_shown(self, obj: Standard) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.params, ensure_ascii=False, indent=2))

    @admin.display(description=_("all versions"))
    def versions(self, obj: Standard) -> str:
        rows = Standard.objects.filter(item=obj.item, region_id=obj.region_id).order_by("-version")
        return format_html(
            "<table>{}</table>",
            format_html_join(
                "",
                "<tr><td>v{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                ((s.version, s.effective_from, s.effective_to or "—", s.note) for s in rows),
            ),
        )

    def has_started(self, obj: Standard | None) -> bool:
        return obj is not None and obj.pk is not None and obj.effective_from <= timezone.localdate()

    def get_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        if obj is None:
            return PUBLISH_FIELDS
        return (
            "item_label",
            "region",
            "version",
            "effective_from",
            "effective_to",
            "params",
            "note",
            "versions",
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        if obj is None:
            return ()
        if self.has_started(obj):  # type: ignore[arg-type]
            return (
                "item_label",
                "region",
                "version",
                "effective_from",
                "effective_to",
                "params",
                "note",
                "versions",
            )
        return ("item_label", "region", "version", "effective_from", "effective_to", "versions")

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # A standard that has started is never edited in place: its page is read-only.
        if obj is not None and self.has_started(obj):  # type: ignore[arg-type]
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        try:
            if change:
                saved = standard_amend(
                    actor=request.user, standard_id=obj.pk, params=data["params"], note=data.get("note", "")
                )
            else:
                saved = standard_publish(
                    actor=request.user,
                    item=data["item"],
                    region=data["region"],
                    effective_from=data["effective_from"],
                    params=data["params"],
                    note=data.get("note", ""),
                )
        except ApplicationError as exc:
            # Validation in the form covers the usual cases; this is a lost race (another version
            # published meanwhile). Surface it as the admin's error page message, not a 500.
            from django.core.exceptions import ValidationError

            raise ValidationError(str(exc.message)) from exc
        obj.pk = saved.pk
        obj.version = saved.version
        obj._state.adding = False
