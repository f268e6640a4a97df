"""The charity valley's API: the public needs feed and the organisations' claims."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
