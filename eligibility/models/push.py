"""Departments' systems pushing pool records: their credentials and the nonces that stop replays."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from assist_center.models import Department


class PushKey(models.Model):
    """One department system's API key: shown once when issued, kept only as its SHA-256.

    The key is 32 random bytes, so a plain digest is enough (no slow hash: there is nothing to
    guess); `prefix` finds the row without scanning and is what the admin shows.
    """

    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="+"
    )
    prefix = models.CharField(_("key prefix"), max_length=16, unique=True, editable=False)
    key_hash = models.CharField(_("key digest"), max_length=64, editable=False)
    categories = ArrayField(models.CharField(max_length=48), verbose_name=_("record categories"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("department push key")
        verbose_name_plural = _("department push keys")
        ordering = ["department", "-created_at"]

    def __str__(self) -> str:
        return self.prefix


class PushRequest(models.Model):
    """One accepted push: its nonce (unique per key, so a replayed request is refused) and its job."""

    key = models.ForeignKey(PushKey, verbose_name=_("push key"), on_delete=models.PROTECT, related_name="+")
    nonce = models.CharField(_("nonce"), max_length=64)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    body_format = models.CharField(_("body format"), max_length=8)  # "csv" or "jsonl"
    job = models.OneToOneField(
        "eligibility.ImportJob",
        verbose_name=_("pool import"),
        null=True,
        on_delete=models.PROTECT,
        related_name="push",
    )

    class Meta:
        verbose_name = _("pushed batch")
        verbose_name_plural = _("pushed batches")
        constraints = [models.UniqueConstraint(fields=["key", "nonce"], name="push_nonce_once")]

    def __str__(self) -> str:
        return f"{self.key_id}:{self.nonce}"
