"""The admin's half of the household access log: a change page that shows a household's data logs the view."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from django.http import HttpRequest, HttpResponse

from ..models import AccessPurpose
from ..services.access import household_access_record


class HouseholdAccessAdminMixin:
    """Put before ScopedModelAdmin: each rendering of an existing object's change page writes one row.

    `household_access_purpose` names why the page is read; `household_access_household_id` says
    whose data it shows (the object's `household_id` by default). Admins of the apps above
    (eligibility, referrals, charity) use it the same way; tests/happiness_list/test_access_routes.py
    fails for a ModelAdmin over household data that does not.
    """

    household_access_purpose: AccessPurpose = AccessPurpose.ADMIN_RECORD

    def household_access_household_id(self, obj: Any) -> int | None:
        return getattr(obj, "household_id", None)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Model | None = None,
    ) -> HttpResponse:
        if obj is not None and obj.pk is not None:
            household_access_record(
                actor=request.user,
                household_id=self.household_access_household_id(obj),
                purpose=self.household_access_purpose,
                subject=obj,
            )
        return super().render_change_form(request, context, add, change, form_url, obj)  # type: ignore[misc]
