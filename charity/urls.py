"""The charity valley's (公益谷) pages: the public board and the organisations' portal."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
