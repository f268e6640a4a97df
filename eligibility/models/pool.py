"""The data pool: departments' records keyed by the blind index of a person's ID number."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import HashIndex
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ImportJob(models.Model):
    """One import of a departmental file; its counts and timing are what the admin shows."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", pgettext_lazy("import", "Failed")

    category = models.CharField(_("record category"), max_length=48)
    file_name = models.CharField(_("file name"), max_length=200)
    # The uploaded file, kept until the job ends so any worker host can read it (no local paths).
    upload = models.BinaryField(_("uploaded file"), null=True, blank=True, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("run by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    total_bytes = models.BigIntegerField(_("file size"), default=0)
    bytes_done = models.BigIntegerField(_("bytes processed"), default=0)
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    rows_inserted = models.PositiveIntegerField(_("rows inserted"), default=0)
    rows_updated = models.PositiveIntegerField(_("rows updated"), default=0)
    rows_unchanged = models.PositiveIntegerField(_("rows unchanged"), default=0)
    rows_rejected = models.PositiveIntegerField(_("rows rejected"), default=0)
    # CSV of "line,reason" for every rejected row, downloadable from the admin.
    error_report = models.TextField(_("error report"), blank=True)
    failure = models.TextField(_("failure"), blank=True)

    class Meta:
        verbose_name = _("pool import")
        verbose_name_plural = _("pool imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        from ..pool.categories import CATEGORIES

        spec = CATEGORIES.get(self.category)
        return f"{spec.name if spec else self.category} {self.file_name}"


class PoolRecord(models.Model):
    """One source record. Raw rows skip history (stack.md): ImportJob and monitoring track changes."""

    # Keys compare bytewise ("C"): they are codes and hex digests, and the database's default
    # locale collation makes every index comparison a strcoll call (issue 4's import target).
    category = models.CharField(_("record category"), max_length=48, db_collation="C")
    department = models.CharField(_("source department"), max_length=32)
    source_record_id = models.CharField(_("source record id"), max_length=64, db_collation="C")
    person_hash = models.CharField(_("person index"), max_length=64, db_collation="C")
    effective_date = models.DateField(_("effective date"))
    data = models.JSONField(_("data"), default=dict)
    # md5 of the canonical data: an unchanged re-import is detected without comparing JSON.
    content_hash = models.CharField(_("content hash"), max_length=32)
    # The job that last inserted or changed the row: monitoring reads "rows of job N" through
    # pool_job_idx, so the FK's own index (a second copy of it) is not created.
    job = models.ForeignKey(
        ImportJob,
        verbose_name=_("last import"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("pool record")
        verbose_name_plural = _("pool records")
        constraints = [
            models.UniqueConstraint(fields=["category", "source_record_id"], name="pool_record_source_once"),
        ]
        indexes = [
            # A hash index: lookups are always person_hash = ANY(...) (records_for_persons), and
            # its 4-byte entries cost a bulk import about half of a btree on 64-character keys
            # inserted in random order (measured: 1M rows 4.4-4.9 s against 7.1-10.9 s).
            HashIndex(fields=["person_hash"], name="pool_person_hash_idx"),
            models.Index(fields=["job"], name="pool_job_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.category}:{self.source_record_id}"
