"""The registry's history: every change the 户籍 and death records made to a person, append-only."""

from __future__ import annotations

from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


class RegistryEvent(models.Model):
    """One change of a person in the registry: registered, moved, relation changed, left, died.

    Never edited or deleted: the household a person lived in on a date is read from these rows.
    """

    class Kind(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        MOVED = "moved", _("Moved to another household")
        RELATION = "relation", _("Relation to the head changed")
        LEFT = "left", _("Left the registry")
        RETURNED = "returned", _("Registered again")
        DIED = "died", _("Died")

    person = models.ForeignKey(
        "applications.Person",
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="registry_events",
    )
    kind = models.CharField(_("change"), max_length=16, choices=Kind.choices)
    from_household = models.ForeignKey(
        "applications.Household",
        verbose_name=_("from household"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    to_household = models.ForeignKey(
        "applications.Household",
        verbose_name=_("to household"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    old = models.JSONField(_("before"), default=dict, encoder=DjangoJSONEncoder)
    new = models.JSONField(_("after"), default=dict, encoder=DjangoJSONEncoder)
    effective_date = models.DateField(_("effective date"))
    # The department's record that carried the change, and the import that brought it.
    source_category = models.CharField(_("record category"), max_length=48)
    source_record_id = models.CharField(_("source record id"), max_length=64)
    import_job_id = models.BigIntegerField(_("import job"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("registry change")
        verbose_name_plural = _("registry changes")
        ordering = ["person_id", "effective_date", "id"]

    def __str__(self) -> str:
        return f"{self.person_id} {self.kind} {self.effective_date}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("Registry events are append-only.")
        super().save(*args, **kwargs)
