"""HTML pages of the referrals app; the site root includes this module (`path("", include(...))`)."""

from django.urls import URLPattern, URLResolver, path

from referrals.views import centre, household, workbench

urlpatterns: list[URLPattern | URLResolver] = [
    path("staff/referrals/", workbench.workbench, name="workbench"),
    path("staff/referrals/<int:referral_id>/", workbench.referral_detail, name="workbench-referral"),
    # One POST URL per action, each calling one service (house-style.md).
    path(
        "staff/referrals/<int:referral_id>/accept/",
        workbench.referral_accept,
        name="workbench-referral-accept",
    ),
    path(
        "staff/referrals/<int:referral_id>/request-info/",
        workbench.referral_request_info,
        name="workbench-referral-request-info",
    ),
    path(
        "staff/referrals/<int:referral_id>/answer-info/",
        workbench.referral_answer_info,
        name="workbench-referral-answer-info",
    ),
    path(
        "staff/referrals/<int:referral_id>/attachments/<int:attachment_id>/",
        workbench.referral_attachment,
        name="workbench-referral-attachment",
    ),
    path(
        "staff/referrals/<int:referral_id>/return/",
        workbench.referral_return,
        name="workbench-referral-return",
    ),
    path(
        "staff/referrals/<int:referral_id>/complete/",
        workbench.referral_complete,
        name="workbench-referral-complete",
    ),
    path(
        "staff/referrals/<int:referral_id>/reassign/",
        workbench.referral_reassign,
        name="workbench-referral-reassign",
    ),
    path(
        "staff/referrals/<int:referral_id>/extend/",
        workbench.referral_extend,
        name="workbench-referral-extend",
    ),
    path(
        "staff/referrals/<int:referral_id>/cancel/",
        workbench.referral_cancel,
        name="workbench-referral-cancel",
    ),
    path("staff/centre/queue/", centre.centre_queue, name="centre-queue"),
    path("staff/centre/stats/", centre.centre_stats, name="centre-stats"),
    path("staff/households/<int:household_id>/", household.household_detail, name="staff-household"),
]
