from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords


class Role(models.TextChoices):
    COORDINATOR = "coordinator", _("County coordinator")
    TOWNSHIP_ASSISTANT = "township_assistant", _("Township assistant")
    VILLAGE_CADRE = "village_cadre", _("Village cadre")
    DEPARTMENT_STAFF = "department_staff", _("Department staff")
    AUDITOR = "auditor", _("Auditor")
    ORGANISATION = "organisation", _("Organisation member")


class StaffProfile(models.Model):
    """A user's role and the one region or department it is scoped to; see assist_center.scopes."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="profile"
    )
    role = models.CharField(_("role"), max_length=24, choices=Role.choices)
    region = models.ForeignKey(
        "assist_center.Region", verbose_name=_("region"), null=True, blank=True, on_delete=models.PROTECT
    )
    department = models.ForeignKey(
        "assist_center.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    title = models.CharField(pgettext_lazy("job", "title"), max_length=64, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")
        constraints = [
            # Each scoped role names exactly the one thing it is scoped to.
            models.CheckConstraint(
                name="staff_profile_scope_matches_role",
                condition=(
                    models.Q(
                        role__in=["coordinator", "auditor", "organisation"],
                        region__isnull=True,
                        department__isnull=True,
                    )
                    | models.Q(
                        role__in=["township_assistant", "village_cadre"],
                        region__isnull=False,
                        department__isnull=True,
                    )
                    | models.Q(role="department_staff", region__isnull=True, department__isnull=False)
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"
