"""Demo data for the data pool and the standards: the `pool` stage of `manage.py seed_demo`.

Each demo household gets a profile, drawn from its id so a rerun draws the same: some clearly
qualify (no income, no assets), some clearly do not (wages, a car, a business), some sit between
(low-income edge, heavy medical spending), and some have missing or conflicting data that a
person must look at. Rows go in with one COPY per batch: 10,000 households take seconds.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from applications.models import Person
from assist_center.identity import age_on
from assist_center.models import Region
from eligibility.models import PoolRecord, Standard
from eligibility.pool.categories import CATEGORIES
from eligibility.rules import DEMO_PARAMS, ITEMS
from eligibility.standards import standard_publish

BATCH_HOUSEHOLDS = 2000
DEFAULT_SEED = 331022
# The share of households on the civil-affairs list of existing 低保 recipients.
EXISTING_SHARE = 0.2
PROFILES = (
    ("qualifies", 34),
    ("not_eligible", 30),
    ("edge", 10),
    ("medical", 6),
    ("missing", 12),
    ("conflict", 8),
)
FIRST_STANDARD_DAY = dt.date(2026, 1, 1)
NEXT_STANDARD_DAY = dt.date(2027, 1, 1)


@dataclass(frozen=True)
class DemoMember:
    person_id: int
    person_hash: str
    birth_date: dt.date
    relation: str
    sex: str


@dataclass
class DemoHousehold:
    household_id: int
    enrolled: bool
    members: list[DemoMember] = field(default_factory=list)


@dataclass
class SeedPoolResult:
    households: int = 0
    records: int = 0
    standards: int = 0
    profiles: dict[str, int] = field(default_factory=dict)


def content_hash(data: dict[str, Any]) -> str:
    """md5 of the canonical JSON of a record's data (what PoolRecord.content_hash holds)."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


class _Rows:
    """Pool rows of one batch, written as CSV for COPY."""

    def __init__(self, today: dt.date) -> None:
        self.today = today
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer)
        self.count = 0
        self.now = timezone.now().isoformat()

    def add(self, member: DemoMember, category: str, n: int, days_ago: int, **data: Any) -> None:
        spec = CATEGORIES[category]
        when = self.today - dt.timedelta(days=days_ago)
        self.writer.writerow(
            [
                category,
                spec.department,
                f"DEMO-{category}-{member.person_id}-{n}",
                member.person_hash,
                when.isoformat(),
                json.dumps(data, ensure_ascii=False),
                content_hash(data),
                self.now,
            ]
        )
        self.count += 1


def _profile(rng: random.Random) -> str:
    names, weights = zip(*PROFILES, strict=True)
    return rng.choices(names, weights=weights)[0]


def _wages(rows: _Rows, m: DemoMember, monthly: int, months: int = 12) -> None:
    for n in range(months):
        rows.add(m, "wage", n, 20 + 30 * n, amount=f"{monthly}.00", employer="台州某制造有限公司")
    rows.add(m, "social_insurance", 0, 400, contribution_base=f"{monthly}.00", status="正常缴费")


def _poor_member(rows: _Rows, m: DemoMember, age: int, rng: random.Random) -> None:
    if 18 <= age < 60:
        rows.add(m, "unemployment", 0, rng.randint(30, 300), status="登记中", benefit_monthly="")
        if rng.random() < 0.6:
            rows.add(m, "pension_insurance", 0, 700, contribution_grade="200", status="参保缴费")
    elif age >= 60 and rng.random() < 0.8:
        rows.add(
            m,
            "pension",
            0,
            900,
            monthly_amount=str(rng.choice([190, 230, 310])),
            scheme="城乡居民",
            status="领取中",
        )
    elif age < 18 and age >= 6:
        stage = "小学" if age < 12 else ("初中" if age < 15 else "高中")
        rows.add(m, "student", 0, 80, school="县第一学校", stage=stage, status="在读")
    if rng.random() < 0.5:
        rows.add(m, "deposit", 0, 40, balance=f"{rng.randint(0, 8000)}.00", bank="农商银行")
    if rng.random() < 0.12:
        rows.add(
            m,
            "disability",
            0,
            500,
            grade=rng.choice([1, 2, 3, 4]),
            kind=rng.choice(["肢体", "视力", "智力"]),
            status="有效",
        )


def household_rows(rows: _Rows, h: DemoHousehold, profile: str, rng: random.Random) -> None:
    today = rows.today
    head = h.members[0]
    # The 户籍 records are already in the pool: the county stage registered the households with them.
    rows.add(head, "electricity", 0, 30, monthly_kwh=str(rng.randint(40, 260)), account_holder=True)
    if h.enrolled:
        rows.add(head, "existing_recipient", 0, 600, item="dibao", monthly_amount="1150", status="在册")
    for m in h.members:
        age = age_on(m.birth_date, today)
        if profile in ("qualifies", "medical", "conflict"):
            _poor_member(rows, m, age, rng)
        elif profile == "not_eligible" and 18 <= age < 60:
            _wages(rows, m, rng.choice([5200, 6800, 8500]))
        elif profile == "edge" and 18 <= age < 60:
            # About 1.2x the dibao standard per person.
            _wages(rows, m, int(1150 * 1.2 * len(h.members) / max(1, _adults(h, today))))
        elif profile == "missing" and 18 <= age < 60 and m is not head:
            pass  # a working-age member the pool knows nothing about: needs a person
        elif 18 <= age < 60:
            _poor_member(rows, m, age, rng)
        elif age >= 60:
            rows.add(m, "pension", 0, 900, monthly_amount="230", scheme="城乡居民", status="领取中")
    if profile == "not_eligible":
        choice = rng.random()
        if choice < 0.4:
            rows.add(
                head,
                "vehicle",
                0,
                300,
                plate_kind="小型汽车",
                vehicle_type="小型轿车",
                purchase_price="98000",
                status="正常",
            )
        elif choice < 0.7:
            rows.add(
                head,
                "business_licence",
                0,
                700,
                business_kind="个体工商户",
                registered_capital="50000",
                status="存续",
            )
        else:
            rows.add(head, "deposit", 1, 20, balance="180000.00", bank="工商银行")
        rows.add(head, "real_estate", 0, 2000, property_kind="住宅", area="120", share="1", status="正常")
    if profile == "qualifies" and rng.random() < 0.2:
        rows.add(head, "vehicle", 1, 300, plate_kind="摩托车", vehicle_type="二轮摩托车", status="正常")
    if profile == "medical":
        for n in range(3):
            rows.add(
                head,
                "medical_expense",
                n,
                30 + 60 * n,
                total_cost="36000",
                reimbursed="18000",
                out_of_pocket="18000",
                hospital="台州医院",
            )
        rows.add(head, "serious_illness", 0, 200, disease="恶性肿瘤", status="治疗中")
    if profile == "conflict":
        victim = h.members[-1]
        if rng.random() < 0.5:
            rows.add(
                victim, "death", 0, 200, death_date=(today - dt.timedelta(days=200)).isoformat(), cause="疾病"
            )
            rows.add(
                victim, "death", 1, 90, death_date=(today - dt.timedelta(days=90)).isoformat(), cause="疾病"
            )
        else:
            rows.add(head, "social_insurance", 9, 10, contribution_base="4200.00", status="正常缴费")
    if rng.random() < 0.03:
        rows.add(
            head,
            "disaster",
            0,
            rng.randint(5, 120),
            disaster_kind="台风",
            loss="20000",
            house_damage="严重损坏",
        )


def _adults(h: DemoHousehold, today: dt.date) -> int:
    return sum(1 for m in h.members if 18 <= age_on(m.birth_date, today) < 60)


def on_existing_list(household_id: int, *, seed: int = DEFAULT_SEED) -> bool:
    """Whether the civil-affairs list of existing recipients names the household (drawn from its id).

    Not the household's is_enrolled: only the rolls (the `rolls` stage, through the enrolment
    service) set that, from this list and from granted outcomes.
    """
    draw = random.Random(seed * 7919 + household_id)  # noqa: S311 - synthetic data
    return draw.random() < EXISTING_SHARE


def demo_households(
    batch: int = BATCH_HOUSEHOLDS, *, seed: int = DEFAULT_SEED
) -> Iterator[list[DemoHousehold]]:
    current: DemoHousehold | None = None
    out: list[DemoHousehold] = []
    rows = (
        Person.objects.order_by("household_id", "pk")
        .values_list("household_id", "pk", "id_number_hash", "birth_date", "relation", "sex")
        .iterator(chunk_size=10_000)
    )
    for household_id, pk, person_hash, birth, relation, sex in rows:
        if current is None or current.household_id != household_id:
            if current is not None:
                out.append(current)
                if len(out) >= batch:
                    yield out
                    out = []
            current = DemoHousehold(household_id, on_existing_list(household_id, seed=seed))
        current.members.append(DemoMember(pk, person_hash, birth, relation, sex))
    if current is not None:
        out.append(current)
    if out:
        yield out


def _copy(rows: _Rows) -> None:
    rows.buffer.seek(0)
    table = PoolRecord._meta.db_table
    with connection.cursor() as cursor:
        cursor.copy_expert(
            f"COPY {table} (category, department, source_record_id, person_hash, effective_date, data, "
            "content_hash, updated_at) FROM STDIN WITH (FORMAT csv)",
            rows.buffer,
        )


def seed_pool_records(
    result: SeedPoolResult, *, seed: int = DEFAULT_SEED, progress: Callable[[int], None] | None = None
) -> None:
    today = timezone.localdate()
    for batch in demo_households(seed=seed):
        rows = _Rows(today)
        for h in batch:
            rng = random.Random(seed * 1_000_003 + h.household_id)  # noqa: S311 - synthetic data
            profile = _profile(rng)
            result.profiles[profile] = result.profiles.get(profile, 0) + 1
            household_rows(rows, h, profile, rng)
        with transaction.atomic():
            _copy(rows)
        result.households += len(batch)
        result.records += rows.count
        if progress is not None:
            progress(len(batch))


def seed_standards(result: SeedPoolResult) -> None:
    """The demo's standards: every item for the county, a township's own dibao, next year's raise."""
    county = Region.objects.filter(level=Region.Level.COUNTY).order_by("code").first()
    if county is None:
        return
    for item in ITEMS:
        if not Standard.objects.filter(item=item, region=county).exists():
            standard_publish(
                actor="seed_pool",
                item=item,
                region=county,
                effective_from=FIRST_STANDARD_DAY,
                params=DEMO_PARAMS[item],
                note="演示标准（非官方数值）",
                today=FIRST_STANDARD_DAY,
            )
            result.standards += 1
    next_year = Standard.objects.filter(item="dibao", region=county, effective_from=NEXT_STANDARD_DAY)
    if not next_year.exists() and timezone.localdate() <= NEXT_STANDARD_DAY:
        standard_publish(
            actor="seed_pool",
            item="dibao",
            region=county,
            effective_from=NEXT_STANDARD_DAY,
            params={
                **DEMO_PARAMS["dibao"],
                "amount_per_person_month": "1210.00",
                "asset_limit_per_person": "36300.00",
            },
            note="演示：次年低保标准上调",
        )
        result.standards += 1
    township = Region.objects.filter(level=Region.Level.TOWNSHIP, parent=county).order_by("code").first()
    if township is not None and not Standard.objects.filter(item="dibao", region=township).exists():
        standard_publish(
            actor="seed_pool",
            item="dibao",
            region=township,
            effective_from=FIRST_STANDARD_DAY,
            params={
                **DEMO_PARAMS["dibao"],
                "amount_per_person_month": "1200.00",
                "asset_limit_per_person": "36000.00",
            },
            note="演示：城区街道低保标准高于全县",
            today=FIRST_STANDARD_DAY,
        )
        result.standards += 1
