"""The departments' push keys: the coordinator sees and revokes them; issuing prints a secret once,
so it is `manage.py pool_push_key issue` (a page would have to show the secret in a browser)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from assist_center.admin.base import CountyWideAdmin

from ..models import PushKey
from ..services.push import push_key_revoke


@admin.register(PushKey)
class PushKeyAdmin(CountyWideAdmin):
    list_display = ("prefix", "department", "categories", "created_at", "last_used_at", "revoked_at")
    list_filter = ("department",)
    list_select_related = ("department",)
    readonly_fields = (
        "prefix",
        "department",
        "categories",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
    )
    fields = readonly_fields
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[PushKey]) -> None:
        for key in queryset:
            push_key_revoke(actor=request.user, prefix=key.prefix)
        self.message_user(request, _("The keys were revoked."), messages.SUCCESS)
