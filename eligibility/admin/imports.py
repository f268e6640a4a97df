"""Data-pool imports in the admin: upload a departmental file, watch its progress, get the error report.

County-wide (coordinators only): a departmental file holds records of people of every township.
Department staff uploading their own department's files would be a reasonable extension; until a
department asks for it, the centre's coordinators run the imports.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _

from assist_center.admin.base import CountyWideAdmin
from assist_center.audit import audit_record
from assist_center.errors import ApplicationError

from ..models import ImportJob
from ..pool.categories import CATEGORIES, template_example_row, template_headers
from ..pool.importer import escape_formula, expected_columns
from ..services.imports import MAX_UPLOAD_BYTES, pool_import_requeue, pool_import_start
from .monitoring import LabelledFilter

STATUS_FIELDS = (
    "status",
    "total_bytes",
    "bytes_done",
    "rows_read",
    "rows_inserted",
    "rows_updated",
    "rows_unchanged",
    "rows_rejected",
)


class UploadForm(forms.Form):
    category = forms.ChoiceField(label=_("record category"))
    encoding = forms.ChoiceField(
        label=_("encoding"),
        required=False,
        choices=[("", _("Detect (UTF-8, else GB18030)")), ("utf-8", "UTF-8"), ("gb18030", "GB18030")],
    )
    file = forms.FileField(label=_("file (CSV or XLSX, at most 200 MB)"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [(c.code, c.name) for c in CATEGORIES.values()]  # type: ignore[attr-defined]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than 200 MB; import it with manage.py import_pool.")
            )
        return upload


class CategoryFilter(LabelledFilter):
    """The record categories by their Chinese names (issue 16: no codes in the filters)."""

    title = _("record category")
    parameter_name = "category"
    labels = {code: c.name for code, c in CATEGORIES.items()}


@admin.register(ImportJob)
class ImportJobAdmin(CountyWideAdmin):
    # Fits 1366 px beside the admin's sidebar (issue 16); the unchanged rows are on the job's page.
    list_display = (
        "file_name",
        "category_label",
        "status",
        "rows_read",
        "rows_inserted",
        "rows_updated",
        "rows_rejected",
        "created_by",
        "created_at",
    )
    list_display_links = ("file_name",)
    list_filter = ("status", CategoryFilter)
    list_select_related = ("created_by",)
    search_fields = ("file_name",)
    date_hierarchy = "created_at"
    fields = (
        "category_label",
        "file_name",
        "status",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
        "total_bytes",
        "bytes_done",
        "rows_read",
        "rows_inserted",
        "rows_updated",
        "rows_unchanged",
        "rows_rejected",
        "failure",
        "error_report_link",
    )
    readonly_fields = fields
    actions = ["requeue"]
    change_form_template = "admin/eligibility/importjob/change_form.html"
    change_list_template = "admin/eligibility/importjob/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # The upload and the report can be hundreds of megabytes: never load them into a list.
        return super().get_queryset(request).defer("upload", "error_report")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # jobs are created by the upload view, which runs the service

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False  # jobs are written only by the import service

    def has_operate_permission(self, request: HttpRequest) -> bool:
        return self._role_in(request, self.editor_roles)

    @admin.display(description=_("record category"), ordering="category")
    def category_label(self, obj: ImportJob) -> str:
        spec = CATEGORIES.get(obj.category)
        return spec.name if spec else obj.category

    @admin.display(description=_("error report"))
    def error_report_link(self, obj: ImportJob) -> str:
        if not obj.rows_rejected:
            return "-"
        url = reverse("admin:eligibility_importjob_errors", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download the rejected rows (CSV, audited)"))

    @admin.action(
        description=_("Queue the selected failed or stalled imports again"), permissions=["operate"]
    )
    def requeue(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        count = sum(
            pool_import_requeue(actor=request.user, job_id=pk) for pk in queryset.values_list("pk", flat=True)
        )
        self.message_user(
            request,
            _("Imports queued again: %(count)d.") % {"count": count},
            messages.SUCCESS if count else messages.WARNING,
        )

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        custom = [
            path("upload/", wrap(self.upload_view), name="eligibility_importjob_upload"),
            path(
                "template/<str:category>.csv",
                wrap(self.template_view),
                name="eligibility_importjob_template",
            ),
            path("<path:object_id>/status/", wrap(self.status_view), name="eligibility_importjob_status"),
            path("<path:object_id>/errors/", wrap(self.errors_view), name="eligibility_importjob_errors"),
        ]
        return custom + super().get_urls()

    def _job(self, request: HttpRequest, object_id: str) -> ImportJob:
        if not self.has_view_permission(request):
            raise PermissionDenied
        job: ImportJob | None = self.get_object(request, unquote(object_id))
        if job is None:
            from django.http import Http404

            raise Http404
        return job

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_operate_permission(request):
            raise PermissionDenied
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = pool_import_start(
                    actor=request.user,
                    category=form.cleaned_data["category"],
                    file_name=upload.name or "upload",
                    data=upload,
                    encoding=form.cleaned_data["encoding"],
                )
            except ApplicationError as exc:
                form.add_error(None, str(exc.message))
            else:
                return HttpResponseRedirect(reverse("admin:eligibility_importjob_change", args=[job.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import a departmental file"),
            "opts": self.opts,
            "form": form,
            "categories": [
                {
                    "code": c.code,
                    "name": c.name,
                    "columns": ", ".join(expected_columns(c)),
                    "headers": "、".join(template_headers(c)),
                    "template_url": reverse("admin:eligibility_importjob_template", args=[c.code]),
                }
                for c in CATEGORIES.values()
            ],
        }
        return TemplateResponse(request, "admin/eligibility/importjob/upload.html", context)

    def template_view(self, request: HttpRequest, category: str) -> HttpResponse:
        """A category's template: the Chinese headers and one example row, CSV that Excel opens."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        spec = CATEGORIES.get(category)
        if spec is None:
            from django.http import Http404

            raise Http404
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(template_headers(spec))
        writer.writerow(template_example_row(spec))
        response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            content_disposition_header(as_attachment=True, filename=f"{spec.name}导入模板.csv")
            or f'attachment; filename="{spec.code}-template.csv"'
        )
        return response

    def status_view(self, request: HttpRequest, object_id: str) -> JsonResponse:
        job = self._job(request, object_id)
        body: dict[str, Any] = {name: getattr(job, name) for name in STATUS_FIELDS}
        body["status_label"] = str(job.get_status_display())
        body["failure"] = job.failure
        body["finished"] = job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED)
        return JsonResponse(body)

    def errors_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        job = self._job(request, object_id)
        report = ImportJob.objects.filter(pk=job.pk).values_list("error_report", flat=True).first() or ""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        for row in csv.reader(io.StringIO(report)):
            writer.writerow([escape_formula(cell) for cell in row])
        audit_record(actor=request.user, action="pool.import.errors_download", subject=job)
        # A BOM so that Excel opens the Chinese reasons as UTF-8.
        response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
        return response
