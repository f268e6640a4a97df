"""The staff API of referrals under /api/v1/: one view per operation, scoped by the selectors.

Another department's referral (or another township's) answers 404 exactly like a missing one; a
persona in scope that may not do the action gets 403 (the services decide); a lost race 409.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from applications.models import AccessPurpose
from applications.services.access import household_access_record
from assist_center.api import ScopedAPIView
from assist_center.errors import ApplicationError
from assist_center.http import check_types, validated

from . import selectors
from .models import Colour, Referral, ReferralOutcome
from .services import actions, cases


@extend_schema_serializer(component_name="ReferralDepartment")
class _DepartmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


@extend_schema_serializer(component_name="ReferralRegion")
class _RegionSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ReferralOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField(source="case_id")
    department = _DepartmentSerializer()
    township = _RegionSerializer()
    village = serializers.SerializerMethodField()
    applicant_name = serializers.SerializerMethodField()
    items = serializers.ListField(child=serializers.CharField())
    title = serializers.CharField()
    manual = serializers.BooleanField()
    status = serializers.ChoiceField(choices=Referral.Status.choices)
    colour = serializers.ChoiceField(choices=Colour.choices)
    allotted_days = serializers.IntegerField()
    start_date = serializers.DateField()
    due_date = serializers.DateField()
    provisional = serializers.BooleanField()
    paused_since = serializers.DateField(allow_null=True)
    paused_days = serializers.IntegerField()
    return_reason = serializers.CharField()

    def get_village(self, obj: Referral) -> str:
        return str((obj.brief or {}).get("village", ""))

    def get_applicant_name(self, obj: Referral) -> str:
        return str((obj.brief or {}).get("applicant_name", ""))


@extend_schema_serializer(component_name="ReferralOutcome")
class _OutcomeOutputSerializer(serializers.Serializer):
    item = serializers.CharField()
    granted = serializers.BooleanField()
    benefit_kind = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    period = serializers.CharField()
    start_date = serializers.DateField(allow_null=True)
    reason = serializers.CharField()


class ReferralDetailOutputSerializer(ReferralOutputSerializer):
    brief = serializers.JSONField()
    outcomes = _OutcomeOutputSerializer(many=True, source="outcomes.all")
    note = serializers.CharField()
    applicant_phone = serializers.CharField(
        allow_null=True, read_only=True, default=None, help_text="only when the referral needs contact"
    )


def _detail(referral: Referral, *, phone: str | None = None) -> dict[str, Any]:
    data = dict(ReferralDetailOutputSerializer(referral).data)
    data["applicant_phone"] = phone
    return data


class ReferralListApi(ScopedAPIView):
    """Referrals the user may see, earliest due first, with their colours."""

    @extend_schema_serializer(component_name="ReferralListFilter")
    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=Referral.Status.choices, required=False)
        colour = serializers.ChoiceField(choices=Colour.choices, required=False)
        department = serializers.CharField(required=False, max_length=32, help_text="id or code")
        page = serializers.IntegerField(required=False, min_value=1)

    class Pagination(PageNumberPagination):
        page_size = 50

    @extend_schema(
        operation_id="referral_list",
        parameters=[FilterSerializer],
        responses={
            200: inline_serializer(
                "ReferralPage",
                {
                    "count": serializers.IntegerField(),
                    "next": serializers.URLField(allow_null=True),
                    "previous": serializers.URLField(allow_null=True),
                    "results": ReferralOutputSerializer(many=True),
                },
            )
        },
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        qs = selectors.referral_list_visible_to(
            user=request.user,
            colour=data.get("colour"),
            status=data.get("status"),
            department=data.get("department"),
        )
        paginator = self.Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(ReferralOutputSerializer(page, many=True).data)


class ReferralDetailApi(ScopedAPIView):
    """One referral: its brief (what the department needs, nothing of the application beyond it)."""

    @extend_schema(operation_id="referral_detail", responses={200: ReferralDetailOutputSerializer})
    def get(self, request: Request, referral_id: int) -> Response:
        referral = selectors.referral_get(user=request.user, referral_id=referral_id)
        household_access_record(
            actor=request.user,
            household_id=referral.case.application.household_id,
            purpose=AccessPurpose.REFERRAL_BRIEF,
            subject=referral,
        )
        return Response(_detail(referral, phone=selectors.referral_contact_phone(request.user, referral)))


def _done(referral_id: int, user: Any, code: int = status.HTTP_200_OK) -> Response:
    referral = selectors.referral_get(user=user, referral_id=referral_id)
    return Response(_detail(referral), status=code)


class ReferralAcceptApi(ScopedAPIView):
    @extend_schema(
        operation_id="referral_accept", request=None, responses={200: ReferralDetailOutputSerializer}
    )
    def post(self, request: Request, referral_id: int) -> Response:
        actions.referral_accept(actor=request.user, referral_id=referral_id)
        return _done(referral_id, request.user)


class ReferralRequestInfoApi(ScopedAPIView):
    class InputSerializer(serializers.Serializer):
        question = serializers.CharField(max_length=1000)

    @extend_schema(
        operation_id="referral_request_info",
        request=InputSerializer,
        responses={200: ReferralDetailOutputSerializer},
    )
    def post(self, request: Request, referral_id: int) -> Response:
        selectors.referral_get(user=request.user, referral_id=referral_id)
        data = validated(self.InputSerializer, request.data)
        actions.referral_request_info(actor=request.user, referral_id=referral_id, question=data["question"])
        return _done(referral_id, request.user)


class ReferralAnswerInfoApi(ScopedAPIView):
    class InputSerializer(serializers.Serializer):
        answer = serializers.CharField(max_length=1000)

    @extend_schema(
        operation_id="referral_answer_info",
        request=InputSerializer,
        responses={200: ReferralDetailOutputSerializer},
    )
    def post(self, request: Request, referral_id: int) -> Response:
        selectors.referral_get(user=request.user, referral_id=referral_id)
        data = validated(self.InputSerializer, request.data)
        actions.referral_answer_info(actor=request.user, referral_id=referral_id, answer=data["answer"])
        return _done(referral_id, request.user)


class ReferralReturnApi(ScopedAPIView):
    class InputSerializer(serializers.Serializer):
        reason_code = serializers.ChoiceField(choices=Referral.ReturnReason.choices)
        note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="referral_return",
        request=InputSerializer,
        responses={200: ReferralDetailOutputSerializer},
    )
    def post(self, request: Request, referral_id: int) -> Response:
        selectors.referral_get(user=request.user, referral_id=referral_id)
        data = validated(self.InputSerializer, request.data)
        actions.referral_return(
            actor=request.user, referral_id=referral_id, reason_code=data["reason_code"], note=data["note"]
        )
        return _done(referral_id, request.user)


class ReferralCompleteApi(ScopedAPIView):
    class OutcomeSerializer(serializers.Serializer):
        item = serializers.CharField(max_length=32)
        granted = serializers.BooleanField()
        benefit_kind = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
        amount = serializers.DecimalField(
            max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True, default=None
        )
        period = serializers.ChoiceField(
            choices=ReferralOutcome.Period.choices, required=False, allow_blank=True, default=""
        )
        start_date = serializers.DateField(required=False, allow_null=True, default=None)
        reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")

    class InputSerializer(serializers.Serializer):
        outcomes = serializers.ListField(child=serializers.DictField(), max_length=20, allow_empty=True)

    @extend_schema(
        operation_id="referral_complete",
        request=inline_serializer("ReferralCompleteInput", {"outcomes": OutcomeSerializer(many=True)}),
        responses={200: ReferralDetailOutputSerializer},
    )
    def post(self, request: Request, referral_id: int) -> Response:
        selectors.referral_get(user=request.user, referral_id=referral_id)
        data = validated(self.InputSerializer, request.data)
        outcomes = []
        for n, raw in enumerate(data["outcomes"]):
            item = self.OutcomeSerializer(data=raw)
            check_types(item, raw, prefix=f"outcomes.{n}.")
            if not item.is_valid():
                field, errors = next(iter(item.errors.items()))
                message = " ".join(str(e) for e in errors) if isinstance(errors, list) else str(errors)
                raise ApplicationError(message, {"fields": {f"outcomes.{n}.{field}": message}})
            outcomes.append(actions.OutcomeInput(**item.validated_data))
        actions.referral_complete(actor=request.user, referral_id=referral_id, outcomes=outcomes)
        return _done(referral_id, request.user)


class ReferralReassignApi(ScopedAPIView):
    class InputSerializer(serializers.Serializer):
        department = serializers.IntegerField(min_value=1)
        reason = serializers.CharField(max_length=1000)

    @extend_schema(
        operation_id="referral_reassign",
        request=InputSerializer,
        responses={201: ReferralDetailOutputSerializer},
    )
    def post(self, request: Request, referral_id: int) -> Response:
        selectors.referral_get(user=request.user, referral_id=referral_id)
        data = validated(self.InputSerializer, request.data)
        new = cases.referral_reassign(
            actor=request.user,
            referral_id=referral_id,
            department_id=data["department"],
            reason=data["reason"],
        )
        return _done(new.pk, request.user, status.HTTP_201_CREATED)


class ReferralExtendApi(ScopedAPIView):
    class InputSerializer(serializers.Serializer):
        days = serializers.IntegerField(min_value=1, max_value=cases.MAX_DAYS)
        reason = serializers.CharField(max_length=1000)

    @extend_schema(
        operation_id="referral_extend",
        request=InputSerializer,
        responses={200: ReferralDetailOutputSerializer},
    )
    def post(self, request: Request, referral_id: int) -> Response:
        selectors.referral_get(user=request.user, referral_id=referral_id)
        data = validated(self.InputSerializer, request.data)
        cases.referral_extend(
            actor=request.user, referral_id=referral_id, days=data["days"], reason=data["reason"]
        )
        return _done(referral_id, request.user)


class ReferralCancelApi(ScopedAPIView):
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=1000)

    @extend_schema(
        operation_id="referral_cancel",
        request=InputSerializer,
        responses={200: ReferralDetailOutputSerializer},
    )
    def post(self, request: Request, referral_id: int) -> Response:
        selectors.referral_get(user=request.user, referral_id=referral_id)
        data = validated(self.InputSerializer, request.data)
        cases.referral_cancel(actor=request.user, referral_id=referral_id, reason=data["reason"])
        return _done(referral_id, request.user)


class CaseReferralAddApi(ScopedAPIView):
    """Add a referral to a case by hand (a joint home visit, ...)."""

    class InputSerializer(serializers.Serializer):
        department = serializers.IntegerField(min_value=1)
        title = serializers.CharField(max_length=cases.MAX_TITLE)
        days = serializers.IntegerField(
            min_value=1, max_value=cases.MAX_DAYS, required=False, allow_null=True, default=None
        )
        note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="case_referral_add",
        request=InputSerializer,
        responses={201: ReferralDetailOutputSerializer},
        parameters=[OpenApiParameter("case_id", int, OpenApiParameter.PATH)],
    )
    def post(self, request: Request, case_id: int) -> Response:
        selectors.case_get(user=request.user, case_id=case_id)
        data = validated(self.InputSerializer, request.data)
        referral = cases.referral_add(
            actor=request.user,
            case_id=case_id,
            department_id=data["department"],
            title=data["title"],
            days=data["days"],
            note=data["note"],
        )
        return _done(referral.pk, request.user, status.HTTP_201_CREATED)
