"""Intake API under /api/v1/: the public resident endpoints and the scoped staff endpoints."""

from django.urls import URLPattern, URLResolver, path

from . import apis, staff_apis

urlpatterns: list[URLPattern | URLResolver] = [
    path("public/otp/", apis.OtpSendApi.as_view(), name="api-public-otp"),
    path("public/applications/", apis.ApplicationSubmitApi.as_view(), name="api-public-applications"),
    path(
        "public/applications/<str:receipt_code>/status/",
        apis.ApplicationStatusApi.as_view(),
        name="api-public-application-status",
    ),
    # Staff endpoints (scoped; staff_apis.py).
    path("applications/", staff_apis.ApplicationListApi.as_view(), name="api-applications"),
    path(
        "applications/on-behalf/",
        staff_apis.ApplicationOnBehalfApi.as_view(),
        name="api-application-on-behalf",
    ),
    path(
        "applications/<int:application_id>/",
        staff_apis.ApplicationDetailApi.as_view(),
        name="api-application-detail",
    ),
    path(
        "applications/<int:application_id>/withdraw/",
        staff_apis.ApplicationWithdrawApi.as_view(),
        name="api-application-withdraw",
    ),
    path(
        "applications/<int:application_id>/reject/",
        staff_apis.ApplicationRejectApi.as_view(),
        name="api-application-reject",
    ),
    path(
        "applications/<int:application_id>/members/<int:member_id>/reveal/",
        staff_apis.ApplicationMemberRevealApi.as_view(),
        name="api-application-member-reveal",
    ),
]
