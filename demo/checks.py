"""The demo's omissions and duplicates for the township worklist (issue 12), made the real way.

On the first township's households, through the rolls' and the ledger's own services: in-kind
and backdated monthly enrolments nothing was delivered for (omissions); a second department's
payment of the same item for the same month, one temporary relief paid twice in a month, and an
organisation's school help beside the education assistance just paid (duplicates). Then the
nightly check runs as the beat would run it, and finds them with whatever else the demo holds.
Every write is keyed (source_ref, source_key, the flag's finding key): a rerun adds nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from applications.models import Household
from assist_center.errors import ConflictError
from assist_center.models import Department, Region, Role, StaffProfile
from benefits.models import BenefitEntry, Enrolment
from benefits.services.enrolments import enrolment_start
from benefits.services.ledger import benefit_record
from charity.models import Organisation
from happiness_list.models import ListFlag
from happiness_list.services.flags import check_month_of, flag_check_nightly, flags_raise_for

ACTOR = "demo seed"
PER_KIND = 3


class SeedChecksError(Exception):
    pass


@dataclass
class SeedChecksResult:
    township: str = ""
    planted: Counter[str] = field(default_factory=Counter)
    open_flags: Counter[str] = field(default_factory=Counter)


def _add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def first_township() -> Region | None:
    """The township of assistant_1 (the demo's first township), or None before the county stage."""
    profile = (
        StaffProfile.objects.filter(role=Role.TOWNSHIP_ASSISTANT, user__username__startswith="assistant_")
        .select_related("region")
        .order_by("user_id")
        .first()
    )
    return profile.region if profile is not None else None


# The name demo.happiness imports (kept until it uses the public one above).
_first_township = first_township


def _entry(household_id: int, key: str, **kw: object) -> None:
    benefit_record(actor=ACTOR, household_id=household_id, source_key=key, **kw)  # type: ignore[arg-type]


def seed_checks(*, today: dt.date | None = None) -> SeedChecksResult:
    today = today or timezone.localdate()
    month = check_month_of(today)
    township = first_township()
    departments = list(Department.objects.order_by("code"))
    if township is None or len(departments) < 2:
        raise SeedChecksError("演示遗漏与重复未生成：请先运行 county 阶段。")
    result = SeedChecksResult(township=township.name)
    civil = next((d for d in departments if d.code == "civil_affairs"), departments[0])
    other = next(d for d in departments if d.pk != civil.pk)
    households = list(
        Household.objects.filter(township=township).order_by("pk").values_list("pk", flat=True)[:400]
    )
    paid = list(
        BenefitEntry.objects.filter(
            household_id__in=households, period=month, source=BenefitEntry.Source.ENROLMENT_MONTH
        )
        .exclude(item="")
        .order_by("household_id", "id")
        .values_list("household_id", "item", "amount")
    )
    open_items = set(
        Enrolment.objects.filter(household_id__in=households)
        .exclude(state=Enrolment.State.ENDED)
        .values_list("household_id", "item")
    )
    free = [
        h
        for h in households
        if (h, "utility_relief") not in open_items and (h, "disability_living") not in open_items
    ]
    if (
        len(free) < 4 * PER_KIND
        and not Enrolment.objects.filter(source_ref__startswith="demo-check-").exists()
    ):
        raise SeedChecksError("演示遗漏与重复未生成：第一个乡镇的家庭太少，请先运行 county 阶段。")
    if Enrolment.objects.filter(source_ref__startswith="demo-check-").exists():
        # Planted by an earlier run: only the check runs again (the choice of households below
        # depends on the rolls, which the first run changed).
        free = []
    org = Organisation.objects.filter(vetting=Organisation.Vetting.APPROVED).order_by("pk").first()
    planted: list[int] = []
    with transaction.atomic():
        # Omissions: on the rolls in kind since three months ago, never delivered; on the rolls for
        # a monthly subsidy backdated four months, never paid.
        for i, h in enumerate(free[:PER_KIND]):
            try:
                enrolment_start(
                    actor=ACTOR,
                    household_id=h,
                    item="utility_relief",
                    since=_add_months(month, -3),
                    source=Enrolment.Source.EXISTING_RECIPIENT,
                    source_ref=f"demo-check-inkind-{i}",
                    department_id=civil.pk,
                    kind="电费减免（每月30度）",
                )
            except ConflictError:
                continue
            planted.append(h)
            result.planted["omission"] += 1
        for i, h in enumerate(free[PER_KIND : 2 * PER_KIND]):
            try:
                enrolment_start(
                    actor=ACTOR,
                    household_id=h,
                    item="disability_living",
                    since=_add_months(month, -4),
                    source=Enrolment.Source.EXISTING_RECIPIENT,
                    source_ref=f"demo-check-monthly-{i}",
                    department_id=civil.pk,
                    monthly_amount=Decimal("120.00"),
                )
            except ConflictError:
                continue
            planted.append(h)
            result.planted["omission"] += 1
        # Duplicates: a second department paid the same item for the same month.
        for h, item, amount in paid[:PER_KIND] if free else []:
            _entry(
                h,
                f"file:demo-check:{h}:{item}:{month:%Y-%m}",
                source=BenefitEntry.Source.PAYMENT_FILE,
                period=month,
                item=item,
                provider_code=other.code,
                provider_name=other.name,
                amount=amount if amount is not None else Decimal("100.00"),
                paid_on=month + dt.timedelta(days=14),
            )
            planted.append(h)
            result.planted["duplicate"] += 1
        # One temporary relief paid twice in the same month by the same department.
        for h in free[2 * PER_KIND : 3 * PER_KIND]:
            for suffix, source in (
                ("a", BenefitEntry.Source.REFERRAL_OUTCOME),
                ("b", BenefitEntry.Source.PAYMENT_FILE),
            ):
                _entry(
                    h,
                    f"demo-check-temporary-{suffix}:{h}:{month:%Y-%m}",
                    source=source,
                    period=month,
                    item="temporary",
                    provider_code=civil.code,
                    provider_name=civil.name,
                    amount=Decimal("2000.00"),
                    paid_on=month + dt.timedelta(days=9),
                )
            planted.append(h)
            result.planted["duplicate"] += 1
        # An organisation's school kit the month the education assistance was paid.
        if org is not None:
            for h in free[3 * PER_KIND : 4 * PER_KIND]:
                _entry(
                    h,
                    f"demo-check-education:{h}:{month:%Y-%m}",
                    source=BenefitEntry.Source.REFERRAL_OUTCOME,
                    period=month,
                    item="education",
                    provider_code=civil.code,
                    provider_name=civil.name,
                    amount=Decimal("1500.00"),
                    paid_on=month + dt.timedelta(days=5),
                )
                _entry(
                    h,
                    f"demo-check-charity-education:{h}:{month:%Y-%m}",
                    source=BenefitEntry.Source.CHARITY_COMPLETION,
                    period=month,
                    item="education",
                    provider_code=f"org:{org.pk}",
                    provider_name=org.name,
                    in_kind="学习用品一套、助学金",
                    amount=Decimal("800.00"),
                    paid_on=month + dt.timedelta(days=20),
                )
                planted.append(h)
                result.planted["duplicate"] += 1
    # The night's check, as the beat runs it; on a rerun the same day, the planted households again
    # (the findings' keys make that a no-op for what is already flagged).
    if flag_check_nightly(today=today) is None:
        flags_raise_for(planted, today=today)
    result.open_flags.update(
        ListFlag.objects.filter(status=ListFlag.Status.OPEN).values_list("kind", flat=True)
    )
    return result
