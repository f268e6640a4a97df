"""POST /api/v1/pool/<category>/records/ and GET /api/v1/pool/jobs/<id>/: departments' systems.

No session and no CSRF: the caller is a department's system with its push key (eligibility.services
.push); every answer uses the API's one error format. The body is read as a stream (never
request.body), so a large batch is never held in memory whole.
"""

from __future__ import annotations

from typing import IO, Any, cast

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from assist_center.api import PublicAPIView

from .models import ImportJob, PushKey
from .services.push import push_authenticate, push_job_errors, push_job_get, push_records

_HEADERS = [
    OpenApiParameter(
        "Authorization", str, OpenApiParameter.HEADER, required=True, description="Bearer <key>"
    ),
    OpenApiParameter("X-Timestamp", str, OpenApiParameter.HEADER, required=True, description="Unix seconds"),
    OpenApiParameter(
        "X-Nonce",
        str,
        OpenApiParameter.HEADER,
        required=True,
        description="16-64 of [A-Za-z0-9_-], once per key",
    ),
]


class _PushView(PublicAPIView):
    def key(self, request: Request) -> PushKey:
        meta = request._request.META
        return push_authenticate(
            authorization=meta.get("HTTP_AUTHORIZATION", ""),
            timestamp=meta.get("HTTP_X_TIMESTAMP", ""),
            nonce=meta.get("HTTP_X_NONCE", ""),
        )


# Built by inline_serializer: a declared Serializer subclass could not have a field named "errors".
JobOutput = inline_serializer(
    name="PoolJob",
    fields={
        "job_id": serializers.IntegerField(),
        "category": serializers.CharField(),
        "status": serializers.CharField(help_text="queued, running, done or failed"),
        "rows_read": serializers.IntegerField(),
        "rows_inserted": serializers.IntegerField(),
        "rows_updated": serializers.IntegerField(),
        "rows_unchanged": serializers.IntegerField(),
        "rows_rejected": serializers.IntegerField(),
        "errors": serializers.ListField(
            child=serializers.DictField(), help_text="[{line, reason}], first 100"
        ),
    },
)


def _job(job: ImportJob) -> dict[str, Any]:
    return {
        "job_id": job.pk,
        "category": job.category,
        "status": job.status,
        "rows_read": job.rows_read,
        "rows_inserted": job.rows_inserted,
        "rows_updated": job.rows_updated,
        "rows_unchanged": job.rows_unchanged,
        "rows_rejected": job.rows_rejected,
        "errors": push_job_errors(job),
    }


class PoolRecordsPushApi(_PushView):
    """Queue a batch of one category's records (CSV with the import's header, or JSON lines)."""

    parser_classes: list[type] = []

    @extend_schema(
        operation_id="pool_records_push",
        parameters=_HEADERS,
        request={"text/csv": bytes, "application/x-ndjson": bytes},
        responses={202: JobOutput},
    )
    def post(self, request: Request, category: str) -> Response:
        key = self.key(request)
        job = push_records(
            key=key,
            category=category,
            nonce=request._request.META.get("HTTP_X_NONCE", ""),
            body=cast(IO[bytes], request._request),  # read as a stream, never request.body
            content_type=request._request.META.get("CONTENT_TYPE", ""),
        )
        job.refresh_from_db()
        return Response(_job(job), status=status.HTTP_202_ACCEPTED)


class PoolJobApi(_PushView):
    """A pushed job's progress and its rejected rows by line (the department's own jobs only)."""

    @extend_schema(operation_id="pool_job_get", parameters=_HEADERS, responses={200: JobOutput})
    def get(self, request: Request, job_id: int) -> Response:
        key = self.key(request)
        return Response(_job(push_job_get(key=key, job_id=job_id)))
