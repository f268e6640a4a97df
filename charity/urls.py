"""The charity valley's (公益谷) pages: the public board and the organisations' portal."""

from django.urls import path

from . import funds_views, projects_views, stats_views, training_views
from .views import portal, public, staff

urlpatterns: list = [
    path("charity/", public.board, name="charity-board"),
    path("charity/needs/<str:public_id>/", public.need_page, name="charity-need"),
    path("charity/report/<str:subject>/<str:ref>/", public.report, name="charity-report"),
    path("charity/r/<str:token>/", public.resident_answer, name="charity-resident-answer"),
    path("charity/login/", portal.login, name="charity-login"),
    path("charity/logout/", portal.logout, name="charity-logout"),
    path("charity/portal/", portal.portal, name="charity-portal"),
    path("charity/portal/claims/<int:claim_id>/", portal.claim_detail, name="charity-portal-claim"),
    path(
        "charity/portal/claims/<int:claim_id>/delivery/",
        portal.delivery_details,
        name="charity-portal-delivery",
    ),
    path("charity/portal/projects/", portal.projects, name="charity-portal-projects"),
    path("charity/portal/projects/<str:public_id>/", portal.project_detail, name="charity-portal-project"),
    path("charity/staff/", staff.worklist, name="charity-staff"),
    path("charity/staff/needs/<int:need_id>/", staff.need_publish_page, name="charity-staff-need"),
    path("charity/staff/claims/<int:claim_id>/", staff.claim_page, name="charity-staff-claim"),
    # Funds, projects, training and the public statistics (charity-funds).
    path("charity/funds/", funds_views.fund_ledger, name="charity-funds"),
    path("charity/funds/ledger.csv", funds_views.fund_ledger_csv, name="charity-funds-csv"),
    path("charity/funds/ledger.xlsx", funds_views.fund_ledger_xlsx, name="charity-funds-xlsx"),
    path("charity/projects/", projects_views.project_list, name="charity-projects"),
    path("charity/projects/<str:public_id>/", projects_views.project_detail, name="charity-project"),
    path("charity/stats/", stats_views.stats, name="charity-stats"),
    path(
        "charity/training/<str:public_id>/attend/",
        training_views.training_attend,
        name="charity-training-attend",
    ),
    path(
        "charity/training/<str:public_id>/code/", training_views.training_code, name="charity-training-code"
    ),
    path(
        "charity/training/certificates/<str:number>/",
        training_views.training_certificate,
        name="charity-training-certificate",
    ),
]
