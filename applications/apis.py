"""The residents' public JSON API (design.md, "Public HTTP contract"): SMS codes, submission, status.

Bodies are read by assist_center.http.json_object, not DRF's JSONParser: the size is checked
before a byte is parsed, and a hostile body (deeply nested, undecodable, not an object) gives a
4xx in the error format, never a 500.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from assist_center import hooks
from assist_center.api import PublicAPIView
from assist_center.errors import ApplicationError, field_error
from assist_center.http import MAX_SMALL_BYTES, client_ip, idempotency_key, json_object, refuse_unknown_keys

from .intake import parse_application_input
from .models import Application, Channel, NeedItem, OtpPurpose
from .services import otp as otp_service
from .services.submission import (
    application_status_lookup,
    application_submit,
    authorisation_counts,
    family_url,
)

# Purposes whose code is for one token's household, sent by the app that owns the token.
TOKEN_PURPOSES = frozenset({OtpPurpose.HAPPINESS.value})
# An application with 10 members and 6 supporters, every text at its maximum, is about 20 KB.
MAX_APPLICATION_BYTES = 64 * 1024


@extend_schema_serializer(component_name="PublicError")
class ErrorSerializer(serializers.Serializer):
    message = serializers.CharField()
    extra = serializers.DictField(help_text='{"fields": {"dotted.path": "message"}} for bad input')


class OtpSendApi(PublicAPIView):
    """Send a 6-digit SMS code (10 minutes, 5 tries); the same answer whether the phone is known or not."""

    @extend_schema_serializer(component_name="PublicOtpSendInput")
    class InputSerializer(serializers.Serializer):
        phone = serializers.CharField(help_text="Mainland mobile number, 11 digits (+86 optional)")
        purpose = serializers.ChoiceField(choices=OtpPurpose.choices)
        token = serializers.CharField(
            required=False,
            help_text="for purpose `happiness`: the token of the household's list link (/happiness/<token>/)",
        )

    @extend_schema_serializer(component_name="PublicOtpSendOutput")
    class OutputSerializer(serializers.Serializer):
        message = serializers.CharField()
        expires_in = serializers.IntegerField(help_text="seconds the code stays valid")
        resend_after = serializers.IntegerField(help_text="seconds before another code may be requested")

    @extend_schema(
        operation_id="public_otp_send",
        request=InputSerializer,
        responses={
            202: OutputSerializer,
            400: ErrorSerializer,
            413: ErrorSerializer,
            429: ErrorSerializer,
            503: ErrorSerializer,
        },
    )
    def post(self, request: Request) -> Response:
        data = json_object(request, max_bytes=MAX_SMALL_BYTES)
        refuse_unknown_keys(data, frozenset({"phone", "purpose", "token"}))
        purpose = data.get("purpose")
        if purpose in TOKEN_PURPOSES:
            # The household's list (issue 12): the code goes only to a phone on record for the
            # token's household, and the answer is this same 202 whether or not it went.
            token = data.get("token")
            if not isinstance(token, str) or not token.strip():
                raise field_error("token", _("Open the link of your household's list first."))
            handled = hooks.call(
                "otp_token_purpose_send",
                purpose=purpose,
                token=token,
                phone=data.get("phone"),
                ip=client_ip(request),
            )
            if not any(handled):
                raise field_error("purpose", _("Unknown purpose."))
        else:
            otp_service.otp_send(phone=data.get("phone"), purpose=purpose, ip=client_ip(request))  # type: ignore[arg-type]
        body = {
            "message": str(_("The code has been sent.")),
            "expires_in": otp_service.OTP_MINUTES * 60,
            "resend_after": otp_service.PHONE_COOLDOWN_SECONDS,
        }
        return Response(self.OutputSerializer(body).data, status=status.HTTP_202_ACCEPTED)


_person_fields = {
    "name": serializers.CharField(max_length=50),
    "id_number": serializers.CharField(help_text="18-character resident ID number"),
}


class ApplicationSubmitApi(PublicAPIView):
    """Submit an application (issue 3's JSON body); 201 with the receipt code and the family link."""

    @extend_schema_serializer(component_name="PublicApplicationSubmitInput")
    class InputSerializer(serializers.Serializer):
        region_code = serializers.CharField(help_text="the assist code's region (12 digits)")
        village_code = serializers.CharField(help_text="a village within that region")
        address = serializers.CharField(max_length=200)
        applicant = inline_serializer(
            "PublicApplicant", {**_person_fields, "phone": serializers.CharField(help_text="mobile number")}
        )
        otp = serializers.CharField(help_text="the `apply` SMS code sent to the applicant's phone")
        members = inline_serializer(
            "PublicMember",
            {**_person_fields, "relation": serializers.CharField(help_text="spouse, child, parent, ...")},
            many=True,
            required=False,
        )
        supporters = inline_serializer(
            "PublicSupporter",
            {
                **_person_fields,
                "relation": serializers.CharField(
                    help_text="child, parent, spouse, sibling, grandchild, other"
                ),
                "phone": serializers.CharField(help_text="mobile number"),
            },
            many=True,
            required=False,
        )
        needs = serializers.ListField(child=serializers.ChoiceField(choices=NeedItem.choices), required=False)
        need_note = serializers.CharField(max_length=1000, required=False)
        consents = inline_serializer(
            "PublicConsents",
            {
                "data_check": serializers.BooleanField(help_text="required: must be true"),
                "share_with_organisations": serializers.BooleanField(required=False),
                "publish_need": serializers.BooleanField(required=False),
            },
        )
        guardian_confirmed = serializers.BooleanField(
            required=False, help_text="required if a member is under 14"
        )

    @extend_schema_serializer(component_name="PublicApplicationSubmitOutput")
    class OutputSerializer(serializers.Serializer):
        receipt_code = serializers.CharField()
        status = serializers.ChoiceField(choices=Application.Status.choices)
        family_url = serializers.URLField()

    @extend_schema(
        operation_id="public_application_submit",
        request=InputSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="1-128 printable ASCII characters; a retry with the same key returns the "
                "first result",
            )
        ],
        responses={
            201: OutputSerializer,
            400: ErrorSerializer,
            413: ErrorSerializer,
            422: ErrorSerializer,
            429: ErrorSerializer,
        },
    )
    def post(self, request: Request) -> Response:
        body = json_object(request, max_bytes=MAX_APPLICATION_BYTES)
        key = idempotency_key(request)
        otp = body.pop("otp", None)
        otp_error = None if otp is None or isinstance(otp, str) else str(_("Must be text."))
        try:
            data = parse_application_input(body)
        except ApplicationError as exc:
            if otp_error:
                exc.extra.setdefault("fields", {})["otp"] = otp_error
            raise
        if otp_error:
            raise field_error("otp", otp_error)
        application = application_submit(
            data=data, channel=Channel.SELF, actor=None, otp=otp, ip=client_ip(request), idempotency_key=key
        )
        out = {
            "receipt_code": application.receipt_code,
            "status": application.status,
            "family_url": family_url(application),
        }
        return Response(self.OutputSerializer(out).data, status=status.HTTP_201_CREATED)


class ApplicationStatusApi(PublicAPIView):
    """The status of one's own application, after an SMS code (purpose `status`) to the applicant's phone."""

    @extend_schema_serializer(component_name="PublicApplicationStatusInput")
    class InputSerializer(serializers.Serializer):
        phone = serializers.CharField()
        otp = serializers.CharField()

    @extend_schema_serializer(component_name="PublicApplicationStatusOutput")
    class OutputSerializer(serializers.Serializer):
        receipt_code = serializers.CharField()
        status = serializers.ChoiceField(choices=Application.Status.choices)
        status_display = serializers.CharField()
        submitted_at = serializers.DateTimeField()
        authorisations = inline_serializer(
            "PublicAuthorisationCounts",
            {"signed": serializers.IntegerField(), "required": serializers.IntegerField()},
        )

    @extend_schema(
        operation_id="public_application_status",
        request=InputSerializer,
        responses={200: OutputSerializer, 400: ErrorSerializer, 404: ErrorSerializer, 429: ErrorSerializer},
    )
    def post(self, request: Request, receipt_code: str) -> Response:
        data = json_object(request, max_bytes=MAX_SMALL_BYTES)
        refuse_unknown_keys(data, frozenset({"phone", "otp"}))
        application = application_status_lookup(
            receipt_code=receipt_code, phone=data.get("phone"), otp=data.get("otp"), ip=client_ip(request)
        )
        signed, required = authorisation_counts(application)
        out = {
            "receipt_code": application.receipt_code,
            "status": application.status,
            "status_display": str(application.get_status_display()),
            "submitted_at": application.created_at,
            "authorisations": {"signed": signed, "required": required},
        }
        return Response(self.OutputSerializer(out).data)
