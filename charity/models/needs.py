"""A need published on the 公益谷 board: the private source and the public, allowlisted wording."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .organisations import Category


def new_public_id() -> str:
    """12 URL-safe random characters (72 bits): not guessable and unrelated to the database id."""
    return secrets.token_urlsafe(9)


class AgeBand(models.TextChoices):
    CHILD = "0-17", "0-17岁"
    YOUNG = "18-39", "18-39岁"
    MIDDLE = "40-59", "40-59岁"
    OLD = "60-79", "60-79岁"
    VERY_OLD = "80+", "80岁以上"
    # Widened bands, used when a profile is shared by fewer than 5 households.
    MINOR = "minor", "未成年"
    ADULT = "adult", "成年"
    SENIOR = "senior", "60岁以上"
    ANY = "any", "不限"


class SizeBand(models.TextChoices):
    ONE = "1", "1人户"
    TWO = "2", "2人户"
    THREE_FOUR = "3-4", "3-4人户"
    FIVE_PLUS = "5+", "5人及以上"
    SMALL = "1-2", "1-2人户"
    LARGE = "3+", "3人及以上"
    ANY = "any", "不限"


class Need(models.Model):
    class Source(models.TextChoices):
        CASE = "case", "救助案件（政策外需求）"
        MONITORING = "monitoring", "监测预警"
        VISIT = "visit", "入户走访"
        MANUAL = "manual", "助理员录入"

    class Status(models.TextChoices):
        DRAFT = "draft", "待审核"
        PUBLISHED = "published", "待认领"
        CLAIMED = "claimed", "已认领"
        COMPLETED = "completed", "已完成"
        WITHDRAWN = "withdrawn", "已撤回"

    class Visibility(models.TextChoices):
        # How far the k-anonymity rule let the profile be shown (computed when published).
        FULL = "full", "乡镇与细分年龄段"
        WIDENED = "widened", "乡镇与放宽的年龄段"
        COUNTY = "county", "仅显示全县"
        VETTED_ONLY = "vetted_only", "仅对已审核组织显示"

    public_id = models.CharField(
        "公开编号", max_length=16, unique=True, default=new_public_id, editable=False
    )
    source = models.CharField("来源", max_length=16, choices=Source.choices, default=Source.MANUAL)
    outside_need = models.ForeignKey(
        "referrals.OutsidePolicyNeed",
        verbose_name=_("outside-policy need"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    household = models.ForeignKey(
        "applications.Household", verbose_name=_("household"), on_delete=models.PROTECT, related_name="+"
    )
    township = models.ForeignKey(
        "assist_center.Region", verbose_name=_("township"), on_delete=models.PROTECT, related_name="+"
    )
    category = models.CharField("类别", max_length=24, choices=Category.choices)
    # The need as recorded (private): never shown to the public or to organisations before a claim.
    internal_text = models.TextField("需求原文", max_length=2000)
    # The assistant's edited, approved public wording.
    public_text = models.CharField("公开描述", max_length=300, blank=True)
    age_band = models.CharField("年龄段", max_length=8, choices=AgeBand.choices)
    size_band = models.CharField("家庭人数", max_length=8, choices=SizeBand.choices)
    estimated_cost = models.DecimalField(
        "预估金额（元）", max_digits=10, decimal_places=2, null=True, blank=True
    )
    quantity = models.CharField("数量", max_length=60, blank=True)
    publish_consent = models.BooleanField("同意公开（去标识化）", default=False)
    share_consent = models.BooleanField("同意向认领组织提供联系信息", default=False)
    status = models.CharField(
        "状态", max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    # What the public sees, fixed when published (the k-anonymity rule, security.md).
    visibility = models.CharField("公开范围", max_length=16, choices=Visibility.choices, blank=True)
    public_township = models.ForeignKey(
        "assist_center.Region",
        verbose_name="公开乡镇",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    public_age_band = models.CharField("公开年龄段", max_length=8, choices=AgeBand.choices, blank=True)
    public_size_band = models.CharField("公开家庭人数", max_length=8, choices=SizeBand.choices, blank=True)
    # Back on the board after a lapsed claim: at the top, marked 优先.
    priority = models.BooleanField("优先", default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("录入时间", auto_now_add=True)
    published_at = models.DateTimeField("发布时间", null=True, blank=True, db_index=True)
    consent_withdrawn_at = models.DateTimeField("撤回同意时间", null=True, blank=True)

    class Meta:
        verbose_name = "公益需求"
        verbose_name_plural = "公益需求"
        ordering = ["-priority", "-published_at", "-id"]
        indexes = [models.Index(fields=["status", "-priority", "-published_at"], name="need_board_idx")]
        constraints = [
            models.CheckConstraint(
                name="need_public_requires_consent",
                condition=~models.Q(status__in=["published", "claimed", "completed"])
                | models.Q(publish_consent=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {self.public_id}"

    @property
    def is_public(self) -> bool:
        """Shown on the public board and its share page (claimed and completed ones keep their URL)."""
        return self.status in (self.Status.PUBLISHED, self.Status.CLAIMED, self.Status.COMPLETED)


class PublicReport(models.Model):
    """纠错/举报 from anyone on a public need or project page; the centre answers within 5 working days."""

    class Subject(models.TextChoices):
        NEED = "need", "公益需求"
        PROJECT = "project", "公益创投项目"

    class Kind(models.TextChoices):
        ERROR = "error", "信息有误"
        ABUSE = "abuse", "举报违规"

    class Status(models.TextChoices):
        OPEN = "open", "待处理"
        CLOSED = "closed", "已处理"

    subject_kind = models.CharField("对象", max_length=16, choices=Subject.choices)
    # The public id of the need or project (never a database id).
    subject_ref = models.CharField("对象编号", max_length=32, db_index=True)
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    text = models.TextField("内容", max_length=1000)
    contact = models.CharField("联系方式（选填）", max_length=64, blank=True)
    status = models.CharField(
        "状态", max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    due_on = models.DateField("处理期限", db_index=True)
    answer = models.TextField("处理结果", blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="处理人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("提交时间", auto_now_add=True)
    closed_at = models.DateTimeField("处理时间", null=True, blank=True)

    class Meta:
        verbose_name = "纠错/举报"
        verbose_name_plural = "纠错/举报"
        ordering = ["status", "due_on", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.subject_ref}"
