"""The cadre's side of the happiness list: the worklist of omission and duplicate flags."""

from django.urls import URLPattern, URLResolver, path

from happiness_list.views import flags

urlpatterns: list[URLPattern | URLResolver] = [
    path("staff/happiness/flags/", flags.flag_worklist, name="happiness-flags"),
    path("staff/happiness/flags/<int:flag_id>/", flags.flag_detail, name="happiness-flag"),
    path(
        "staff/happiness/households/<int:household_id>/",
        flags.household_flags,
        name="happiness-household-flags",
    ),
]
