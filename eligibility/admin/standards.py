"""Assistance standards in the admin: the coordinator publishes new versions; none in force is edited.

The add form publishes a new version through eligibility.standards.standard_publish (which closes
the version it replaces). A version that has started is read-only; one that starts later may be
corrected until its first day (standard_amend).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from assist_center.admin.base import CountyWideAdmin
from assist_center.errors import ApplicationError
from assist_center.models import Region

from ..models import Standard
from ..rules import ITEM_LABELS, PARAM_LABELS, PARAM_SPECS, ParamsError, validate_params
from ..rules.params import ParamKind
from ..standards import latest_version, standard_amend, standard_publish, start_date_problem
from .monitoring import ItemFilter

PUBLISH_FIELDS = ("item", "region", "effective_from", "params", "note")

# Issue 16: the coordinator edits each parameter in its own field with its Chinese label and unit;
# the JSON object stays the storage (Standard.params), assembled from these fields in clean().
PARAM_PREFIX = "p_"
# Where a unit alone does not say how to write the number.
PARAM_HELP = {
    "spending_ratio": "填小数，如 0.5 表示 50%",
    "multiple": "如 1.5 表示低保标准的 1.5 倍",
    "age_child": "低于此年龄为未成年人",
}
GRADE_CHOICES = [(g, f"{g}级") for g in range(1, 5)]
STAGE_CHOICES = [(s, s) for s in ("学前", "小学", "初中", "高中", "中职", "高职", "本科", "研究生")]


def _param_kinds() -> dict[str, ParamKind]:
    kinds: dict[str, ParamKind] = {}
    for spec in PARAM_SPECS.values():
        kinds.update(spec)
    return kinds


def _param_field(key: str, kind: ParamKind) -> forms.Field:
    label, unit = PARAM_LABELS.get(key, (key, ""))
    help_parts = [f"单位：{unit}" if unit else "", PARAM_HELP.get(key, "")]
    help_text = "；".join(p for p in help_parts if p)
    if kind == "decimal":
        return forms.DecimalField(
            label=label, help_text=help_text, required=False, min_value=0, max_digits=14, decimal_places=4
        )
    if kind == "int":
        return forms.IntegerField(label=label, help_text=help_text, required=False, min_value=0)
    choices = GRADE_CHOICES if kind == "int_list" else STAGE_CHOICES
    return forms.TypedMultipleChoiceField(
        label=label,
        help_text=help_text or "可多选",
        required=False,
        choices=choices,
        coerce=int if kind == "int_list" else str,
        widget=forms.CheckboxSelectMultiple,
    )


PARAM_KINDS = _param_kinds()


def param_field_names(item: str) -> list[str]:
    return [PARAM_PREFIX + key for key in PARAM_SPECS.get(item, {})]


def item_of(request: HttpRequest, obj: Standard | None) -> str:
    """The item whose parameters the page shows: the version's, else the posted or linked one."""
    if obj is not None and obj.pk:
        return obj.item
    item = request.POST.get("item") or request.GET.get("item") or "dibao"
    return item if item in PARAM_SPECS else "dibao"


def _item_links(current: str) -> str:
    return format_html(
        "每个项目的参数不同，请先选项目：{}",
        format_html_join(
            "、",
            '<a href="?item={}"{}>{}</a>',
            (
                (code, mark_safe(' aria-current="true"') if code == current else "", label)
                for code, label in ITEM_LABELS.items()
            ),
        ),
    )


class StandardForm(forms.ModelForm):
    item = forms.ChoiceField(label=_("assistance item"), choices=list(ITEM_LABELS.items()))

    class Meta:
        model = Standard
        fields = ("item", "region", "effective_from", "note")
        help_texts = {
            "effective_from": _("A new version replaces the one in force from this day."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region = self.fields.get("region")
        if isinstance(region, forms.ModelChoiceField):
            region.queryset = Region.objects.filter(level__in=[Region.Level.COUNTY, Region.Level.TOWNSHIP])
        if self.instance.pk:
            item = self.instance.item
            self.fields.pop("item", None)  # a version's item is fixed; the page shows its label
        else:
            raw = self.data.get("item") if self.is_bound else self.initial.get("item")
            item = raw if raw in PARAM_SPECS else "dibao"
            self.initial.setdefault("item", item)
        self.params_item = item
        wanted = set(param_field_names(item))
        for name in [n for n in self.fields if n.startswith(PARAM_PREFIX)]:
            if name not in wanted:
                del self.fields[name]
            elif PARAM_KINDS[name[len(PARAM_PREFIX) :]] in ("decimal", "int"):
                self.fields[name].required = True
        if "item" in self.fields:
            self.fields["item"].help_text = _item_links(item)
        # Filled in from the version being corrected, or from the latest published one of the item.
        source = (
            self.instance if self.instance.pk else Standard.objects.filter(item=item).order_by("-id").first()
        )
        for key, value in (getattr(source, "params", None) or {}).items():
            if PARAM_PREFIX + key in self.fields:
                self.initial.setdefault(PARAM_PREFIX + key, value)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        item = self.params_item
        if not self.instance.pk and data.get("item") and data["item"] != item:
            self.add_error("item", "请先点选该项目的链接，填写它自己的参数。")
            return data
        params: dict[str, Any] = {}
        for key in PARAM_SPECS[item]:
            name = PARAM_PREFIX + key
            if name in self.errors:
                continue
            value = data.get(name)
            if value is None:
                continue
            params[key] = list(value) if isinstance(value, list) else value
        if not any(PARAM_PREFIX + key in self.errors for key in PARAM_SPECS[item]):
            try:
                data["params"] = validate_params(item, params)
            except ParamsError as exc:
                for key, message in exc.fields.items():
                    name = PARAM_PREFIX + key
                    self.add_error(name if name in self.fields else None, message)
        region, start = data.get("region"), data.get("effective_from")
        if not self.instance.pk and item and region is not None and start is not None:
            if region.level == Region.Level.VILLAGE:
                self.add_error("region", _("Standards are set for the county or a township."))
            problem = start_date_problem(latest_version(item, region), start, timezone.localdate())
            if problem:
                self.add_error("effective_from", problem)
        return data


# Every item's parameter fields are declared; each form keeps only its item's (see __init__).
for _key, _kind in PARAM_KINDS.items():
    StandardForm.declared_fields[PARAM_PREFIX + _key] = StandardForm.base_fields[PARAM_PREFIX + _key] = (
        _param_field(_key, _kind)
    )


def _param_rows(params: dict[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for key, value in (params or {}).items():
        label, unit = PARAM_LABELS.get(str(key), (str(key), ""))
        shown = "、".join(str(v) for v in value) if isinstance(value, list) else str(value)
        rows.append((label, f"{shown} {unit}".strip()))
    return rows


@admin.register(Standard)
class StandardAdmin(CountyWideAdmin):
    form = StandardForm
    list_display = ("item_label", "region", "version", "effective_from", "effective_to", "in_force", "note")
    list_filter = (ItemFilter, "region")
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
        """Each parameter by its Chinese label with its unit; the stored keys are not shown."""
        return format_html(
            '<table class="standard-params">{}</table>',
            format_html_join(
                "",
                '<tr><th scope="row">{}</th><td>{}</td></tr>',
                ((label, value) for label, value in _param_rows(obj.params)),
            ),
        )

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
        std = obj if isinstance(obj, Standard) else None
        if std is None:
            return ("item", "region", "effective_from", *param_field_names(item_of(request, None)), "note")
        if self.has_started(std):
            return (
                "item_label",
                "region",
                "version",
                "effective_from",
                "effective_to",
                "params_shown",
                "note",
                "versions",
            )
        return (
            "item_label",
            "region",
            "version",
            "effective_from",
            "effective_to",
            *param_field_names(std.item),
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
                "params_shown",
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
