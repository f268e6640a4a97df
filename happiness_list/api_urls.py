"""The happiness list's API: the year's list as JSON for 浙里办 / WeChat entries."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
