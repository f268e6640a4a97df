from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from .api import PublicAPIView
from .selectors import region_tree_public


class RegionListApi(PublicAPIView):
    class OutputSerializer(serializers.Serializer):
        code = serializers.CharField()
        name = serializers.CharField()
        level = serializers.CharField()
        # The contract names this key "parent"; the metaclass moves it out of the class attributes.
        parent = serializers.CharField(source="parent.code", allow_null=True, default=None)  # type: ignore[assignment]

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(region_tree_public(), many=True).data)
