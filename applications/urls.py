"""Public HTML pages of intake (design.md's public contract) and the staff pages next to them."""

from django.urls import URLPattern, URLResolver, path

from applications.views import apply as apply_views
from applications.views import family as family_views
from applications.views import on_behalf as on_behalf_views
from applications.views import staff_paper as staff_paper_views
from applications.views import status as status_views

urlpatterns: list[URLPattern | URLResolver] = [
    # 救助码 (design.md public contract). The receipt comes first: "receipt" would match <region_code>.
    path("apply/receipt/", apply_views.apply_receipt, name="apply-receipt"),
    path("apply/<str:region_code>/", apply_views.apply, name="apply"),
    # The residents' status page (issue 16): receipt code + phone + SMS code, no JavaScript.
    path("status/", status_views.status_page, name="status"),
    # 家庭码 (design.md public contract): the family signing page; the token is the secret.
    path("family/<str:token>/", family_views.family, name="family"),
    # The paper authorisation to print and sign (issue 16), from the family and receipt pages.
    path(
        "family/<str:token>/authorisation.pdf",
        family_views.family_authorisation_pdf,
        name="family-authorisation-pdf",
    ),
    # 代办: a township assistant applies for a resident (linked from the application list).
    path("staff/applications/on-behalf/", on_behalf_views.on_behalf, name="staff-on-behalf"),
    path(
        "staff/applications/<int:application_id>/paper/<int:member_id>/",
        staff_paper_views.staff_paper_upload,
        name="staff-paper-upload",
    ),
]
