"""Referrals staff API under /api/v1/ (assist_center/api_urls.py includes it at "")."""

from django.urls import URLPattern, URLResolver, path

from . import apis

_ACTIONS = (
    ("accept", apis.ReferralAcceptApi, "api-referral-accept"),
    ("request-info", apis.ReferralRequestInfoApi, "api-referral-request-info"),
    ("answer-info", apis.ReferralAnswerInfoApi, "api-referral-answer-info"),
    ("return", apis.ReferralReturnApi, "api-referral-return"),
    ("complete", apis.ReferralCompleteApi, "api-referral-complete"),
    ("reassign", apis.ReferralReassignApi, "api-referral-reassign"),
    ("extend", apis.ReferralExtendApi, "api-referral-extend"),
    ("cancel", apis.ReferralCancelApi, "api-referral-cancel"),
)

urlpatterns: list[URLPattern | URLResolver] = [
    path("referrals/", apis.ReferralListApi.as_view(), name="api-referrals"),
    path("referrals/<int:referral_id>/", apis.ReferralDetailApi.as_view(), name="api-referral-detail"),
    *(
        path(f"referrals/<int:referral_id>/{segment}/", view.as_view(), name=name)
        for segment, view, name in _ACTIONS
    ),
    path("cases/<int:case_id>/referrals/", apis.CaseReferralAddApi.as_view(), name="api-case-referral-add"),
]
