"""The provincial assistance system's economic check of an application (off unless configured)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ProvinceCheck(models.Model):
    """One request to the province for one application, and how it ended (never blocks the report)."""

    class Status(models.TextChoices):
        ANSWERED = "answered", _("Answered")
        UNREACHABLE = "unreachable", _("Province did not answer")
        FAILED = "failed", pgettext_lazy("import", "Failed")

    application = models.ForeignKey(
        "applications.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="province_checks",
    )
    request_id = models.CharField(_("request id"), max_length=64, unique=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    records = models.PositiveIntegerField(_("records received"), default=0)
    error = models.CharField(_("error"), max_length=200, blank=True)
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    # The report re-run with the province's records, when the application could still be checked.
    report = models.ForeignKey(
        "eligibility.VerificationReport",
        verbose_name=_("report"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("provincial check")
        verbose_name_plural = _("provincial checks")

    def __str__(self) -> str:
        return self.request_id
