"""What every API shares: the one error format and the scoped base view."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular import openapi
from rest_framework import exceptions, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import ApplicationError
from .http import LimitedJSONParser
from .scopes import is_scoped_staff
from .staff_views import needs_second_factor


def _flatten(detail: Any) -> Any:
    """DRF's nested ErrorDetail lists become plain strings: one message per field, or nested dicts."""
    if isinstance(detail, dict):
        return {str(k): _flatten(v) for k, v in detail.items()}
    if isinstance(detail, list):
        if all(not isinstance(d, dict | list) for d in detail):
            return " ".join(str(d) for d in detail)
        return [_flatten(d) for d in detail]
    return str(detail)


def error_response(message: Any, extra: dict[str, Any] | None = None, *, status_code: int) -> Response:
    return Response({"message": str(message), "extra": extra or {}}, status=status_code)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn every error into {"message", "extra"}; messages follow the request's language."""
    if isinstance(exc, ApplicationError):
        return error_response(exc.message, exc.extra, status_code=exc.status)
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(fields)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        fields = _flatten(detail)
        first = next(iter(fields.values()), "") if isinstance(fields, dict) else ""
        message = _("Please correct the marked fields.")
        if isinstance(first, str) and first:
            message = first
        response.data = {"message": message, "extra": {"fields": fields}}
    else:
        err_detail: Any = getattr(exc, "detail", None)
        response.data = {"message": str(err_detail) if err_detail is not None else str(exc), "extra": {}}
    return response


class AutoSchema(openapi.AutoSchema):
    """Name the nested Input/OutputSerializer of each view after the view in the OpenAPI schema.

    House style nests plain `InputSerializer` classes in every `<Entity><Action>Api`; without this
    they would all become one "Input" component and the schema would describe the wrong bodies.
    """

    def get_serializer_name(self, serializer: Any, direction: Any) -> str:
        cls = serializer.__class__
        outer, _, inner = cls.__qualname__.rpartition(".")
        if outer and "<locals>" not in outer:
            return outer.rpartition(".")[2].removesuffix("Api") + inner
        return str(cls.__name__)


class ScopedAPIView(APIView):
    """Base of every staff API view: an active account with a staff role; objects from scoped selectors.

    Subclasses fetch objects only through selectors that take `user`, so an object outside the
    user's scope raises Http404 exactly like a missing one. The staff check runs in
    check_permissions itself, so a subclass that sets its own permission_classes adds to it and
    cannot drop it. Not signed in: 401; signed in without a staff role (an organisation member, an
    account without a profile, an inactive one): 403.
    """

    class IsScopedStaff(BasePermission):
        def has_permission(self, request: Request, view: Any) -> bool:
            return is_scoped_staff(request.user)

    permission_classes = [IsScopedStaff]
    # JSON only, with the size, depth and finite-number limits of the public API (issue 17):
    # DRF's JSONParser lets a deeply nested body through as a RecursionError, a 500.
    parser_classes = [LimitedJSONParser]

    def check_permissions(self, request: Request) -> None:
        user = request.user
        if not (user and user.is_authenticated):
            raise exceptions.NotAuthenticated()
        if not self.IsScopedStaff().has_permission(request, self):
            self.permission_denied(request, code="not_staff")
        # A session that skipped the TOTP step (any login path without it) reaches no staff data.
        if needs_second_factor(request._request):
            self.permission_denied(request, code="second_factor_required")
        super().check_permissions(request)

    def get_authenticate_header(self, request: Request) -> str:
        # DRF turns 401 into 403 when no authenticator names a scheme; session login is the scheme.
        return 'Session realm="assist_center"'


class PublicAPIView(APIView):
    """Base of the login-free resident API: no session, no CSRF; abuse limits are per view."""

    authentication_classes: list[type] = []
    permission_classes: list[type] = []


__all__ = ["PublicAPIView", "ScopedAPIView", "error_response", "exception_handler", "status"]
