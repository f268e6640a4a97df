"""The working-day calendar in the admin: the coordinator corrects days and confirms years."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from assist_center.audit import audit_record
from assist_center.models import CalendarDay, CalendarYear
from assist_center.workdays import calendar_changed

from .base import CountyWideAdmin

# Whether each kind of day is worked; the form refuses a contradiction rather than guessing.
WORKDAY_BY_KIND = {
    CalendarDay.Kind.WORKDAY: True,
    CalendarDay.Kind.WEEKEND: False,
    CalendarDay.Kind.HOLIDAY: False,
    CalendarDay.Kind.MAKEUP: True,
}


def _audit(request: HttpRequest, action: str, subject_type: str, subject_id: str, **values: Any) -> None:
    audit_record(actor=request.user, action=action, subject=(subject_type, subject_id), new=values)


class YearFilter(admin.SimpleListFilter):
    title = _("year")
    parameter_name = "year"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        years = CalendarDay.objects.dates("date", "year", order="DESC")
        return [(str(d.year), str(d.year)) for d in years]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(date__year=int(value))
        return queryset


class CalendarDayForm(forms.ModelForm):
    class Meta:
        model = CalendarDay
        fields = ["date", "kind", "is_workday", "name", "confirmed"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind, is_workday, day = data.get("kind"), data.get("is_workday"), data.get("date")
        if kind in WORKDAY_BY_KIND and is_workday is not None and WORKDAY_BY_KIND[kind] != is_workday:
            if is_workday:
                self.add_error(
                    "is_workday", _("A statutory holiday or a weekend is a rest day, not a working day.")
                )
            else:
                self.add_error(
                    "is_workday", _("A make-up or ordinary working day must be marked as a working day.")
                )
        if kind == CalendarDay.Kind.MAKEUP and day is not None and day.weekday() < 5:
            self.add_error("date", _("A make-up working day must be a Saturday or a Sunday."))
        return data


@admin.register(CalendarDay)
class CalendarDayAdmin(CountyWideAdmin):
    form = CalendarDayForm
    list_display = ["date", "weekday", "kind", "is_workday", "name", "confirmed"]
    list_filter = ["kind", YearFilter, "is_workday"]
    search_fields = ["name"]
    date_hierarchy = "date"
    ordering = ["-date"]
    list_per_page = 100

    @admin.display(description=_("weekday"))
    def weekday(self, obj: CalendarDay) -> str:
        return str(WEEKDAYS[obj.date.weekday()])

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        # The date is the primary key: changing it in the form would create a second row.
        return ["date"] if obj is not None else []

    # A wrongly entered override must be removable; simple_history keeps the deleted row.
    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._role_in(request, self.editor_roles)

    def save_model(self, request: HttpRequest, obj: CalendarDay, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        _audit(
            request,
            "calendar.day.change" if change else "calendar.day.add",
            "calendar_day",
            obj.date.isoformat(),
            kind=obj.kind,
            is_workday=obj.is_workday,
            name=obj.name,
        )
        calendar_changed()

    def delete_model(self, request: HttpRequest, obj: CalendarDay) -> None:
        day = obj.date.isoformat()
        super().delete_model(request, obj)
        _audit(request, "calendar.day.delete", "calendar_day", day)
        calendar_changed()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        days = [d.isoformat() for d in queryset.values_list("date", flat=True)]
        super().delete_queryset(request, queryset)
        for day in days:
            _audit(request, "calendar.day.delete", "calendar_day", day)
        calendar_changed()


@admin.register(CalendarYear)
class CalendarYearAdmin(CountyWideAdmin):
    list_display = ["year", "confirmed", "source"]
    list_filter = ["confirmed"]
    search_fields = ["source"]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        return ["year"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: CalendarYear, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        _audit(
            request,
            "calendar.year.change" if change else "calendar.year.add",
            "calendar_year",
            str(obj.year),
            confirmed=obj.confirmed,
            source=obj.source,
        )
        calendar_changed()
