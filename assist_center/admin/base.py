"""Base ModelAdmin classes: every admin in the project derives from one of these."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from assist_center.models import Role
from assist_center.scopes import role_of


class CountyWideAdmin(admin.ModelAdmin):
    """County-wide configuration (calendar, SMS, outbox): the coordinator's; nobody else sees it."""

    viewer_roles: tuple[Role, ...] = (Role.COORDINATOR,)
    editor_roles: tuple[Role, ...] = (Role.COORDINATOR,)

    def _role_in(self, request: HttpRequest, roles: tuple[Role, ...]) -> bool:
        user: Any = request.user
        return bool(user.is_active and (user.is_superuser or role_of(user) in roles))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._role_in(request, self.viewer_roles)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._role_in(request, self.viewer_roles)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._role_in(request, self.editor_roles)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._role_in(request, self.editor_roles)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        return qs if self._role_in(request, self.viewer_roles) else qs.none()
