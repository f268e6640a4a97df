"""The centre's list of 纠错/举报 from the public pages: open ones first by deadline, overdue flagged.

The coordinator's alone (the reports are county-wide, like the organisations they are often about).
A report is closed only through charity.services.reports.report_close, which writes the audit event.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from assist_center.admin.base import ScopedModelAdmin
from assist_center.errors import ApplicationError
from assist_center.models import Role

from ..models import PublicReport
from ..services.reports import report_close


class ReportAnswerForm(forms.ModelForm):
    class Meta:
        model = PublicReport
        fields = ("answer",)

    def clean_answer(self) -> str:
        answer = str(self.cleaned_data.get("answer") or "").strip()
        if not answer:
            raise forms.ValidationError("请填写处理结果。")
        if self.instance.status != PublicReport.Status.OPEN:
            raise forms.ValidationError("该纠错/举报已处理。")
        return answer


@admin.register(PublicReport)
class PublicReportAdmin(ScopedModelAdmin):
    viewer_roles = (Role.COORDINATOR,)
    editor_roles = (Role.COORDINATOR,)
    form = ReportAnswerForm
    list_display = ("created_at", "subject_kind", "subject_link", "kind", "status", "due", "short_text")
    list_filter = ("status", "kind", "subject_kind")
    search_fields = ("=subject_ref",)
    ordering = ("status", "due_on", "id")
    # The reporter's contact is shown on the change page only: it was given so that the centre
    # can answer, and only the coordinator opens this admin.
    fields = (
        "subject_kind",
        "subject_link",
        "kind",
        "text",
        "contact",
        "created_at",
        "due",
        "status",
        "answer",
        "handled_by",
        "closed_at",
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [f for f in self.fields if f != "answer"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A closed report is a record: viewed, never answered again.
        if obj is not None and obj.status != PublicReport.Status.OPEN:
            return False
        return super().has_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="对象")
    def subject_link(self, obj: PublicReport) -> SafeString:
        base = "/charity/needs/" if obj.subject_kind == PublicReport.Subject.NEED else "/charity/projects/"
        return format_html('<a href="{}{}/">{}</a>', base, obj.subject_ref, obj.subject_ref)

    @admin.display(description="处理期限", ordering="due_on")
    def due(self, obj: PublicReport) -> SafeString:
        overdue = obj.status == PublicReport.Status.OPEN and obj.due_on < timezone.localdate()
        return format_html(
            '<span class="{}">{}{}</span>',
            "due-overdue" if overdue else "due-open",
            obj.due_on,
            "（已超期）" if overdue else "",
        )

    @admin.display(description="内容")
    def short_text(self, obj: PublicReport) -> str:
        return obj.text if len(obj.text) <= 40 else obj.text[:40] + "…"

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # Not the base save_model: the service writes the row and its audit event together.
        try:
            report_close(actor=request.user, report_id=obj.pk, answer=form.cleaned_data["answer"])
        except ApplicationError as exc:  # a second coordinator closed it a moment earlier
            messages.error(request, str(exc.message))
