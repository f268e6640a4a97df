from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from assist_center.pii import EncryptedTextField


class Household(models.Model):
    """A registered household (户), placed in one village; the unit that assistance is decided for."""

    village = models.ForeignKey(
        "assist_center.Region", verbose_name=_("village"), on_delete=models.PROTECT, related_name="households"
    )
    # Denormalised from the village: every township-scoped query filters on it.
    township = models.ForeignKey(
        "assist_center.Region", verbose_name=_("township"), on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField(_("address"), max_length=200)
    # 户号 of the 户籍 registry; blank for a household known only from an application.
    household_number = models.CharField(_("household number"), max_length=32, blank=True, db_collation="C")
    is_enrolled = models.BooleanField(_("enrolled in assistance"), default=False, db_index=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["household_number"],
                condition=~models.Q(household_number=""),
                name="household_number_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.village} #{self.pk}"


class Person(models.Model):
    """A resident. The ID number and phone are stored encrypted; `*_hash` are HMAC blind indexes."""

    class Sex(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")

    class Relation(models.TextChoices):
        HEAD = "head", _("Head of household")
        SPOUSE = "spouse", _("Spouse")
        CHILD = "child", _("Child")
        PARENT = "parent", _("Parent")
        GRANDCHILD = "grandchild", _("Grandchild")
        GRANDPARENT = "grandparent", _("Grandparent")
        SIBLING = "sibling", _("Sibling")
        OTHER = "other", _("Other")

    class Source(models.TextChoices):
        REGISTRY = "registry", _("Household registry (户籍)")
        APPLICATION = "application", _("Application (not in the registry)")

    class RegistryStatus(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        MOVED_OUT = "moved_out", _("Moved out of the county")
        DECEASED = "deceased", _("Deceased")

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="members"
    )
    name = models.CharField(_("name"), max_length=64)
    id_number = EncryptedTextField(_("ID number"))
    id_number_hash = models.CharField(_("ID number index"), max_length=64, unique=True)
    document_type = models.CharField(_("document type"), max_length=32, default="citizen")
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"))
    phone = EncryptedTextField(_("phone"), blank=True)
    phone_hash = models.CharField(_("phone index"), max_length=64, blank=True, db_index=True)
    relation = models.CharField(_("relation to head"), max_length=16, choices=Relation.choices)
    source = models.CharField(_("known from"), max_length=16, choices=Source.choices, default=Source.REGISTRY)
    registry_status = models.CharField(
        _("registry status"), max_length=16, choices=RegistryStatus.choices, default=RegistryStatus.REGISTERED
    )
    died_on = models.DateField(_("date of death"), null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["id_number", "phone"])

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        ordering = ["household_id", "id"]

    def __str__(self) -> str:
        return self.name
