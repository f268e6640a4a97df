"""The year's list as JSON, for the county's 浙里办 / WeChat entries (issue 12).

The SMS code comes from the public OTP endpoint, `POST /api/v1/public/otp/` {"phone",
"purpose": "happiness", "token"} (the same 202 whether or not the phone is the household's);
`POST /api/v1/public/happiness/<token>/` {"phone", "otp", "year"?} answers the list, the same
content as the page. The code is used up by the answer: a client keeps the JSON, it does not poll.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from applications.services.access import household_access_log_read
from assist_center.api import PublicAPIView
from assist_center.audit import RESIDENT
from assist_center.errors import field_error
from assist_center.http import MAX_SMALL_BYTES, json_object, refuse_unknown_keys

from ..selectors.list_year import household_year
from ..services import list_access
from .resident import ACCESS_LOG_SHOWN


class HappinessListApi(PublicAPIView):
    """The household's list of a year after the SMS code; a wrong phone or code: one answer for all."""

    @extend_schema_serializer(component_name="PublicHappinessListInput")
    class InputSerializer(serializers.Serializer):
        phone = serializers.CharField()
        otp = serializers.CharField(help_text="the `happiness` SMS code")
        year = serializers.IntegerField(required=False)

    @extend_schema(
        operation_id="public_happiness_list",
        request=InputSerializer,
        responses={
            200: OpenApiTypes.OBJECT,
            400: OpenApiTypes.OBJECT,
            404: OpenApiTypes.OBJECT,
            429: OpenApiTypes.OBJECT,
        },
    )
    def post(self, request: Request, token: str) -> Response:
        data = json_object(request, max_bytes=MAX_SMALL_BYTES)
        refuse_unknown_keys(data, frozenset({"phone", "otp", "year"}))
        this_year = timezone.localdate().year
        year = data.get("year", this_year)
        if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= this_year:
            raise field_error("year", _("Choose a year from 2000 to this year."))
        resolved, _method = list_access.happiness_code_check(
            token=token, phone=data.get("phone"), otp=data.get("otp")
        )
        body = household_year(household_id=resolved.household_id, year=year)
        # Who looked at the household's data, as on the page (reading it is logged).
        body["access_log"] = [
            {
                "time": a.time.isoformat(),
                "purpose": a.purpose,
                "purpose_label": a.purpose_label,
                "who": a.who,
                "role": a.role_label,
                "staff_code": a.staff_code,
                "reason": a.reason,
            }
            for a in household_access_log_read(actor=RESIDENT, household_id=resolved.household_id, year=year)[
                :ACCESS_LOG_SHOWN
            ]
        ]
        response = Response(body, status=status.HTTP_200_OK)
        response["Cache-Control"] = "no-store"
        return response
