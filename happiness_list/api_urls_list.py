"""The happiness list as JSON (the page's content) for 浙里办 / WeChat entries.

Its SMS code is asked for at the public OTP endpoint (POST /api/v1/public/otp/ with purpose
`happiness` and the list's token), not here.
"""

from django.urls import URLPattern, URLResolver, path

from happiness_list.views import list_json

urlpatterns: list[URLPattern | URLResolver] = [
    path("public/happiness/<str:token>/", list_json.HappinessListApi.as_view(), name="api-public-happiness"),
]
