from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, str]:
    return {"COUNTY_NAME": settings.COUNTY_NAME, "SITE_URL": settings.SITE_URL}
