"""Social-worker training: sessions, trainees, attendance by a rotating code, certificates.

"Social workers trained" counts distinct trainees (one person, however many sessions), while
person-hours add every attendance's hours; the county's 402 is the first kind of figure.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from assist_center.pii import EncryptedTextField

from .funds import new_public_id


def new_code_secret() -> str:
    return secrets.token_hex(20)


class TrainingSession(models.Model):
    """One training session; the trainer shows a code that changes every few minutes."""

    public_id = models.CharField(
        _("public id"), max_length=24, unique=True, default=new_public_id, editable=False
    )
    title = models.CharField(_("title"), max_length=120)
    # The organiser: an organisation, or the centre itself when empty.
    organisation = models.ForeignKey(
        "charity.Organisation",
        verbose_name=_("organiser"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="training_sessions",
    )
    trainer = models.CharField(_("trainer"), max_length=60)
    township = models.ForeignKey(
        "assist_center.Region",
        verbose_name=_("township"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    location = models.CharField(_("location"), max_length=120, blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    hours = models.DecimalField(_("hours"), max_digits=4, decimal_places=1)
    # The key of the rotating attendance code (charity.training_codes); never shown or logged.
    code_secret = models.CharField(max_length=64, default=new_code_secret, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("training session")
        verbose_name_plural = _("training sessions")
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="training_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(hours__gt=0) & Q(hours__lte=24), name="training_hours_in_range"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Trainee(models.Model):
    """A social worker, one row per person: known by the blind index of their mobile number."""

    name = models.CharField(_("name"), max_length=50)
    phone = EncryptedTextField(_("mobile"))
    phone_hash = models.CharField(max_length=64, unique=True, editable=False)
    organisation = models.ForeignKey(
        "charity.Organisation",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="trainees",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("trainee")
        verbose_name_plural = _("trainees")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Attendance(models.Model):
    """A trainee's attendance of a session, with the hours it counts for."""

    class Method(models.TextChoices):
        CODE = "code", _("Attendance code")
        MANUAL = "manual", _("Recorded by staff")

    session = models.ForeignKey(
        TrainingSession,
        verbose_name=pgettext_lazy("training", "session"),
        on_delete=models.PROTECT,
        related_name="attendances",
    )
    trainee = models.ForeignKey(
        Trainee, verbose_name=_("trainee"), on_delete=models.PROTECT, related_name="attendances"
    )
    hours = models.DecimalField(_("hours"), max_digits=4, decimal_places=1)
    method = models.CharField(_("method"), max_length=8, choices=Method.choices)
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    certificate_number = models.CharField(_("certificate number"), max_length=32, unique=True)

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendances")
        ordering = ["-recorded_at"]
        constraints = [
            models.UniqueConstraint(fields=["session", "trainee"], name="attendance_once_per_session"),
            models.CheckConstraint(condition=Q(hours__gt=0), name="attendance_hours_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.trainee} @ {self.session}"
