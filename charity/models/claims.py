"""Claims of needs by organisations: progress, evidence, the resident's answer and the confirmation."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models


def new_resident_token() -> str:
    return secrets.token_urlsafe(24)


class Claim(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "已认领"
        CONTACTED = "contacted", "已联系"
        REPORTED = "reported", "已报告完成"
        DISPUTED = "disputed", "有争议"
        CONFIRMED = "confirmed", "已确认完成"
        RELEASED = "released", "超时释放"
        CANCELLED = "cancelled", "已取消"

    # A need has at most one claim in these states: the database refuses a second (the race).
    OPEN_STATUSES = (Status.ACTIVE, Status.CONTACTED, Status.REPORTED, Status.DISPUTED)

    class ResidentAnswer(models.TextChoices):
        RECEIVED = "received", "已收到"
        PARTLY = "partly", "部分收到"
        NOT_RECEIVED = "not_received", "未收到"

    need = models.ForeignKey(
        "charity.Need", verbose_name="需求", on_delete=models.PROTECT, related_name="claims"
    )
    organisation = models.ForeignKey(
        "charity.Organisation", verbose_name="认领组织", on_delete=models.PROTECT, related_name="claims"
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="认领人", on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        "状态", max_length=16, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    claimed_at = models.DateTimeField("认领时间")
    # Working-day deadlines per category (settings.CHARITY_DEADLINES); reminders never move them.
    contact_due = models.DateField("联系期限", db_index=True)
    delivery_due = models.DateField("交付期限", db_index=True)
    contacted_at = models.DateTimeField("联系时间", null=True, blank=True)
    reminded_half_at = models.DateTimeField("过半提醒时间", null=True, blank=True)
    reminded_last_at = models.DateTimeField("到期前提醒时间", null=True, blank=True)
    reported_at = models.DateTimeField("报告完成时间", null=True, blank=True)
    in_kind = models.CharField("帮扶内容（实物/服务）", max_length=200, blank=True)
    value = models.DecimalField("折合金额（元）", max_digits=10, decimal_places=2, null=True, blank=True)
    resident_token = models.CharField(max_length=43, unique=True, default=new_resident_token, editable=False)
    resident_answer = models.CharField("居民反馈", max_length=16, choices=ResidentAnswer.choices, blank=True)
    resident_answered_at = models.DateTimeField("居民反馈时间", null=True, blank=True)
    resident_answer_due = models.DateField("居民反馈期限", null=True, blank=True, db_index=True)
    # No answer in 5 working days: the assistant phones and records the answer.
    phone_task_open = models.BooleanField("待电话回访", default=False, db_index=True)
    confirmed_at = models.DateTimeField("确认时间", null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="确认人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)
    end_reason = models.CharField("结束原因", max_length=500, blank=True)
    # Whether the organisation has been told that the household withdrew its consent.
    consent_withdrawn_notice = models.BooleanField("已告知撤回同意", default=False)

    class Meta:
        verbose_name = "认领"
        verbose_name_plural = "认领"
        ordering = ["-claimed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["need"],
                condition=models.Q(status__in=["active", "contacted", "reported", "disputed"]),
                name="claim_one_open_per_need",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "status"], name="claim_org_status_idx")]

    def __str__(self) -> str:
        return f"{self.need.public_id} / {self.organisation}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class ClaimUpdate(models.Model):
    """A progress note or the completion report, with evidence photos (never public)."""

    class Kind(models.TextChoices):
        PROGRESS = "progress", "进展"
        COMPLETION = "completion", "完成报告"
        RETURNED = "returned", "退回"
        NOTE = "note", "中心备注"

    claim = models.ForeignKey(Claim, verbose_name="认领", on_delete=models.PROTECT, related_name="updates")
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    text = models.TextField("内容", max_length=2000)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="填写人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "认领进展"
        verbose_name_plural = "认领进展"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d}"


class EvidencePhoto(models.Model):
    """A photo re-encoded as JPEG without EXIF/GPS, kept in the database (no host-local file)."""

    update = models.ForeignKey(
        ClaimUpdate, verbose_name="进展", on_delete=models.PROTECT, related_name="photos"
    )
    image = models.BinaryField("图片", editable=False)
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    original_sha256 = models.CharField("原图SHA-256", max_length=64)
    width = models.PositiveIntegerField("宽")
    height = models.PositiveIntegerField("高")
    created_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "证明照片"
        verbose_name_plural = "证明照片"

    def __str__(self) -> str:
        return self.sha256[:12]
