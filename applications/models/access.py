"""The household access log: one cheap row per read of a household's personal data (issue 12)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessPurpose(models.TextChoices):
    """Why a household's data was read; the resident sees these labels on the happiness list."""

    VERIFICATION = "verification", _("Verification report")
    APPLICATION = "application", _("Application file")
    CASE = "case", _("Case file")
    REFERRAL_BRIEF = "referral_brief", _("Referral brief")
    HOUSEHOLD_PAGE = "household_page", _("Household page")
    CLAIM_DELIVERY = "claim_delivery", _("Delivery details of a claim")
    REVEAL = "reveal", _("Full ID number or phone revealed")
    DOWNLOAD = "download", _("Document downloaded")
    EXPORT = "export", _("Export")
    SMS_RECIPIENT = "sms_recipient", _("Phone used to send an SMS")
    ASSISTED_LIST = "assisted_list", _("Happiness list shown at the township window")
    ADMIN_RECORD = "admin_record", _("Record opened in the administration")
    MONITORING = "monitoring", _("Monitoring warning")
    DISCOVERY = "discovery", _("Outreach lead")
    SIMULATION = "simulation", _("Simulation of a new standard")
    FLAG_REVIEW = "flag_review", _("Omission or duplicate check")
    ACCESS_LOG_READ = "access_log_read", _("This access log read")


class HouseholdAccess(models.Model):
    """One read of one household's personal data: who (role, department or organisation), when, why.

    No payload: what was seen follows from the purpose and the subject. Append-only (a database
    trigger refuses UPDATE and DELETE), like the audit log. The organisation is a plain id and
    label because charity sits above this app.
    """

    household = models.ForeignKey(
        # No index of its own: (household, time) below serves every read of the log.
        "applications.Household",
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        db_index=False,
        related_name="+",
    )
    time = models.DateTimeField(_("time"), auto_now_add=True)
    actor = models.ForeignKey(
        # PROTECT: an account that read data is deactivated, never deleted (the trigger forbids SET NULL).
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Copied at the time of the read: a later change of role or department does not rewrite the log.
    role = models.CharField(_("role"), max_length=24, blank=True)
    department = models.ForeignKey(
        "assist_center.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    organisation_id = models.BigIntegerField(_("organisation"), null=True, blank=True)
    organisation_name = models.CharField(_("organisation name"), max_length=200, blank=True)
    purpose = models.CharField(_("purpose"), max_length=24, choices=AccessPurpose.choices)
    subject_type = models.CharField(_("subject type"), max_length=64, blank=True)
    subject_id = models.CharField(_("subject id"), max_length=64, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("household data access")
        verbose_name_plural = _("household data accesses")
        ordering = ["-time", "-id"]
        indexes = [models.Index(fields=["household", "time"], name="household_access_hh_time")]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M} household {self.household_id} {self.purpose}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("Household access rows are append-only.")
        super().save(*args, **kwargs)
