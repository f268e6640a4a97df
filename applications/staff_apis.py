"""The staff API of intake under /api/v1/applications/: scoped, masked, one view per operation.

Every view derives from ScopedAPIView (an active staff account) and reads through the scoped
selectors, so another township's application answers 404 exactly like a missing one. Writes check
the role after the scope: a village cadre sees its village's applications but changes nothing (403).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from assist_center.api import ScopedAPIView
from assist_center.http import client_ip, idempotency_key, json_object, validated
from assist_center.identity import age_on
from assist_center.permissions import may_move_application, may_submit_on_behalf
from assist_center.phones import mask_phone
from assist_center.pii import mask_id_number

from . import selectors
from .apis import MAX_APPLICATION_BYTES, ApplicationSubmitApi, ErrorSerializer
from .intake import parse_application_input
from .models import AccessPurpose, Application, ApplicationMember, Channel, NeedItem
from .services.access import household_access_record
from .services.staff import application_member_reveal
from .services.submission import application_submit, family_url
from .services.transitions import application_transition


@extend_schema_serializer(component_name="StaffAuthorisation")
class _AuthorisationSerializer(serializers.Serializer):
    method = serializers.CharField()
    signed_at = serializers.DateTimeField()
    sha256 = serializers.CharField()


@extend_schema_serializer(component_name="StaffRegion")
class _RegionSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ApplicationListApi(ScopedAPIView):
    """Applications in the user's township or village, newest first; ID numbers and phones never appear."""

    @extend_schema_serializer(component_name="StaffApplicationListFilter")
    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=Application.Status.choices, required=False)
        township = serializers.RegexField(r"^[0-9]{12}$", required=False, help_text="township code")
        channel = serializers.ChoiceField(choices=Channel.choices, required=False)
        need = serializers.ChoiceField(choices=NeedItem.choices, required=False)
        possible_duplicate = serializers.BooleanField(required=False, allow_null=True, default=None)
        q = serializers.CharField(
            required=False,
            max_length=64,
            help_text="a name or a receipt code. ID numbers are refused here: they would be in the URL.",
        )
        page = serializers.IntegerField(required=False, min_value=1)

        def validate_q(self, value: str) -> str:
            if selectors.looks_like_id_number(value):
                raise serializers.ValidationError(
                    _(
                        "ID numbers are not accepted in a URL. "
                        "Search for the person in the admin's search box."
                    )
                )
            return value

    @extend_schema_serializer(component_name="StaffApplicationListItem")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        receipt_code = serializers.CharField()
        applicant_name = serializers.CharField(allow_null=True)
        village = _RegionSerializer()
        township = _RegionSerializer()
        status = serializers.ChoiceField(choices=Application.Status.choices)
        channel = serializers.ChoiceField(choices=Channel.choices)
        needs = serializers.ListField(child=serializers.CharField())
        possible_duplicate = serializers.BooleanField()
        authorisations_signed = serializers.IntegerField()
        authorisations_required = serializers.IntegerField()
        created_at = serializers.DateTimeField()

    class Pagination(PageNumberPagination):
        page_size = 50

    @extend_schema(
        operation_id="staff_application_list",
        parameters=[FilterSerializer],
        responses={
            200: inline_serializer(
                "StaffApplicationPage",
                {
                    "count": serializers.IntegerField(),
                    "next": serializers.URLField(allow_null=True),
                    "previous": serializers.URLField(allow_null=True),
                    "results": OutputSerializer(many=True),
                },
            ),
            400: ErrorSerializer,
        },
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        qs = selectors.application_list_visible_to(user=request.user)
        if "status" in f:
            qs = qs.filter(status=f["status"])
        if "township" in f:
            qs = qs.filter(township__code=f["township"])
        if "channel" in f:
            qs = qs.filter(channel=f["channel"])
        if "need" in f:
            qs = qs.filter(needs__contains=[f["need"]])
        if f.get("possible_duplicate") is not None:
            qs = qs.filter(possible_duplicate=f["possible_duplicate"])
        if f.get("q"):
            qs = selectors.application_search(qs, f["q"])
        paginator = self.Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class ApplicationDetailApi(ScopedAPIView):
    """One application with its members (ID numbers and phones masked) and their authorisations."""

    @extend_schema_serializer(component_name="StaffApplicationDetail")
    class OutputSerializer(serializers.Serializer):
        @extend_schema_serializer(component_name="StaffApplicationMember")
        class MemberSerializer(serializers.Serializer):
            id = serializers.IntegerField()
            role = serializers.ChoiceField(choices=ApplicationMember.Role.choices)
            position = serializers.IntegerField()
            name = serializers.CharField()
            relation = serializers.ChoiceField(choices=ApplicationMember.Relation.choices)
            sex = serializers.CharField()
            age = serializers.SerializerMethodField()
            id_number = serializers.SerializerMethodField(help_text="masked: 330***********1234")
            phone = serializers.SerializerMethodField(help_text="masked: 138****8000, or empty")
            must_authorise = serializers.BooleanField()
            authorisation = serializers.SerializerMethodField()

            def get_age(self, member: ApplicationMember) -> int:
                return age_on(member.birth_date, timezone.localdate())

            def get_id_number(self, member: ApplicationMember) -> str:
                return mask_id_number(member.id_number)

            def get_phone(self, member: ApplicationMember) -> str:
                return mask_phone(member.phone) if member.phone else ""

            @extend_schema_field(_AuthorisationSerializer(allow_null=True))
            def get_authorisation(self, member: ApplicationMember) -> dict[str, Any] | None:
                auth = getattr(member, "authorisation", None)  # a missing one-to-one raises AttributeError
                return None if auth is None else dict(_AuthorisationSerializer(auth).data)

        id = serializers.IntegerField()
        receipt_code = serializers.CharField()
        status = serializers.ChoiceField(choices=Application.Status.choices)
        channel = serializers.ChoiceField(choices=Channel.choices)
        submitted_by = serializers.CharField(
            source="submitted_by.get_username", allow_null=True, default=None
        )
        code_region = _RegionSerializer()
        village = _RegionSerializer()
        township = _RegionSerializer()
        household_id = serializers.IntegerField(allow_null=True)
        address = serializers.CharField()
        needs = serializers.ListField(child=serializers.CharField())
        need_note = serializers.CharField()
        consent_data_check = serializers.BooleanField()
        consent_share = serializers.BooleanField()
        consent_publish = serializers.BooleanField()
        guardian_confirmed = serializers.BooleanField()
        consent_version = serializers.CharField()
        possible_duplicate = serializers.BooleanField()
        created_at = serializers.DateTimeField()
        authorised_at = serializers.DateTimeField(allow_null=True)
        authorisations_signed = serializers.IntegerField()
        authorisations_required = serializers.IntegerField()
        form_sha256 = serializers.CharField(
            help_text="SHA-256 of the archived PDF form; empty until generated"
        )
        form_generated_at = serializers.DateTimeField(allow_null=True)
        members = MemberSerializer(many=True)

    @extend_schema(
        operation_id="staff_application_detail", responses={200: OutputSerializer, 404: ErrorSerializer}
    )
    def get(self, request: Request, application_id: int) -> Response:
        application = selectors.application_get(user=request.user, application_id=application_id)
        household_access_record(
            actor=request.user,
            household_id=application.household_id,
            purpose=AccessPurpose.APPLICATION,
            subject=application,
        )
        return Response(self.OutputSerializer(application).data)


class ApplicationOnBehalfApi(ScopedAPIView):
    """代办: a township assistant submits for a resident of their township; no SMS code."""

    @extend_schema_serializer(component_name="StaffOnBehalfInput")
    class InputSerializer(ApplicationSubmitApi.InputSerializer):
        otp = None  # type: ignore[assignment]

    @extend_schema_serializer(component_name="StaffOnBehalfOutput")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        receipt_code = serializers.CharField()
        status = serializers.ChoiceField(choices=Application.Status.choices)
        family_url = serializers.URLField()

    @extend_schema(
        operation_id="staff_application_on_behalf",
        request=InputSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="1-128 printable ASCII characters; a retry with the same key returns "
                "the first result",
            )
        ],
        responses={201: OutputSerializer, 400: ErrorSerializer, 403: ErrorSerializer, 413: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        if not may_submit_on_behalf(request.user):
            raise PermissionDenied
        body = json_object(request, max_bytes=MAX_APPLICATION_BYTES)
        key = idempotency_key(request)
        application = application_submit(
            data=parse_application_input(body),
            channel=Channel.ON_BEHALF,
            actor=request.user,
            otp=None,
            ip=client_ip(request),
            # Keys are per assistant: another account's key never replays someone else's answer.
            idempotency_key=f"on-behalf:{request.user.pk}:{key}" if key else None,
        )
        out = {
            "id": application.pk,
            "receipt_code": application.receipt_code,
            "status": application.status,
            "family_url": family_url(application),
        }
        return Response(self.OutputSerializer(out).data, status=status.HTTP_201_CREATED)


class _ApplicationTransitionApi(ScopedAPIView):
    to: str = ""

    @extend_schema_serializer(component_name="StaffTransitionInput")
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(
            max_length=1000, help_text="why; recorded and may be told to the resident"
        )

    @extend_schema_serializer(component_name="StaffTransitionOutput")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        status = serializers.ChoiceField(choices=Application.Status.choices)

    def post(self, request: Request, application_id: int) -> Response:
        application = selectors.application_get(user=request.user, application_id=application_id)
        if not may_move_application(request.user):
            raise PermissionDenied
        data = validated(self.InputSerializer, request.data)
        application = application_transition(
            application_id=application.pk, to=self.to, actor=request.user, reason=data["reason"]
        )
        return Response(self.OutputSerializer(application).data)


_TRANSITION_RESPONSES = {
    200: _ApplicationTransitionApi.OutputSerializer,
    400: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
    409: ErrorSerializer,
}


class ApplicationWithdrawApi(_ApplicationTransitionApi):
    """Withdraw an open application (the resident asked to); 409 if it has moved on meanwhile."""

    to = Application.Status.WITHDRAWN

    @extend_schema(
        operation_id="staff_application_withdraw",
        request=_ApplicationTransitionApi.InputSerializer,
        responses=_TRANSITION_RESPONSES,
    )
    def post(self, request: Request, application_id: int) -> Response:
        return super().post(request, application_id)


class ApplicationRejectApi(_ApplicationTransitionApi):
    """Reject an application with a reason; 409 if it has moved on meanwhile."""

    to = Application.Status.REJECTED

    @extend_schema(
        operation_id="staff_application_reject",
        request=_ApplicationTransitionApi.InputSerializer,
        responses=_TRANSITION_RESPONSES,
    )
    def post(self, request: Request, application_id: int) -> Response:
        return super().post(request, application_id)


class ApplicationMemberRevealApi(ScopedAPIView):
    """A member's full ID number or phone, once, with a reason; the reveal is recorded (pii.reveal)."""

    @extend_schema_serializer(component_name="StaffMemberRevealInput")
    class InputSerializer(serializers.Serializer):
        field = serializers.ChoiceField(choices=[("id_number", "id_number"), ("phone", "phone")])
        reason = serializers.CharField(max_length=500)

    @extend_schema_serializer(component_name="StaffMemberRevealOutput")
    class OutputSerializer(serializers.Serializer):
        value = serializers.CharField(allow_blank=True)

    @extend_schema(
        operation_id="staff_application_member_reveal",
        request=InputSerializer,
        responses={200: OutputSerializer, 400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
    )
    def post(self, request: Request, application_id: int, member_id: int) -> Response:
        # Scope first (404), whatever the body says: a bad body must not confirm that the member exists.
        member = selectors.application_member_get(
            user=request.user, application_id=application_id, member_id=member_id
        )
        data = validated(self.InputSerializer, request.data)
        value = application_member_reveal(
            actor=request.user, member_id=member.pk, field=data["field"], reason=data["reason"]
        )
        return Response(self.OutputSerializer({"value": value}).data)
