"""The household's 幸福签 card (its rotating list token) and the guardians who may open the list."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from assist_center.pii import EncryptedTextField


class HappinessCard(models.Model):
    """The token printed on a household's 幸福签 QR code; reprinting replaces it (the old one is 404).

    One row per household; the token is a capability like the family token (43 url-safe
    characters), so only its holder reaches the phone check.
    """

    household = models.OneToOneField(
        "applications.Household",
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        related_name="happiness_card",
    )
    token = models.CharField(_("card token"), max_length=43, unique=True, db_collation="C")
    # How many times the card was printed with a new token (1 for the first card).
    version = models.PositiveIntegerField(_("card version"), default=1)
    issued_at = models.DateTimeField(_("issued at"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("幸福签 card")
        verbose_name_plural = _("幸福签 cards")
        ordering = ["household_id"]

    def __str__(self) -> str:
        return f"{self.household_id} v{self.version}"


class Guardian(models.Model):
    """A registered guardian or supporter whose phone may open the household's list for it.

    Recorded by the township assistant for residents without a phone of their own. The phone is
    encrypted; `phone_hash` is its blind index.
    """

    class Relation(models.TextChoices):
        CHILD = "child", _("Child")
        PARENT = "parent", _("Parent")
        SPOUSE = "spouse", _("Spouse")
        SIBLING = "sibling", _("Sibling")
        GUARDIAN = "guardian", _("Legal guardian")
        CADRE = "cadre", _("Village helper (帮扶人)")
        OTHER = "other", _("Other")

    household = models.ForeignKey(
        "applications.Household",
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        related_name="happiness_guardians",
    )
    name = models.CharField(_("name"), max_length=64)
    relation = models.CharField(_("relation"), max_length=16, choices=Relation.choices)
    phone = EncryptedTextField(_("phone"))
    phone_hash = models.CharField(_("phone index"), max_length=64, db_index=True)
    active = models.BooleanField(pgettext_lazy("enabled", "active"), default=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("guardian or supporter")
        verbose_name_plural = _("guardians and supporters")
        ordering = ["household_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "phone_hash"],
                condition=models.Q(active=True),
                name="guardian_phone_once_per_household",
            )
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.get_relation_display()}"
