from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Organisation(models.Model):
    """An NGO, enterprise, chamber, local gentry or volunteer team working with the centre."""

    class Kind(models.TextChoices):
        NGO = "ngo", _("Social organisation")
        ENTERPRISE = "enterprise", _("Enterprise")
        CHAMBER = "chamber", _("Chamber of commerce")
        GENTRY = "gentry", _("Local gentry")
        VOLUNTEERS = "volunteers", _("Volunteer team")

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # 统一社会信用代码, validated with stdnum.cn.uscc; individuals (gentry) have none.
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    township = models.ForeignKey(
        "assist_center.Region", verbose_name=_("township"), null=True, blank=True, on_delete=models.PROTECT
    )
    is_vetted = models.BooleanField(_("vetted"), default=False)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("members"), blank=True, related_name="organisations"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
