"""The happiness list's API: the year's list as JSON for 浙里办 / WeChat entries."""

from django.urls import URLPattern, URLResolver, include, path

urlpatterns: list[URLPattern | URLResolver] = [
    # The resident's list as JSON (happiness_list.views.list_json).
    path("", include("happiness_list.api_urls_list")),
]
