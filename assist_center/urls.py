from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views
from .admin.site import AssistAdminSite, AssistOTPAdminSite

# MLPS 2.0: two-factor login for staff. The admin login form then asks for the TOTP code
# (accounts are enrolled with `manage.py totp_enroll USERNAME`). Both classes drop the unscoped
# "view on site" shortcut (assist_center/admin/site.py).
admin.site.__class__ = AssistOTPAdminSite if settings.STAFF_REQUIRE_2FA else AssistAdminSite

admin.site.site_header = settings.COUNTY_NAME + "联合帮扶中心"
admin.site.site_title = settings.COUNTY_NAME + "联合帮扶中心"
admin.site.index_title = "工作台"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file, so the docs work under our strict CSP
    # (no inline script); the assets come from drf-spectacular-sidecar, never a CDN.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("assist_center.api_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # The root URLconf composes the apps; nothing else in assist_center imports them.
    path("", include("applications.urls")),
    path("", include("referrals.urls")),
    path("", include("charity.urls")),
    path("", include("happiness_list.urls")),
    path("", include("dashboards.urls")),
]

handler403 = "assist_center.error_views.permission_denied"
handler404 = "assist_center.error_views.not_found"
handler500 = "assist_center.error_views.server_error"
