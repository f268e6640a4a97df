from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Category(models.TextChoices):
    """The need categories of the board (issue 11), which organisations also say they serve."""

    INDUSTRY = "industry", "产业帮扶"
    EDUCATION = "education", "助学助教"
    MEDICAL_ESCORT = "medical_escort", "送医陪护"
    DAILY_CARE = "daily_care", "生活照料"
    COMFORT = "comfort", "心理慰藉"
    DONATION = "donation", "物资捐赠"
    HOUSING = "housing", "住房改善"
    EMPLOYMENT = "employment", "就业帮扶"
    OTHER = "other", "其他"


class Organisation(models.Model):
    """An NGO, enterprise, chamber, local gentry, volunteer team or 四社联动 hub working with the centre."""

    class Kind(models.TextChoices):
        NGO = "ngo", _("Social organisation")
        SOCIAL_ENTERPRISE = "social_enterprise", "社会企业"
        ENTERPRISE = "enterprise", _("Enterprise")
        CHAMBER = "chamber", _("Chamber of commerce")
        GENTRY = "gentry", _("Local gentry")
        VOLUNTEERS = "volunteers", _("Volunteer team")
        # The four hubs of 四社联动 (county-run centres that coordinate the others).
        HUB_SOCIAL_ORGS = "hub_social_orgs", "社会组织服务中心"
        HUB_COMMUNITY = "hub_community", "社区服务中心"
        HUB_SOCIAL_WORK = "hub_social_work", "社工站"
        HUB_SOCIAL_ENTERPRISE = "hub_social_ent", "社会企业联络中心"

    # Kinds that act as persons and have no 统一社会信用代码.
    KINDS_WITHOUT_CREDIT_CODE = (Kind.GENTRY, Kind.VOLUNTEERS)

    class Vetting(models.TextChoices):
        APPLIED = "applied", "待审核"
        APPROVED = "approved", "已通过"
        REFUSED = "refused", "未通过"
        SUSPENDED = "suspended", "已暂停"

    # Vetting expires after 12 months unless the coordinator renews it (issue 11).
    VETTING_VALID_DAYS = 365

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    # 统一社会信用代码, validated with stdnum.cn.uscc; individuals (gentry) have none.
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    township = models.ForeignKey(
        "assist_center.Region", verbose_name=_("township"), null=True, blank=True, on_delete=models.PROTECT
    )
    # Kept equal to vetting == approved by the vetting services (older code reads it).
    is_vetted = models.BooleanField(_("vetted"), default=False)
    vetting = models.CharField(
        "审核状态", max_length=16, choices=Vetting.choices, default=Vetting.APPLIED, db_index=True
    )
    vetting_reason = models.CharField("审核说明", max_length=500, blank=True)
    vetted_at = models.DateTimeField("审核时间", null=True, blank=True)
    vetted_until = models.DateField("审核有效期至", null=True, blank=True)
    contact_name = models.CharField("联系人", max_length=64, blank=True)
    contact_phone = models.CharField("联系电话", max_length=32, blank=True)
    service_townships = models.ManyToManyField(
        "assist_center.Region", verbose_name="服务乡镇", blank=True, related_name="+"
    )
    categories = ArrayField(
        models.CharField(max_length=24, choices=Category.choices),
        verbose_name="服务类别",
        default=list,
        blank=True,
    )
    applied_at = models.DateTimeField("申请时间", null=True, blank=True)
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

    def claim_refusal(self, today: dt.date) -> str | None:
        """Why this organisation may not claim today, or None when it may."""
        if self.vetting == self.Vetting.SUSPENDED:
            return f"贵组织已被暂停认领：{self.vetting_reason or '请联系联合帮扶中心'}"
        if self.vetting != self.Vetting.APPROVED:
            return "贵组织尚未通过审核，审核通过后才能认领需求。"
        if self.vetted_until is None or self.vetted_until < today:
            return "贵组织的审核已过期（有效期12个月），请联系联合帮扶中心续期后再认领。"
        return None
