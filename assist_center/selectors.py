"""Reads of the core's shared data."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Region


def region_tree_public() -> QuerySet[Region]:
    """Every region of the county: public, it is printed on posters anyway."""
    return Region.objects.select_related("parent").order_by("code")
