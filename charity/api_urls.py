"""The charity valley's API: the public needs feed and the organisations' claims."""

from django.urls import path

from . import apis

urlpatterns: list = [
    path("public/charity/needs/", apis.PublicNeedListApi.as_view(), name="charity-public-needs"),
    path("charity/needs/<str:public_id>/claim/", apis.NeedClaimApi.as_view(), name="charity-need-claim"),
]
