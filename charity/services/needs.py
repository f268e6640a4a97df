"""Needs: created from cases, monitoring, visits or by hand; published only with consent and a clean text.

What the public sees is an allowlist fixed at publication (charity.selectors.public_need_dict), and
the profile is generalised while fewer than K households share it (security.md, k-anonymity).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404
from django.utils import timezone

from applications.models import ApplicationMember, Household, Person
from assist_center.actors import Actor, account_of
from assist_center.audit import audit_record
from assist_center.errors import ApplicationError, ConflictError, field_error
from assist_center.inputs import clean_text
from assist_center.models import Region, Role
from assist_center.outbox import enqueue
from assist_center.permissions import may_publish_needs
from assist_center.redaction import redact
from assist_center.scopes import is_county_wide, profile_of, role_of
from referrals.models import OutsidePolicyNeed

from ..models import AgeBand, Category, Claim, Need, SizeBand

K_ANONYMITY = 5
BOARD_CACHE_VERSION_KEY = "charity:board:version"

_WIDE_AGE = {
    AgeBand.CHILD: AgeBand.MINOR,
    AgeBand.YOUNG: AgeBand.ADULT,
    AgeBand.MIDDLE: AgeBand.ADULT,
    AgeBand.OLD: AgeBand.SENIOR,
    AgeBand.VERY_OLD: AgeBand.SENIOR,
}
_WIDE_SIZE = {
    SizeBand.ONE: SizeBand.SMALL,
    SizeBand.TWO: SizeBand.SMALL,
    SizeBand.THREE_FOUR: SizeBand.LARGE,
    SizeBand.FIVE_PLUS: SizeBand.LARGE,
}


def age_band_of(birth: dt.date, today: dt.date) -> str:
    age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    if age < 18:
        return AgeBand.CHILD
    if age < 40:
        return AgeBand.YOUNG
    if age < 60:
        return AgeBand.MIDDLE
    if age < 80:
        return AgeBand.OLD
    return AgeBand.VERY_OLD


def size_band_of(size: int) -> str:
    if size <= 1:
        return SizeBand.ONE
    if size == 2:
        return SizeBand.TWO
    if size <= 4:
        return SizeBand.THREE_FOUR
    return SizeBand.FIVE_PLUS


def board_changed() -> None:
    """Invalidate every cached board page and feed response at once (a new cache version)."""
    try:
        cache.incr(BOARD_CACHE_VERSION_KEY)
    except ValueError:
        cache.set(BOARD_CACHE_VERSION_KEY, 1, None)


def board_cache_version() -> int:
    return int(cache.get_or_set(BOARD_CACHE_VERSION_KEY, 1, None) or 1)


def board_changed_on_commit() -> None:
    """Bump the cache version now and again after commit (a reader in between may cache old state)."""
    board_changed()
    transaction.on_commit(board_changed)


# --- creation ------------------------------------------------------------------------------------


def need_create(
    *,
    actor: Actor,
    household_id: int,
    category: str,
    text: str,
    source: str = Need.Source.MANUAL,
    person_id: int | None = None,
    publish_consent: bool = False,
    share_consent: bool = False,
    outside_need_id: int | None = None,
    estimated_cost: Decimal | None = None,
    quantity: str = "",
) -> Need:
    """Record a need (a draft: nothing is public until need_publish)."""
    if not may_publish_needs(actor):
        raise PermissionDenied
    if category not in Category.values:
        raise field_error("category", "请选择需求类别。")
    if source not in Need.Source.values:
        raise field_error("source", "来源不正确。")
    text = clean_text("text", text, required=True, max_length=2000)
    household = Household.objects.filter(pk=household_id).first()
    if household is None or not _household_in_scope(actor, household):
        raise Http404
    members = list(
        Person.objects.filter(household=household, registry_status=Person.RegistryStatus.REGISTERED)
    )
    today = timezone.localdate()
    person = next((p for p in members if p.pk == person_id), None) or next(
        (p for p in members if p.relation == Person.Relation.HEAD), members[0] if members else None
    )
    age_band = age_band_of(person.birth_date, today) if person else AgeBand.MIDDLE
    with transaction.atomic():
        need = Need.objects.create(
            source=source,
            household=household,
            township_id=household.township_id,
            category=category,
            internal_text=text,
            age_band=age_band,
            size_band=size_band_of(max(len(members), 1)),
            publish_consent=publish_consent,
            share_consent=share_consent,
            outside_need_id=outside_need_id,
            estimated_cost=estimated_cost,
            quantity=(quantity or "")[:60],
            created_by=account_of(actor),
        )
        audit_record(actor=actor, action="need.create", subject=need, region=household.township)
    return need


def _household_in_scope(actor: Actor, household: Household) -> bool:
    """The coordinator anywhere; a township assistant only in their own township (as scope_needs)."""
    if is_county_wide(actor):
        return True
    p = profile_of(actor)
    return (
        p is not None
        and role_of(actor) == Role.TOWNSHIP_ASSISTANT
        and p.region_id is not None
        and p.region_id == household.township_id
    )


def need_from_outside_need(*, actor: Actor, outside_need_id: int, category: str) -> Need:
    """A draft need from a case's (or a refused application's) outside-policy need, with its consents."""
    onp = OutsidePolicyNeed.objects.select_related("case", "application").get(pk=outside_need_id)
    application = onp.application or (getattr(onp.case, "application", None) if onp.case_id else None)
    household_id = getattr(application, "household_id", None) or getattr(onp.case, "household_id", None)
    if household_id is None:
        raise ApplicationError("该需求尚未关联户籍家庭，不能发布。")
    return need_create(
        actor=actor,
        household_id=household_id,
        category=category,
        text=onp.text,
        source=Need.Source.CASE,
        publish_consent=onp.publish_consent,
        share_consent=onp.share_consent,
        outside_need_id=onp.pk,
    )


# --- the public-text check and the k-anonymity rule ---------------------------------------------


def _village_names() -> list[str]:
    names = cache.get("charity:village-names")
    if names is None:
        names = []
        towns = list(Region.objects.filter(level=Region.Level.TOWNSHIP).values_list("name", flat=True))
        for name in Region.objects.filter(level=Region.Level.VILLAGE).values_list("name", flat=True):
            names.append(name)
            for suffix in ("社区", "村"):
                stem = name[: -len(suffix)]
                # "上叶" of 上叶村 identifies it too, unless it is also a township's name (沙柳街道).
                if name.endswith(suffix) and len(stem) >= 2 and not any(stem in t for t in towns):
                    names.append(stem)
        cache.set("charity:village-names", names, 300)
    return names


def _member_names(household: Household) -> list[str]:
    names = set(Person.objects.filter(household=household).values_list("name", flat=True))
    names |= set(
        ApplicationMember.objects.filter(application__household=household).values_list("name", flat=True)
    )
    return [n for n in names if n and len(n) >= 2]


def public_text_problems(text: str, household: Household) -> list[str]:
    """Why this text may not be public: ID- or phone-shaped strings, a member's name, a village name."""
    problems: list[str] = []
    if redact(text) != text:
        problems.append("公开描述中含有身份证号或电话号码样式的内容。")
    if any(n in text for n in _member_names(household)):
        problems.append("公开描述中含有家庭成员的姓名。")
    if any(v in text for v in _village_names()):
        problems.append("公开描述中含有本县的村（社区）名称，地点最细只能到乡镇。")
    return problems


# The fewer-than-5 rule counts households of the county's registry, not published needs: the
# card's profile (township × age band × household size) must fit at least K registered households,
# whoever of them has a need (a category is no household's attribute, so it does not narrow the
# count). A household matches an age band when one of its registered members is of that age.

_AGE_LIMITS = {  # band: (lowest age, first age above the band)
    AgeBand.CHILD: (0, 18),
    AgeBand.YOUNG: (18, 40),
    AgeBand.MIDDLE: (40, 60),
    AgeBand.OLD: (60, 80),
    AgeBand.VERY_OLD: (80, 200),
}


@dataclass
class ProfileCounts:
    """Registered households per (township, age band, size band), per widened bands, and county-wide."""

    exact: Counter[tuple[int, str, str]] = field(default_factory=Counter)
    wide: Counter[tuple[int, str, str]] = field(default_factory=Counter)
    county: Counter[tuple[str, str]] = field(default_factory=Counter)


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def profile_counts(today: dt.date | None = None) -> ProfileCounts:
    """Count the county's registered households by profile (two grouped queries, no personal data)."""
    today = today or timezone.localdate()
    registered = Q(members__registry_status=Person.RegistryStatus.REGISTERED)
    band_flags = {
        band: Count(
            "members",
            filter=registered
            & Q(
                members__birth_date__lte=_years_before(today, low),
                members__birth_date__gt=_years_before(today, high),
            ),
        )
        for band, (low, high) in _AGE_LIMITS.items()
    }
    rows = Household.objects.annotate(
        size=Count("members", filter=registered),
        **{f"b{i}": c for i, c in enumerate(band_flags.values())},
    ).values_list("township_id", "size", *[f"b{i}" for i in range(len(band_flags))])
    bands = list(band_flags)
    counts = ProfileCounts()
    for township_id, size, *flags in rows.iterator(chunk_size=2000):
        if not size:  # nobody registered any more (moved out, deceased)
            continue
        size_band = size_band_of(size)
        wide_size = _WIDE_SIZE[SizeBand(size_band)]
        present = [b for b, n in zip(bands, flags, strict=True) if n]
        for band in present:
            counts.exact[(township_id, band, size_band)] += 1
        for wide_age in {_WIDE_AGE[b] for b in present}:
            counts.wide[(township_id, wide_age, wide_size)] += 1
            counts.county[(wide_age, wide_size)] += 1
    return counts


def public_profile(need: Need, counts: ProfileCounts | None = None) -> tuple[str, int | None, str, str]:
    """(visibility, public township id, public age band, public size band) by the fewer-than-5 rule."""
    counts = counts or profile_counts()
    age, size = AgeBand(need.age_band), SizeBand(need.size_band)
    wide_age, wide_size = _WIDE_AGE[age], _WIDE_SIZE[size]
    if counts.exact[(need.township_id, age, size)] >= K_ANONYMITY:
        return Need.Visibility.FULL, need.township_id, need.age_band, need.size_band
    if counts.wide[(need.township_id, wide_age, wide_size)] >= K_ANONYMITY:
        return Need.Visibility.WIDENED, need.township_id, wide_age, wide_size
    if counts.county[(wide_age, wide_size)] >= K_ANONYMITY:
        return Need.Visibility.COUNTY, None, wide_age, wide_size
    return Need.Visibility.VETTED_ONLY, None, wide_age, wide_size


PROFILES_CHECKED_KEY = "charity:profiles:checked"
PROFILES_CHECK_SECONDS = 60


def need_profiles_refresh(*, today: dt.date | None = None) -> int:
    """Re-apply the rule to every public need (the registry moves, people age): the changed count.

    A profile that fewer than 5 households share now is generalised at once (or left to vetted
    organisations); one that enough households share again is shown more precisely.
    """
    counts = profile_counts(today)
    changed = 0
    with transaction.atomic():
        needs = (
            Need.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("township")
            .filter(status__in=[Need.Status.PUBLISHED, Need.Status.CLAIMED, Need.Status.COMPLETED])
            .order_by("pk")
        )
        for need in needs:
            visibility, town_id, age, size = public_profile(need, counts)
            now = (visibility, town_id, age, size)
            was = (need.visibility, need.public_township_id, need.public_age_band, need.public_size_band)
            if now == was:
                continue
            Need.objects.filter(pk=need.pk).update(
                visibility=visibility, public_township_id=town_id, public_age_band=age, public_size_band=size
            )
            audit_record(
                actor=None,
                action="need.reprofile",
                subject=need,
                old={"visibility": was[0]},
                new={"visibility": visibility},
                region=need.township,
            )
            changed += 1
        if changed:
            board_changed_on_commit()
    return changed


PROFILES_TASK = "charity.tasks.need_profiles_refresh"


def need_profiles_check() -> None:
    """Queue the rule's re-application at most once a minute, when a board page or feed is built afresh.

    Queued, not run: the refresh counts the whole registry (about 0.9 s at 10x the county, more at
    a province's size), and a board reader must not wait for it (bench board_p99_ms). The worker
    applies it within seconds; a change moves the board's cache version, so the next page shows it.
    """
    if cache.add(PROFILES_CHECKED_KEY, 1, PROFILES_CHECK_SECONDS):
        enqueue(
            PROFILES_TASK, kwargs={}, dedupe_key=f"need-profiles:{int(time.time()) // PROFILES_CHECK_SECONDS}"
        )


def need_preview(*, need: Need, public_text: str) -> dict[str, object]:
    """Exactly what the board would show, and the problems that block publishing."""
    from ..selectors import public_need_dict

    visibility, town_id, age, size = public_profile(need)
    draft = Need(
        public_id=need.public_id,
        category=need.category,
        public_text=public_text,
        public_township_id=town_id,
        public_age_band=age,
        public_size_band=size,
        visibility=visibility,
        estimated_cost=need.estimated_cost,
        quantity=need.quantity,
        status=Need.Status.PUBLISHED,
        published_at=timezone.now(),
        priority=need.priority,
    )
    return {
        "card": public_need_dict(draft),
        "visibility": visibility,
        "problems": public_text_problems(public_text, need.household),
    }


def _in_scope_or_404(actor: Actor, need_id: int) -> None:
    """A need of another township is a 404 for its assistant (security.md: existence not revealed)."""
    from ..selectors import scope_needs

    if not scope_needs(Need.objects.filter(pk=need_id), actor).exists():
        raise Http404


def need_publish(*, actor: Actor, need_id: int, public_text: str) -> Need:
    """Approve the public wording and publish: consent required, the text checked, the profile fixed.

    Only the centre: a coordinator anywhere, a township assistant in the need's own township.
    """
    if not may_publish_needs(actor):
        raise PermissionDenied
    _in_scope_or_404(actor, need_id)
    public_text = clean_text("public_text", public_text, required=True, max_length=300)
    with transaction.atomic():
        need = Need.objects.select_for_update().select_related("household").get(pk=need_id)
        if not need.publish_consent or need.consent_withdrawn_at is not None:
            raise field_error("public_text", "该家庭未同意公开需求（或已撤回同意），不能发布。")
        if need.status != Need.Status.DRAFT:
            raise ConflictError("该需求已发布或已结束。")
        problems = public_text_problems(public_text, need.household)
        if problems:
            raise ApplicationError(problems[0], {"fields": {"public_text": " ".join(problems)}})
        visibility, town_id, age, size = public_profile(need)
        need.public_text = public_text
        need.visibility = visibility
        need.public_township_id = town_id
        need.public_age_band = age
        need.public_size_band = size
        need.status = Need.Status.PUBLISHED
        need.published_at = timezone.now()
        need.approved_by = account_of(actor)
        need.save(
            update_fields=[
                "public_text",
                "visibility",
                "public_township",
                "public_age_band",
                "public_size_band",
                "status",
                "published_at",
                "approved_by",
            ]
        )
        audit_record(
            actor=actor,
            action="need.publish",
            subject=need,
            new={"visibility": visibility},
            region=need.township,
        )
        board_changed_on_commit()
    return need


def need_withdraw_consent(*, actor: Actor, need_id: int, reason: str = "") -> Need:
    """The household withdrew its publication consent: off the board, the feed and the share page now.

    A claimed need stays with its claimant, who is told (the portal marks the claim).
    """
    if not may_publish_needs(actor):
        raise PermissionDenied
    _in_scope_or_404(actor, need_id)
    with transaction.atomic():
        need = Need.objects.select_for_update().get(pk=need_id)
        if need.consent_withdrawn_at is not None:
            return need
        old = {"status": need.status}
        need.publish_consent = False
        need.consent_withdrawn_at = timezone.now()
        fields = ["publish_consent", "consent_withdrawn_at"]
        open_claim = Claim.objects.filter(need=need, status__in=Claim.OPEN_STATUSES).first()
        if open_claim is not None:
            Claim.objects.filter(pk=open_claim.pk).update(consent_withdrawn_notice=True)
        # Off the public board whatever its state; an open claim stays with its claimant.
        need.status = Need.Status.WITHDRAWN
        fields.append("status")
        need.save(update_fields=fields)
        audit_record(
            actor=actor,
            action="need.consent_withdrawn",
            subject=need,
            old=old,
            new={"status": need.status},
            reason=clean_text("reason", reason, required=False, max_length=500),
            region=need.township,
        )
        board_changed_on_commit()
    return need


def parse_amount(value: str) -> Decimal | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise field_error("estimated_cost", "请填写金额（元），例如 500 或 1200.50。") from None
    if amount < 0 or amount > Decimal("99999999"):
        raise field_error("estimated_cost", "金额超出范围。")
    return amount.quantize(Decimal("0.01"))
