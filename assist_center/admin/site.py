"""The admin site's classes: Django's, or django-otp's for two-factor login, hardened (issue 17).

Without the shortcut view:

Django's `admin/r/<content type>/<id>/` ("view on site") fetched any object of any model by id,
outside every admin's scope: a 500 for an id of the wrong shape, and a different answer for an id
that exists in another township than for one that does not (issue 17). No model here has a page
outside the admin (no get_absolute_url), so the view has nothing to do and is removed.

With a login form that enforces the username's length: Django's AuthenticationForm sets
max_length in __init__, after the field's validators were built, so a 300-character username
reached authenticate() and django-axes' varchar(255) column, a 500 before any login.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.validators import MaxLengthValidator
from django.urls import URLPattern, URLResolver
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite

from assist_center.two_factor import SecondFactorFormMixin


class _UsernameLength:
    fields: dict[str, Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length))


class StaffLoginForm(_UsernameLength, AdminAuthenticationForm):
    pass


class StaffOTPLoginForm(_UsernameLength, SecondFactorFormMixin, OTPAdminAuthenticationForm):
    pass


class _WithoutShortcut:
    def get_urls(self) -> list[URLPattern | URLResolver]:
        urls: list[Any] = super().get_urls()  # type: ignore[misc]
        return [u for u in urls if getattr(u, "name", None) != "view_on_site"]


class AssistAdminSite(_WithoutShortcut, AdminSite):
    login_form = StaffLoginForm


class AssistOTPAdminSite(_WithoutShortcut, OTPAdminSite):
    """Two-factor login for staff (MLPS 2.0): the login form also asks for the TOTP code."""

    login_form = StaffOTPLoginForm
