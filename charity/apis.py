"""The 公益谷 API: the public needs feed (allowlist only, cacheable) and the organisations' claim."""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.cache import cache
from django.db.models import Q
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assist_center.api import PublicAPIView, ScopedAPIView
from assist_center.db_router import replica_reads
from assist_center.models import Region
from assist_center.staff_views import needs_second_factor

from .access import organisation_of_user
from .models import Category, Need
from .selectors import board_needs, public_need_dict
from .services.claims import need_claim
from .services.needs import board_cache_version, need_profiles_check

PAGE_SIZE = 20
FEED_MAX_AGE = 60


class PublicNeedSerializer(serializers.Serializer):
    id = serializers.CharField()
    category = serializers.ChoiceField(choices=Category.choices)
    category_label = serializers.CharField()
    township = serializers.CharField()
    month = serializers.CharField()
    age_band = serializers.CharField()
    household_size = serializers.CharField()
    text = serializers.CharField()
    estimated_cost = serializers.CharField(allow_null=True)
    quantity = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    priority = serializers.BooleanField()


def township_by_code(code: str) -> Region | None:
    if not code:
        return None
    return Region.objects.filter(Q(code=code) | Q(name=code), level=Region.Level.TOWNSHIP).first()


class PublicNeedListApi(PublicAPIView):
    """The board as JSON for the county's WeChat account: allowlisted fields, paginated, cacheable."""

    class FilterSerializer(serializers.Serializer):
        category = serializers.ChoiceField(choices=Category.choices, required=False)
        township = serializers.CharField(required=False, max_length=64, help_text="township code or name")
        status = serializers.ChoiceField(
            choices=[(s, Need.Status(s).label) for s in ("published", "claimed", "completed")], required=False
        )
        page = serializers.IntegerField(required=False, min_value=1, max_value=10_000)

    @extend_schema(
        operation_id="charity_public_need_list",
        parameters=[FilterSerializer],
        responses={
            200: inline_serializer(
                "PublicNeedPage",
                {
                    "count": serializers.IntegerField(),
                    "page": serializers.IntegerField(),
                    "pages": serializers.IntegerField(),
                    "results": PublicNeedSerializer(many=True),
                },
            )
        },
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        digest = hashlib.sha256(repr(sorted(data.items())).encode()).hexdigest()[:32]
        key = f"charity:feed:{board_cache_version()}:{digest}"
        body = cache.get(key)
        if body is None:
            need_profiles_check()  # the fewer-than-5 rule re-applied (at most once a minute)
            key = f"charity:feed:{board_cache_version()}:{digest}"
            with replica_reads():  # display only: a replica's lag is far inside the feed's cache time
                body = public_feed_page(data)
            cache.set(key, body, FEED_MAX_AGE)
        response = Response(body)
        response["Cache-Control"] = f"public, max-age={FEED_MAX_AGE}"
        return response


def public_feed_page(data: dict[str, Any]) -> dict[str, Any]:
    township = township_by_code(data.get("township", ""))
    if data.get("township") and township is None:
        return {"count": 0, "page": 1, "pages": 0, "results": []}
    qs = board_needs(
        category=data.get("category", ""),
        township_id=township.pk if township else None,
        status=data.get("status", ""),
    )
    count = qs.count()
    page = int(data.get("page") or 1)
    rows = list(qs[(page - 1) * PAGE_SIZE : page * PAGE_SIZE])
    return {
        "count": count,
        "page": page,
        "pages": (count + PAGE_SIZE - 1) // PAGE_SIZE,
        "results": [public_need_dict(n) for n in rows],
    }


class OrganisationMemberAPIView(ScopedAPIView):
    """Base of the organisations' API: a signed-in member of an organisation, never staff.

    It keeps everything of ScopedAPIView (session authentication, the JSON limits, 401 for no
    session) but its gate is an organisation membership instead of a staff role: members are not
    staff, and staff never act for an organisation. The scope is the member's own organisation
    (charity.selectors), so another organisation's objects are 404 as in the portal.
    """

    class IsOrganisationMember(BasePermission):
        message = "仅限公益组织成员账号使用。"

        def has_permission(self, request: Request, view: Any) -> bool:
            return organisation_of_user(request.user) is not None

    permission_classes = [IsOrganisationMember]

    def check_permissions(self, request: Request) -> None:
        user = request.user
        if not (user and user.is_authenticated):
            raise NotAuthenticated()
        if needs_second_factor(request._request):
            self.permission_denied(request, message="请先完成双因素登录。", code="second_factor")
        # Not ScopedAPIView's staff gate (it would refuse every member): the member gate replaces it.
        APIView.check_permissions(self, request)


class NeedClaimApi(OrganisationMemberAPIView):
    """A member of a vetted organisation claims a need: 201 for the one winner, 409 for the others."""

    @extend_schema(
        operation_id="charity_need_claim",
        request=None,
        responses={
            201: inline_serializer(
                "NeedClaimed",
                {
                    "claim": serializers.IntegerField(),
                    "need": serializers.CharField(),
                    "status": serializers.CharField(),
                },
            )
        },
    )
    def post(self, request: Request, public_id: str) -> Response:
        claim = need_claim(actor=request.user, public_id=public_id)
        return Response(
            {"claim": claim.pk, "need": claim.need.public_id, "status": claim.status},
            status=status.HTTP_201_CREATED,
        )
