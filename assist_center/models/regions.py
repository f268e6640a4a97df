from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Region(models.Model):
    """County, township/subdistrict or village/community, with a 12-digit statistical code."""

    class Level(models.TextChoices):
        COUNTY = "county", _("County")
        TOWNSHIP = "township", _("Township")
        VILLAGE = "village", _("Village")

    class Kind(models.TextChoices):
        COUNTY = "county", _("County")
        TOWN = "town", _("Town")
        TOWNSHIP = "township", _("Township")
        SUBDISTRICT = "subdistrict", _("Subdistrict")
        VILLAGE = "village", _("Village")
        COMMUNITY = "community", _("Community")

    code = models.CharField(_("code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=64)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # Denormalised so that scoping a township's villages is one indexed equality, not a join.
    township = models.ForeignKey(
        "self", verbose_name=_("township"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                name="region_code_is_12_digits", condition=models.Q(code__regex=r"^[0-9]{12}$")
            ),
            models.CheckConstraint(
                name="region_parent_matches_level",
                condition=(models.Q(level="county", parent__isnull=True) | models.Q(parent__isnull=False)),
            ),
        ]
        indexes = [models.Index(fields=["level", "township"], name="region_level_township_idx")]

    def __str__(self) -> str:
        return self.name
