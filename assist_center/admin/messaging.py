"""SMS and outbox: read-only views for the coordinator, with retry / re-send actions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from assist_center import outbox
from assist_center.models import OutboxMessage, SmsMessage
from assist_center.phones import mask_phone
from assist_center.sms import services as sms_services

from .base import CountyWideAdmin

# What each SMS template is, for the coordinator's list and filter (issue 16: no codes on screen).
TEMPLATE_LABELS = {
    "otp": "验证码",
    "case_closed": "办结通知",
    "case_closed_summary": "办结结果通知",
    "deadline_warning": "转办预警提醒",
    "deadline_summary": "部门预警汇总",
    "family_invite": "家人签字邀请",
    "application_received": "申请回执",
    "application_refused": "未获批通知",
    "grace_ending": "渐退期到期提醒",
    "charity_receipt_check": "公益帮扶收到确认",
    "charity_help_recorded": "公益帮扶记录通知",
    "charity_claim_reminder": "公益认领到期提醒",
    "charity_claim_released": "公益认领退回通知",
    "receipt_check": "救助金到账确认",
}


def template_label(code: str) -> str:
    return TEMPLATE_LABELS.get(code, code)


class TemplateFilter(admin.SimpleListFilter):
    title = _("template")
    parameter_name = "template"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        present = model_admin.get_queryset(request).values_list("template", flat=True).distinct()
        return sorted(((code, template_label(code)) for code in present), key=lambda row: row[1])

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(template=value) if value else queryset


class _ReadOnlyAdmin(CountyWideAdmin):
    """Rows written only by services: nobody edits or adds them here; actions need the editor role."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_operate_permission(self, request: HttpRequest) -> bool:
        return self._role_in(request, self.editor_roles)


@admin.register(SmsMessage)
class SmsMessageAdmin(_ReadOnlyAdmin):
    list_display = (
        "id",
        "template_shown",
        "recipient",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
        "sent_at",
    )
    list_filter = ("status", TemplateFilter)
    # The recipient is listed explicitly, masked: `to` itself (decrypted) must never reach a page.
    fields = (
        "recipient",
        "template_shown",
        "params",
        "idempotency_key",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "provider_message_id",
        "created_at",
        "sent_at",
    )
    readonly_fields = fields
    # No search by phone: the admin's search term travels in the URL, where a phone must never be.
    search_fields = ("idempotency_key",)
    date_hierarchy = "created_at"
    actions = ["retry_failed"]

    @admin.display(description=_("template"), ordering="template")
    def template_shown(self, obj: SmsMessage) -> str:
        return template_label(obj.template)

    @admin.display(description=_("recipient"))
    def recipient(self, obj: SmsMessage) -> str:
        return mask_phone(obj.to)

    @admin.action(description=_("Retry the selected failed messages"), permissions=["operate"])
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        ids = list(queryset.filter(status=SmsMessage.Status.FAILED).values_list("pk", flat=True))
        count = sms_services.sms_retry_failed(sms_ids=ids, actor=request.user)
        self.message_user(
            request,
            _("Failed messages queued for retry: %(count)d.") % {"count": count},
            messages.SUCCESS if count else messages.WARNING,
        )


@admin.register(OutboxMessage)
class OutboxMessageAdmin(_ReadOnlyAdmin):
    list_display = ("id", "task_name", "status", "attempts", "short_error", "created_at", "sent_at")
    list_filter = ("status", "task_name")
    fields = (
        "task_name",
        "kwargs",
        "status",
        "dedupe_key",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
    )
    readonly_fields = fields
    date_hierarchy = "created_at"
    actions = ["resend_now"]

    @admin.display(description=_("last error"))
    def short_error(self, obj: OutboxMessage) -> str:
        return obj.last_error[:80]

    @admin.action(description=_("Re-send the selected messages now"), permissions=["operate"])
    def resend_now(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        sent = outbox.outbox_resend(message_ids=ids, actor=request.user)
        if sent == len(ids):
            self.message_user(
                request,
                _("Messages re-sent: %(count)d.") % {"count": sent},
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request,
                _(
                    "%(sent)d of %(total)d messages re-sent; the others stay pending and the sweeper will "
                    "retry them (see their last error)."
                )
                % {"sent": sent, "total": len(ids)},
                messages.WARNING,
            )
