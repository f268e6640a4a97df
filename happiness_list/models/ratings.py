"""Satisfaction ratings (好差评) of closed cases, their 差评 follow-up tasks, disputes and integrity flags.

Ratings, disputes, tasks and flags are evidence for staff evaluation: the database refuses DELETE
on all of them and UPDATE on a rating (migration 0002_ratings_append_only). A dispute is its own
row, reviewed by the coordinator; a task changes only its status fields.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.IntegerChoices):
    """The national 好差评 five levels (国务院办公厅 政务服务“好差评”制度)."""

    VERY_SATISFIED = 5, _("Very satisfied")
    SATISFIED = 4, _("Satisfied")
    FAIRLY_SATISFIED = 3, _("Fairly satisfied")
    DISSATISFIED = 2, _("Dissatisfied")
    VERY_DISSATISFIED = 1, _("Very dissatisfied")


# A rating whose lowest dimension is at or below this opens a 差评 task.
LOW_LEVEL = Level.DISSATISFIED

# The fixed tags a resident may pick, per level of the rating's lowest dimension.
TAGS: dict[int, dict[str, object]] = {
    Level.VERY_SATISFIED: {"done_in_one_visit": _("Done in one visit"), "warm_service": _("Warm service")},
    Level.SATISFIED: {"smooth": _("Went smoothly"), "clear_explanation": _("Clearly explained")},
    Level.FAIRLY_SATISFIED: {"mostly_solved": _("Mostly solved"), "long_wait": _("Long wait")},
    Level.DISSATISFIED: {"slow": _("Slow to handle"), "not_fully_solved": _("Not fully solved")},
    Level.VERY_DISSATISFIED: {
        "passed_around": _("Passed from office to office"),
        "unsolved": _("Not solved"),
    },
}
MAX_TAGS = 2


def tag_label(code: str) -> str:
    for tags in TAGS.values():
        if code in tags:
            return str(tags[code])
    return code


class Rating(models.Model):
    """One resident's rating of a closed case (round 1), or its follow-up after a fix (round 2)."""

    class Round(models.IntegerChoices):
        FIRST = 1, _("First rating")
        FOLLOW_UP = 2, _("Follow-up rating")

    class Subject(models.TextChoices):
        CASE = "case", _("Case")
        CLAIM = "claim", _("Charity claim")

    subject = models.CharField(_("rated"), max_length=8, choices=Subject.choices, default=Subject.CASE)
    case = models.ForeignKey(
        "referrals.Case",
        verbose_name=_("case"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ratings",
    )
    # A completed charity claim (charity.Claim): its foreign key is added once that model exists.
    claim_id = models.BigIntegerField(_("charity claim"), null=True, blank=True)
    round = models.PositiveSmallIntegerField(_("round"), choices=Round.choices, default=Round.FIRST)
    household = models.ForeignKey(
        "applications.Household", verbose_name=_("household"), on_delete=models.PROTECT, related_name="+"
    )
    efficiency = models.PositiveSmallIntegerField(_("efficiency"), choices=Level.choices)
    attitude = models.PositiveSmallIntegerField(_("attitude"), choices=Level.choices)
    quality = models.PositiveSmallIntegerField(_("quality of help"), choices=Level.choices)
    # The lowest of the three: what decides a 差评 and which tags apply.
    lowest = models.PositiveSmallIntegerField(_("lowest level"), choices=Level.choices)
    tags = ArrayField(models.CharField(max_length=32), verbose_name=_("tags"), default=list, blank=True)
    comment = models.TextField(_("comment"), blank=True, max_length=500)
    # Who is rated, fixed when the rating is given (a later transfer does not move it).
    township = models.ForeignKey(
        "assist_center.Region", verbose_name=_("township"), on_delete=models.PROTECT, related_name="+"
    )
    assistant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assistant"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    departments = models.ManyToManyField(
        "assist_center.Department", verbose_name=_("departments"), blank=True, related_name="+"
    )
    organisation = models.ForeignKey(
        "charity.Organisation",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Keyed hash of the network address (never the address itself): for the integrity flags.
    client_hash = models.CharField(_("network address (hashed)"), max_length=64, blank=True, db_index=True)
    # The case's items, kept beside the figures as its mix (a township with hard cases is not
    # punished for them).
    items = ArrayField(
        models.CharField(max_length=32), verbose_name=_("assistance items"), default=list, blank=True
    )
    created_at = models.DateTimeField(_("rated at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "round"], condition=models.Q(case__isnull=False), name="rating_once_per_case"
            ),
            models.UniqueConstraint(
                fields=["claim_id", "round"],
                condition=models.Q(claim_id__isnull=False),
                name="rating_once_per_claim",
            ),
            models.CheckConstraint(
                name="rating_has_its_subject",
                condition=(
                    models.Q(subject="case", case__isnull=False, claim_id__isnull=True)
                    | models.Q(subject="claim", claim_id__isnull=False, case__isnull=True)
                ),
            ),
            models.CheckConstraint(
                name="rating_levels_in_range",
                condition=(
                    models.Q(efficiency__gte=1, efficiency__lte=5)
                    & models.Q(attitude__gte=1, attitude__lte=5)
                    & models.Q(quality__gte=1, quality__lte=5)
                    & models.Q(lowest__gte=1, lowest__lte=5)
                ),
            ),
        ]
        indexes = [
            models.Index(fields=["assistant", "created_at"], name="rating_assistant_idx"),
            models.Index(fields=["township", "created_at"], name="rating_township_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_subject_display()} {self.case_id or self.claim_id} #{self.round}"

    @property
    def is_low(self) -> bool:
        return self.lowest <= LOW_LEVEL

    def tag_labels(self) -> list[str]:
        return [tag_label(t) for t in self.tags]


class LowRatingTask(models.Model):
    """The 差评 task: contact within 1 working day, put right and answer within 15 (Zhejiang's rule)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for contact")
        CONTACTED = "contacted", _("Resident contacted")
        ANSWERED = "answered", _("Put right and answered")
        FOLLOWED_UP = "followed_up", _("Follow-up rating received")

    rating = models.OneToOneField(
        Rating, verbose_name=_("rating"), on_delete=models.PROTECT, related_name="task"
    )
    township = models.ForeignKey(
        "assist_center.Region", verbose_name=_("township"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    contact_due = models.DateField(_("contact due"))
    answer_due = models.DateField(_("answer due"))
    provisional = models.BooleanField(_("provisional deadline"), default=False)
    contacted_at = models.DateTimeField(_("contacted at"), null=True, blank=True)
    contact_note = models.TextField(_("contact note"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answer = models.TextField(_("what was put right"), blank=True)
    follow_up = models.OneToOneField(
        Rating,
        verbose_name=_("follow-up rating"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("opened at"), auto_now_add=True)

    class Meta:
        verbose_name = _("low-rating task")
        verbose_name_plural = _("low-rating tasks")
        ordering = ["answer_due", "id"]
        indexes = [models.Index(fields=["status", "answer_due"], name="lowrating_status_due_idx")]

    def __str__(self) -> str:
        return f"{self.rating}: {self.get_status_display()}"


class RatingDispute(models.Model):
    """Staff contest a rating; the coordinator upholds or rejects it with a reason. Never deleted.

    An upheld dispute leaves the rating in place and out of the averages.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for review")
        UPHELD = "upheld", _("Upheld: left out of the figures")
        REJECTED = "rejected", _("Rejected: the rating stands")

    rating = models.ForeignKey(
        Rating, verbose_name=_("rating"), on_delete=models.PROTECT, related_name="disputes"
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("raised by"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("reason"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    review_reason = models.TextField(_("review reason"), blank=True)
    created_at = models.DateTimeField(_("raised at"), auto_now_add=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("rating dispute")
        verbose_name_plural = _("rating disputes")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["rating"], condition=models.Q(status="open"), name="rating_dispute_one_open"
            ),
            models.CheckConstraint(
                name="rating_dispute_review_has_reason",
                condition=models.Q(status="open") | ~models.Q(review_reason=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rating}: {self.get_status_display()}"


class IntegrityFlag(models.Model):
    """A pattern of ratings worth a look (villages have been found buying “非常满意”)."""

    class Kind(models.TextChoices):
        SAME_ADDRESS = "same_address", _("One network address rated many households")
        BURST = "burst", _("Burst of ratings")
        TOP_RUN = "top_run", _("Unbroken run of top marks")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # What makes a flag once-only: the address hash and window, the township and hour, the run's start.
    key = models.CharField(_("key"), max_length=128)
    rating = models.ForeignKey(
        Rating, verbose_name=_("rating that raised it"), on_delete=models.PROTECT, related_name="+"
    )
    township = models.ForeignKey(
        "assist_center.Region", verbose_name=_("township"), on_delete=models.PROTECT, related_name="+"
    )
    assistant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assistant"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    count = models.PositiveIntegerField(_("ratings"))
    created_at = models.DateTimeField(_("raised at"), auto_now_add=True)

    class Meta:
        verbose_name = _("rating integrity flag")
        verbose_name_plural = _("rating integrity flags")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="integrity_flag_once")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.count})"
