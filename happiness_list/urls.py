"""The household's happiness list (幸福清单): the resident's pages."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
