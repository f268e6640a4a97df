"""The data pool's API: departments' systems push records and poll their jobs."""

from django.urls import URLPattern, URLResolver, path

from . import apis_push

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "pool/<str:category>/records/", apis_push.PoolRecordsPushApi.as_view(), name="api-pool-records-push"
    ),
    path("pool/jobs/<int:job_id>/", apis_push.PoolJobApi.as_view(), name="api-pool-job"),
]
