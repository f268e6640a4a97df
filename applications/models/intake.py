"""An application as the resident declared it: members, supporters, needs, consents, signatures."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from assist_center.models import Region
from assist_center.pii import EncryptedTextField


class NeedItem(models.TextChoices):
    """The 8+X assistance items (domain.md); the codes are part of the public API."""

    DIBAO = "dibao", _("Minimum living allowance (dibao)")
    LOW_INCOME_EDGE = "low_income_edge", _("Low-income edge household")
    EXTREME_POVERTY = "extreme_poverty", _("Support for persons in extreme poverty")
    MEDICAL = "medical", _("Medical assistance")
    EDUCATION = "education", _("Education assistance")
    HOUSING = "housing", _("Housing assistance")
    EMPLOYMENT = "employment", _("Employment assistance")
    TEMPORARY = "temporary", _("Temporary assistance")
    DISASTER = "disaster", _("Disaster victim assistance")
    DISABILITY_LIVING = "disability_living", _("Living allowance for disabled persons in need")
    DISABILITY_CARE = "disability_care", _("Care allowance for severely disabled persons")
    PENSION_PREMIUM = "pension_premium", _("Pension insurance premiums paid on your behalf")
    UTILITY_RELIEF = "utility_relief", _("Electricity and utility bill relief")


class Channel(models.TextChoices):
    SELF = "self", _("Resident, by phone")
    ON_BEHALF = "on_behalf", _("On behalf, by an assistant")


class OtpPurpose(models.TextChoices):
    APPLY = "apply", _("Apply")
    STATUS = "status", _("Check status")
    FAMILY = "family", _("Family authorisation")
    HAPPINESS = "happiness", _("Happiness list")


class Application(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        AWAITING_AUTHORISATION = "awaiting_authorisation", _("Awaiting authorisation")
        AUTHORISED = "authorised", _("Authorised")
        VERIFYING = "verifying", _("Verifying")
        UNDER_REVIEW = "under_review", _("Under review")
        DECIDED = "decided", _("Decided")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        REJECTED = "rejected", _("Rejected")

    OPEN_STATUSES = (
        Status.SUBMITTED,
        Status.AWAITING_AUTHORISATION,
        Status.AUTHORISED,
        Status.VERIFYING,
        Status.UNDER_REVIEW,
    )

    # Random and unguessable (secrets), shown to the resident; never a sequence number.
    receipt_code = models.CharField(_("receipt code"), max_length=16, unique=True)
    # Opens the family signing page; later the household's happiness list (domain.md: 家庭码).
    family_token = models.CharField(_("family token"), max_length=43, unique=True)
    status = models.CharField(
        _("status"), max_length=32, choices=Status.choices, default=Status.SUBMITTED, db_index=True
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.SELF)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The region of the assist code that was scanned (county, township or village).
    code_region = models.ForeignKey(
        "assist_center.Region",
        verbose_name=_("assist code region"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    village = models.ForeignKey(
        "assist_center.Region", verbose_name=_("village"), on_delete=models.PROTECT, related_name="+"
    )
    township = models.ForeignKey(
        "assist_center.Region", verbose_name=_("township"), on_delete=models.PROTECT, related_name="+"
    )
    household = models.ForeignKey(
        "applications.Household",
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications",
    )
    address = models.CharField(_("address"), max_length=200)
    needs = ArrayField(
        models.CharField(max_length=32, choices=NeedItem.choices),
        verbose_name=_("needs"),
        default=list,
        blank=True,
    )
    need_note = models.TextField(_("other needs"), blank=True, max_length=1000)
    consent_data_check = models.BooleanField(_("consents to the data check"))
    consent_share = models.BooleanField(_("consents to sharing with a claiming organisation"))
    consent_publish = models.BooleanField(_("consents to publishing a de-identified need"))
    guardian_confirmed = models.BooleanField(_("guardian consent confirmed for minors"), default=False)
    consent_version = models.CharField(_("consent text version"), max_length=32)
    possible_duplicate = models.BooleanField(_("possible duplicate"), default=False, db_index=True)
    created_at = models.DateTimeField(_("submitted at"), auto_now_add=True, db_index=True)
    authorised_at = models.DateTimeField(_("authorised at"), null=True, blank=True)
    # The archived electronic application form: generated once, never regenerated silently.
    form_pdf = models.BinaryField(_("application form (PDF)"), null=True, blank=True, editable=False)
    form_sha256 = models.CharField(_("application form SHA-256"), max_length=64, blank=True)
    form_generated_at = models.DateTimeField(_("form generated at"), null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["form_pdf"])

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["township", "status"], name="app_township_status_idx")]
        constraints = [
            models.CheckConstraint(
                name="application_requires_data_check_consent", condition=models.Q(consent_data_check=True)
            ),
            models.CheckConstraint(
                name="application_on_behalf_names_assistant",
                condition=models.Q(channel="self") | models.Q(submitted_by__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.receipt_code


class ApplicationMember(models.Model):
    """A person named in an application: the applicant, another household member, or a supporter."""

    class Role(models.TextChoices):
        APPLICANT = "applicant", _("Applicant")
        MEMBER = "member", _("Household member")
        SUPPORTER = "supporter", _("Supporter")

    class Relation(models.TextChoices):
        SELF = "self", _("Self")
        SPOUSE = "spouse", _("Spouse")
        CHILD = "child", _("Child")
        PARENT = "parent", _("Parent")
        GRANDCHILD = "grandchild", _("Grandchild")
        GRANDPARENT = "grandparent", _("Grandparent")
        SIBLING = "sibling", _("Sibling")
        OTHER = "other", _("Other")

    application = models.ForeignKey(
        Application, verbose_name=_("application"), on_delete=models.CASCADE, related_name="members"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    position = models.PositiveSmallIntegerField(_("position"))
    name = models.CharField(_("name"), max_length=64)
    id_number = EncryptedTextField(_("ID number"))
    id_number_hash = models.CharField(_("ID number index"), max_length=64, db_index=True)
    document_type = models.CharField(_("document type"), max_length=32)
    sex = models.CharField(_("sex"), max_length=1)
    birth_date = models.DateField(_("birth date"))
    phone = EncryptedTextField(_("phone"), blank=True)
    phone_hash = models.CharField(_("phone index"), max_length=64, blank=True, db_index=True)
    relation = models.CharField(_("relation"), max_length=16, choices=Relation.choices)
    # Adults (18+) and every supporter authorise the data check; minors do not sign.
    must_authorise = models.BooleanField(_("must authorise"))
    # The registry person this member is, linked on submission by the ID number's blind index
    # (created from the application, source "application", when the registry does not know them).
    person = models.ForeignKey(
        "applications.Person",
        verbose_name=_("registry person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="application_memberships",
    )
    # The registry places this household member in another household than the application's: the
    # assistant checks it; the registry is never changed by a resident's declaration.
    in_other_household = models.BooleanField(_("registered in another household"), default=False)

    class Meta:
        verbose_name = _("application member")
        verbose_name_plural = _("application members")
        ordering = ["application_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["application", "id_number_hash"], name="application_member_once"),
            models.UniqueConstraint(fields=["application", "position"], name="application_member_position"),
        ]

    def __str__(self) -> str:
        return self.name


class Authorisation(models.Model):
    """A member's consent to the data check: a signature on screen, or a scanned paper form."""

    class Method(models.TextChoices):
        SCREEN = "screen", _("Signed on screen")
        PAPER = "paper", _("Signed on paper (scan uploaded)")

    member = models.OneToOneField(
        ApplicationMember, verbose_name=_("member"), on_delete=models.CASCADE, related_name="authorisation"
    )
    method = models.CharField(_("method"), max_length=16, choices=Method.choices)
    # The evidence (stack.md): the image, its SHA-256, time, IP, user agent, consent version.
    image = models.BinaryField(_("signature or scan"), editable=False)
    content_type = models.CharField(pgettext_lazy("file", "content type"), max_length=64)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    signed_at = models.DateTimeField(_("signed at"))
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=400, blank=True)
    consent_version = models.CharField(_("consent text version"), max_length=32)
    otp_verified = models.BooleanField(_("SMS code verified"), default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("authorisation")
        verbose_name_plural = _("authorisations")
        constraints = [
            models.CheckConstraint(
                name="authorisation_paper_names_uploader",
                condition=models.Q(method="screen") | models.Q(uploaded_by__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.get_method_display()}"


class OtpChallenge(models.Model):
    """A 6-digit SMS code, stored hashed (HMAC with the phone and purpose), valid for 10 minutes."""

    phone_hash = models.CharField(_("phone index"), max_length=64)
    purpose = models.CharField(_("purpose"), max_length=16, choices=OtpPurpose.choices)
    code_hash = models.CharField(_("code hash"), max_length=64)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    consumed_at = models.DateTimeField(_("consumed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("SMS verification code")
        verbose_name_plural = _("SMS verification codes")
        indexes = [models.Index(fields=["phone_hash", "purpose", "-created_at"], name="otp_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.purpose} #{self.pk}"


class IdempotencyRecord(models.Model):
    """The first answer to a request with an Idempotency-Key, replayed on a retry."""

    key = models.CharField(_("key"), max_length=128)
    scope = models.CharField(_("scope"), max_length=64)
    request_hash = models.CharField(_("request hash"), max_length=64)
    response_status = models.PositiveSmallIntegerField(_("response status"))
    response_body = models.JSONField(_("response body"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_key_once")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"


class AssistCode(Region):
    """救助码: the printed QR code of a county, township or village region, opening /apply/<code>/."""

    class Meta:
        proxy = True
        verbose_name = _("assist code")
        verbose_name_plural = _("assist codes")
