"""One-thing (一件事) cases: one referral per responsible department, with working-day deadlines."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from assist_center.pii import EncryptedTextField


class Colour(models.TextChoices):
    NONE = "none", _("On time")
    BLUE = "blue", _("Blue: half the time used")
    YELLOW = "yellow", _("Yellow: due today")
    RED = "red", _("Red: overdue")


class Case(models.Model):
    """An approved application handled across departments; closes when every referral is finished."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    application = models.OneToOneField(
        "applications.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="case",
    )
    township = models.ForeignKey(
        "assist_center.Region", verbose_name=_("township"), on_delete=models.PROTECT, related_name="+"
    )
    village = models.ForeignKey(
        "assist_center.Region", verbose_name=_("village"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Working days from the application's submission to closure (the county's figure is 2).
    working_days_to_close = models.PositiveIntegerField(_("working days to close"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return str(self.application)


class Referral(models.Model):
    """The part of a case handed to one department, with its deadline and warning colour."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be accepted")
        ACCEPTED = "accepted", _("Accepted")
        INFO_REQUESTED = "info_requested", _("More information requested")
        RETURNED = "returned", _("Returned to the centre")
        COMPLETED = "completed", _("Completed")
        # Withdrawn by the centre: reassigned to another department, or not needed after a return.
        CANCELLED = "cancelled", _("Cancelled by the centre")

    OPEN_STATUSES = (Status.PENDING, Status.ACCEPTED, Status.INFO_REQUESTED)
    # The clock runs (and colours move) only in these; info_requested is paused.
    CLOCK_STATUSES = (Status.PENDING, Status.ACCEPTED)
    # A case closes when every referral is in one of these.
    FINISHED_STATUSES = (Status.COMPLETED, Status.CANCELLED)

    class ReturnReason(models.TextChoices):
        NOT_OURS = "not_ours", _("Not this department's responsibility")
        MISSING_DOCUMENTS = "missing_documents", _("Documents missing")
        DUPLICATE = "duplicate", _("Duplicate of another referral")
        OTHER = "other", _("Other")

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="referrals")
    # No single-column indexes on department and township: the (department, status) and
    # (township, status) indexes serve those lookups.
    department = models.ForeignKey(
        "assist_center.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="referrals",
        db_index=False,
    )
    # Denormalised from the case for scoped lists and the sweep (no join on the hot path).
    township = models.ForeignKey(
        "assist_center.Region",
        verbose_name=_("township"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    items = ArrayField(
        models.CharField(max_length=32), verbose_name=_("assistance items"), default=list, blank=True
    )
    # What the department needs to know, and only that (security.md): built by the service.
    brief = models.JSONField(_("brief"), default=dict)
    manual = models.BooleanField(_("added by hand"), default=False)
    title = models.CharField(_("title"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    allotted_days = models.PositiveSmallIntegerField(_("working days allotted"))
    start_date = models.DateField(_("start date"))
    due_date = models.DateField(_("due date"))
    provisional = models.BooleanField(_("provisional deadline"), default=False)
    paused_since = models.DateField(_("paused since"), null=True, blank=True)
    paused_days = models.PositiveSmallIntegerField(_("working days paused"), default=0)
    # In no index, so that the sweep's colour change is a HOT update (bench sweep_100k_s): the
    # table keeps free space on each page for it (fillfactor, migration 0004).
    colour = models.CharField(_("warning"), max_length=8, choices=Colour.choices, default=Colour.NONE)
    return_reason = models.CharField(
        _("return reason"), max_length=24, choices=ReturnReason.choices, blank=True
    )
    note = models.TextField(_("note"), blank=True)
    # Unindexed: never searched by, and staff accounts are deactivated, never deleted.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["due_date", "id"]
        indexes = [
            # The sweep reads running referrals by (allotted days, due date): the pairs whose
            # colour changes today (referrals.colours.colour_moves). Neither column changes in a sweep.
            models.Index(
                fields=["allotted_days", "due_date"],
                name="referral_clock_idx",
                condition=models.Q(status__in=["pending", "accepted"]),
            ),
            models.Index(fields=["department", "status"], name="referral_department_status_idx"),
            models.Index(fields=["township", "status"], name="referral_township_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case} → {self.department}"


class ReferralOutcome(models.Model):
    """What a department decided on one item of its referral."""

    class Period(models.TextChoices):
        ONCE = "once", _("One-off")
        MONTHLY = "monthly", _("Monthly")
        YEARLY = "yearly", _("Yearly")

    referral = models.ForeignKey(
        Referral, verbose_name=_("referral"), on_delete=models.PROTECT, related_name="outcomes"
    )
    item = models.CharField(_("assistance item"), max_length=32)
    granted = models.BooleanField(_("granted"))
    benefit_kind = models.CharField(_("benefit"), max_length=100, blank=True)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True)
    period = models.CharField(_("period"), max_length=16, choices=Period.choices, blank=True)
    start_date = models.DateField(_("start date"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    decided_at = models.DateTimeField(_("decided at"), auto_now_add=True)

    class Meta:
        verbose_name = _("referral outcome")
        verbose_name_plural = _("referral outcomes")
        constraints = [
            models.UniqueConstraint(fields=["referral", "item"], name="referral_outcome_once"),
            models.CheckConstraint(
                name="referral_outcome_granted_has_amount_or_refusal_has_reason",
                condition=(
                    models.Q(granted=True, benefit_kind__gt="") | models.Q(granted=False, reason__gt="")
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.referral} {self.item}"


class DeadlineRule(models.Model):
    """Working days a department has for an item (blank item: the department's default)."""

    department = models.ForeignKey(
        "assist_center.Department", verbose_name=_("department"), on_delete=models.PROTECT, related_name="+"
    )
    item = models.CharField(_("assistance item"), max_length=32, blank=True)
    days = models.PositiveSmallIntegerField(_("working days"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("deadline rule")
        verbose_name_plural = _("deadline rules")
        constraints = [models.UniqueConstraint(fields=["department", "item"], name="deadline_rule_once")]

    def __str__(self) -> str:
        return f"{self.department} {self.item or '*'}: {self.days}"


class Notification(models.Model):
    """A colour change told to a department (and red also to the coordinator): each exactly once."""

    class Audience(models.TextChoices):
        DEPARTMENT = "department", _("Department")
        COORDINATOR = "coordinator", _("County coordinator")

    # The unique (referral, colour, audience) index serves lookups by referral. No database
    # constraint: notifications are event rows the sweep writes by the thousand, and a foreign key
    # would lock each referral row once more (KEY SHARE) per notification, a third of the sweep's
    # time (bench sweep_100k_s). The sweep writes them from the rows it has just updated, and a
    # referral is never deleted (PROTECT here and on every other reference), so none can dangle.
    referral = models.ForeignKey(
        Referral,
        verbose_name=_("referral"),
        on_delete=models.PROTECT,
        related_name="notifications",
        db_index=False,
        db_constraint=False,
    )
    audience = models.CharField(_("audience"), max_length=16, choices=Audience.choices)
    # The department told (for audience "department"): the referral's, copied so that a
    # department's unread notifications are one index range. No database constraint, as above;
    # departments are never deleted.
    department = models.ForeignKey(
        "assist_center.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    colour = models.CharField(_("warning"), max_length=8, choices=Colour.choices)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        constraints = [
            # Two sweeps, two beats or a task delivered twice: the second insert is a no-op.
            models.UniqueConstraint(fields=["referral", "colour", "audience"], name="notification_once"),
        ]
        indexes = [
            # The workbench banners: a department's, or the coordinator's, newest unread ones,
            # without reading those already read or anyone else's.
            models.Index(
                fields=["department", "-created_at", "-id"],
                name="notification_unread_dept_idx",
                condition=models.Q(read_at__isnull=True, audience="department"),
            ),
            models.Index(
                fields=["-created_at", "-id"],
                name="notification_unread_coord_idx",
                condition=models.Q(read_at__isnull=True, audience="coordinator"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.referral} {self.colour}"


class ColourSweep(models.Model):
    """A day the colour sweep ran, with the thresholds and the calendar it ran with.

    The next sweep moves only the referrals whose colour differs between the last swept day and
    its own (referrals.colours.colour_moves), so its cost follows the changes; with no earlier day,
    other thresholds or another calendar (assist_center.workdays.calendar_fingerprint), it
    reconciles every running referral once.
    """

    day = models.DateField(_("day"), primary_key=True)
    blue_fraction = models.FloatField(_("blue from this share of the time"))
    yellow_days_left = models.PositiveSmallIntegerField(_("yellow from this many days left"))
    calendar = models.CharField(_("working-day calendar"), max_length=32)
    rule_version = models.PositiveSmallIntegerField(_("colour rule version"), default=1)
    ran_at = models.DateTimeField(_("last run at"))
    changed = models.PositiveIntegerField(_("referrals changed colour"), default=0)

    class Meta:
        verbose_name = _("colour sweep")
        verbose_name_plural = _("colour sweeps")

    def __str__(self) -> str:
        return f"{self.day}: {self.changed}"


class OutsidePolicyNeed(models.Model):
    """A need no assistance item covers, kept for the charity board (公益谷).

    On the case when something was approved; an application refused on every item has no case,
    and its need is kept all the same, on the application (every applicant's need is heard).
    """

    case = models.ForeignKey(
        Case,
        verbose_name=_("case"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="outside_needs",
    )
    application = models.ForeignKey(
        "applications.Application",
        verbose_name=_("application"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    township = models.ForeignKey(
        "assist_center.Region", verbose_name=_("township"), on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("need"))
    publish_consent = models.BooleanField(_("publication consented"))
    share_consent = models.BooleanField(_("sharing consented"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("outside-policy need")
        verbose_name_plural = _("outside-policy needs")

    def __str__(self) -> str:
        return self.text[:30]


class DepartmentContact(models.Model):
    """A phone that receives a department's deadline-warning SMS (a duty phone or a clerk's mobile).

    StaffProfile carries no phone, so the warning SMS goes to the numbers listed here; a department
    without one sees its warnings in the workbench only. None are seeded.
    """

    department = models.ForeignKey(
        "assist_center.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    label = models.CharField(_("label"), max_length=64, blank=True)
    phone = EncryptedTextField(_("phone"))
    phone_hash = models.CharField(_("phone index"), max_length=64, db_index=True)
    active = models.BooleanField(pgettext_lazy("enabled", "active"), default=True)

    class Meta:
        verbose_name = _("department warning contact")
        verbose_name_plural = _("department warning contacts")
        constraints = [
            models.UniqueConstraint(fields=["department", "phone_hash"], name="department_contact_once")
        ]

    def __str__(self) -> str:
        return f"{self.department} {self.label}".strip()


class WorkChannel(models.Model):
    """Where a department's or township's staff notifications go besides the workbench and SMS.

    Today one kind: a 浙政钉 / DingTalk group robot (its webhook and its signing secret, both
    encrypted: whoever holds them can post into the group). Chosen by the coordinator in the admin.
    """

    class Kind(models.TextChoices):
        DINGTALK_ROBOT = "dingtalk_robot", _("浙政钉 / DingTalk group robot")

    department = models.ForeignKey(
        "assist_center.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    township = models.ForeignKey(
        "assist_center.Region",
        verbose_name=_("township"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices, default=Kind.DINGTALK_ROBOT)
    label = models.CharField(_("label"), max_length=64, blank=True)
    webhook_url = EncryptedTextField(_("webhook address"))
    secret = EncryptedTextField(_("signing secret"))
    active = models.BooleanField(pgettext_lazy("enabled", "active"), default=True)

    class Meta:
        verbose_name = _("work notification channel")
        verbose_name_plural = _("work notification channels")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(department__isnull=False, township__isnull=True)
                | models.Q(department__isnull=True, township__isnull=False),
                name="work_channel_one_owner",
            )
        ]

    def __str__(self) -> str:
        return self.label or self.get_kind_display()


class WorkNotice(models.Model):
    """One notice to one channel, once: the idempotency key makes a repeated send a no-op."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", pgettext_lazy("import", "Failed")

    channel = models.ForeignKey(
        WorkChannel, verbose_name=_("channel"), on_delete=models.PROTECT, related_name="notices"
    )
    template = models.CharField(_("template"), max_length=48)
    params = models.JSONField(_("parameters"), default=dict)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # When a pending notice is tried again (the platform's rate limit, a timeout): the retry sweep's.
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("work notice")
        verbose_name_plural = _("work notices")
        indexes = [models.Index(fields=["channel", "sent_at"], name="work_notice_rate_idx")]

    def __str__(self) -> str:
        return self.idempotency_key


class InfoAttachment(models.Model):
    """A file the centre attached to its answer to a department's question (issue 16).

    Stored in the database like the paper authorisation scans (bytes, checked type, SHA-256);
    shown only through the referral's page, so to its department and the centre in scope.
    """

    referral = models.ForeignKey(
        Referral, verbose_name=_("referral"), on_delete=models.PROTECT, related_name="attachments"
    )
    name = models.CharField(_("file name"), max_length=120)
    content_type = models.CharField(pgettext_lazy("file", "content type"), max_length=40, editable=False)
    size = models.PositiveIntegerField(_("size (bytes)"), editable=False)
    sha256 = models.CharField(_("SHA-256"), max_length=64, editable=False)
    data = models.BinaryField(_("file"), editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name
