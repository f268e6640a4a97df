"""The 公益谷 API: the public needs feed (allowlist only, cacheable) and the organisations' claim."""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.cache import cache
from django.db.models import Q
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotAuthenticated, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assist_center.api import PublicAPIView
from assist_center.models import Region
from assist_center.staff_views import needs_second_factor

from .models import Category, Need
from .selectors import board_needs, public_need_dict
from .services.claims import need_claim
from .services.needs import board_cache_version

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


class NeedClaimApi(APIView):
    """A member of a vetted organisation claims a need: 201 for the one winner, 409 for the others."""

    authentication_classes = [SessionAuthentication]
    permission_classes: list[type] = []

    def get_authenticate_header(self, request: Request) -> str:
        return 'Session realm="assist_center"'

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
        if not request.user.is_authenticated:
            raise NotAuthenticated()
        if needs_second_factor(request._request):
            raise PermissionDenied("请先完成双因素登录。")
        claim = need_claim(actor=request.user, public_id=public_id)
        return Response(
            {"claim": claim.pk, "need": claim.need.public_id, "status": claim.status},
            status=status.HTTP_201_CREATED,
        )
