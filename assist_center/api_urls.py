from django.urls import path

from . import apis

urlpatterns = [
    path("public/regions/", apis.RegionListApi.as_view(), name="api-public-regions"),
]
