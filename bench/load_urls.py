"""The project's URLs plus /bench/bare-insert/, served only by the bench's gunicorn (bench.load_settings)."""

from django.urls import path

from assist_center.urls import handler403, handler404, handler500
from assist_center.urls import urlpatterns as project_urls

from .bare_view import bare_insert

urlpatterns = [path("bench/bare-insert/", bare_insert, name="bench-bare-insert"), *project_urls]

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]
