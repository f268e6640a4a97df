"""Admin of 救助码 assist codes: print a region's poster, download its QR code, or a township's batch.

AssistCode is a proxy of Region, so the list is the region tree itself, scoped like the regions:
the coordinator sees the county, a township assistant their township and its villages, everybody
else nothing (an out-of-scope download answers 404, like a missing one). A poster carries no
personal data, only a region's public URL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from assist_center.admin.base import ScopedModelAdmin
from assist_center.models import Region
from assist_center.pdf import attachment_response, safe_filename
from assist_center.permissions import CENTRE_ROLES
from assist_center.qr import qr_png, qr_svg
from assist_center.scopes import scope_regions

from ..assist_codes import assist_code_url, assist_codes_zip, poster_pdf, region_png_filename, township_batch
from ..models import AssistCode

# One PDF render holds a worker for about 50 ms a page: a whole county's villages fit, a
# runaway selection of thousands does not.
MAX_POSTERS_PER_DOWNLOAD = 500


def _pdf(content: bytes, filename: str, ascii_fallback: str) -> HttpResponse:
    return attachment_response(
        content, content_type="application/pdf", filename=filename, ascii_fallback=ascii_fallback
    )


def _zip(regions: Sequence[Region], filename: str, ascii_fallback: str) -> HttpResponse:
    return attachment_response(
        assist_codes_zip(regions),
        content_type="application/zip",
        filename=filename,
        ascii_fallback=ascii_fallback,
    )


@admin.register(AssistCode)
class AssistCodeAdmin(ScopedModelAdmin):
    viewer_roles = CENTRE_ROLES
    # Regions are edited in their own admin; this one only prints them.
    editor_roles = ()
    adder_roles = ()
    list_display = ("code", "name", "level", "parent", "downloads")
    list_display_links = None
    list_select_related = ("parent",)
    list_filter = ("level",)
    search_fields = ("code", "name")
    ordering = ("code",)
    list_per_page = 100
    actions = ("download_posters", "download_qr_zip")

    def scope_queryset(self, request: HttpRequest, qs: QuerySet[Any]) -> QuerySet[Any]:
        return scope_regions(qs, request.user)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    # --- list ----------------------------------------------------------------------------------

    @admin.display(description=_("downloads"))
    def downloads(self, obj: Region) -> str:
        links = [
            (reverse("admin:applications_assistcode_poster", args=[obj.pk]), _("Poster PDF")),
            (reverse("admin:applications_assistcode_qr_png", args=[obj.pk]), "PNG"),
            (reverse("admin:applications_assistcode_qr_svg", args=[obj.pk]), "SVG"),
        ]
        if obj.level == Region.Level.TOWNSHIP:
            links += [
                (
                    reverse("admin:applications_assistcode_township_posters", args=[obj.pk]),
                    _("Posters of the township and its villages (PDF)"),
                ),
                (
                    reverse("admin:applications_assistcode_township_zip", args=[obj.pk]),
                    _("QR codes of the township and its villages (ZIP)"),
                ),
            ]
        parts = [format_html('<a href="{}">{}</a>', url, label) for url, label in links]
        return format_html(" | ".join(["{}"] * len(parts)), *parts)

    # --- actions (the queryset is the changelist's, already scoped) ----------------------------

    def _too_many(self, request: HttpRequest, queryset: QuerySet[Any]) -> bool:
        if queryset.count() > MAX_POSTERS_PER_DOWNLOAD:
            self.message_user(
                request,
                _("Select at most %(count)d regions at a time.") % {"count": MAX_POSTERS_PER_DOWNLOAD},
                messages.WARNING,
            )
            return True
        return False

    @admin.action(description=_("Download posters of the selected regions (PDF)"))
    def download_posters(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        if self._too_many(request, queryset):
            return None
        regions = list(queryset.select_related("parent__parent").order_by("code"))
        return _pdf(poster_pdf(regions), "救助码海报.pdf", "assist-code-posters.pdf")

    @admin.action(description=_("Download QR codes of the selected regions (ZIP)"))
    def download_qr_zip(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        if self._too_many(request, queryset):
            return None
        return _zip(list(queryset.order_by("code")), "救助码.zip", "assist-codes.zip")

    # --- per-region downloads ------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        def view(func: Callable[[HttpRequest, Region], HttpResponse]) -> Callable[..., HttpResponse]:
            def wrapped(request: HttpRequest, object_id: str) -> HttpResponse:
                return func(request, self._region(request, object_id))

            return self.admin_site.admin_view(wrapped)

        custom = [
            path(
                "<path:object_id>/poster.pdf", view(self.poster_view), name="applications_assistcode_poster"
            ),
            path("<path:object_id>/qr.png", view(self.qr_png_view), name="applications_assistcode_qr_png"),
            path("<path:object_id>/qr.svg", view(self.qr_svg_view), name="applications_assistcode_qr_svg"),
            path(
                "<path:object_id>/township-posters.pdf",
                view(self.township_posters_view),
                name="applications_assistcode_township_posters",
            ),
            path(
                "<path:object_id>/township-qr.zip",
                view(self.township_zip_view),
                name="applications_assistcode_township_zip",
            ),
        ]
        return custom + super().get_urls()

    def _region(self, request: HttpRequest, object_id: str) -> Region:
        """The region if this user may print it; Http404 alike for missing and out of scope."""
        obj = self.get_object(request, unquote(object_id))
        if not self.has_view_permission(request, obj):
            raise Http404
        return obj

    def _township_batch(self, request: HttpRequest, region: Region) -> list[Region]:
        if region.level != Region.Level.TOWNSHIP:
            raise Http404
        visible = set(self.get_queryset(request).filter(township=region).values_list("pk", flat=True))
        return [r for r in township_batch(region) if r.pk == region.pk or r.pk in visible]

    def poster_view(self, request: HttpRequest, region: Region) -> HttpResponse:
        name = safe_filename(f"救助码海报-{region.code}-{region.name}.pdf")
        return _pdf(poster_pdf([region]), name, f"assist-code-poster-{region.code}.pdf")

    def qr_png_view(self, request: HttpRequest, region: Region) -> HttpResponse:
        return attachment_response(
            qr_png(assist_code_url(region)),
            content_type="image/png",
            filename=region_png_filename(region),
            ascii_fallback=f"{region.code}.png",
        )

    def qr_svg_view(self, request: HttpRequest, region: Region) -> HttpResponse:
        svg = '<?xml version="1.0" encoding="UTF-8"?>\n' + qr_svg(assist_code_url(region))
        return attachment_response(
            svg.encode("utf-8"),
            content_type="image/svg+xml",
            filename=safe_filename(f"{region.code}-{region.name}.svg"),
            ascii_fallback=f"{region.code}.svg",
        )

    def township_posters_view(self, request: HttpRequest, region: Region) -> HttpResponse:
        regions = self._township_batch(request, region)
        name = safe_filename(f"救助码海报-{region.code}-{region.name}-全部村（社区）.pdf")
        return _pdf(poster_pdf(regions), name, f"assist-code-posters-{region.code}.pdf")

    def township_zip_view(self, request: HttpRequest, region: Region) -> HttpResponse:
        regions = self._township_batch(request, region)
        name = safe_filename(f"救助码-{region.code}-{region.name}.zip")
        return _zip(regions, name, f"assist-codes-{region.code}.zip")
