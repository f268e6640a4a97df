from django.urls import include, path

from . import apis

urlpatterns = [
    path("public/regions/", apis.RegionListApi.as_view(), name="api-public-regions"),
    path("", include("applications.api_urls")),
    path("", include("eligibility.api_urls")),
    path("", include("referrals.api_urls")),
    path("", include("charity.api_urls")),
    path("", include("happiness_list.api_urls")),
]
