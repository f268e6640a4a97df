"""Build the demo county: regions, staff of every role, organisations, households.

The departments are not built here: migration assist_center/0004_departments creates them in every
database, production included, and the demo gives each referral-taking one its staff account.

Idempotent: reference rows are matched by their natural key and saved only when a value differs
(so a second run writes no history rows), and households are only topped up to the target.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import random
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.db import models, reset_queries, transaction
from django.utils import timezone
from faker import Faker

from applications.models import Household, Person
from assist_center.models import Department, Region, Role, StaffProfile
from assist_center.pii import id_number_index, phone_index
from charity.models import Organisation
from eligibility.models import ImportJob
from eligibility.services.imports import pool_import_file

from .organisations import ORGANISATIONS, credit_code
from .people import HouseholdDraft, PeopleGenerator
from .regions import COUNTY_CODE, TOWNSHIPS, villages_of

M = TypeVar("M", bound=models.Model)

# About 2,000 persons per INSERT: large enough to amortise round trips, small enough that one
# batch's transaction and memory stay modest at 100,000 households.
HOUSEHOLD_BATCH = 800
PERSON_BATCH = 2000
VILLAGE_CADRES = 6
# The demo's 户号 and how long ago its households registered; the audit trail's name for the import.
HOUSEHOLD_PREFIX = "DEMO"
HUKOU_DAYS_AGO = 3650
HUKOU_ACTOR = "demo seed"
HUKOU_COLUMNS = (
    "id_number", "record_id", "effective_date", "household_number", "relation", "status",
    "name", "village_code", "address",
)  # fmt: skip


@dataclass
class SeedResult:
    regions_created: int = 0
    users_created: int = 0
    organisations_created: int = 0
    households_created: int = 0
    persons_created: int = 0
    households_total: int = 0
    password_mismatch: bool = False


def upsert(model: type[M], lookup: dict[str, Any], values: dict[str, Any]) -> tuple[M, bool]:
    """Create the row, or update only the fields that differ; return (row, created)."""
    obj = model._default_manager.filter(**lookup).first()
    if obj is None:
        return model._default_manager.create(**lookup, **values), True
    changed = [name for name, value in values.items() if _current(obj, name) != _comparable(value)]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        obj.save(update_fields=changed)
    return obj, False


def _current(obj: models.Model, name: str) -> Any:
    field = obj._meta.get_field(name)
    # Compare foreign keys by id: reading the relation would cost a query per row.
    if isinstance(field, models.ForeignKey):
        return getattr(obj, field.attname)
    return getattr(obj, name)


def _comparable(value: Any) -> Any:
    return value.pk if isinstance(value, models.Model) else value


def seed_regions(result: SeedResult) -> tuple[Region, list[Region], list[Region]]:
    county, created = upsert(
        Region,
        {"code": COUNTY_CODE},
        {
            "name": settings.COUNTY_NAME,
            "level": Region.Level.COUNTY,
            "kind": Region.Kind.COUNTY,
            "parent": None,
            "township": None,
        },
    )
    result.regions_created += created
    townships: list[Region] = []
    villages: list[Region] = []
    for spec in TOWNSHIPS:
        town, created = upsert(
            Region,
            {"code": spec.code},
            {
                "name": spec.name,
                "level": Region.Level.TOWNSHIP,
                "kind": spec.kind,
                "parent": county,
                "township": None,
            },
        )
        result.regions_created += created
        townships.append(town)
        for v in villages_of(spec):
            village, created = upsert(
                Region,
                {"code": v.code},
                {
                    "name": v.name,
                    "level": Region.Level.VILLAGE,
                    "kind": v.kind,
                    "parent": town,
                    "township": town,
                },
            )
            result.regions_created += created
            villages.append(village)
    return county, townships, villages


def existing_departments() -> list[Department]:
    """The departments the migrations created (or the admin has since edited), in display order."""
    return list(Department.objects.order_by("sort_order", "code"))


@dataclass(frozen=True)
class AccountSpec:
    username: str
    role: str
    title: str
    region: Region | None = None
    department: Department | None = None
    superuser: bool = False


def account_specs(
    townships: list[Region], villages: list[Region], departments: list[Department], organisations: int
) -> list[AccountSpec]:
    """Every demo login; demo_banner lists the same usernames."""
    specs = [
        AccountSpec("admin", Role.COORDINATOR, "系统管理员", superuser=True),
        AccountSpec("coordinator", Role.COORDINATOR, "县联合帮扶中心协调员"),
        AccountSpec("auditor", Role.AUDITOR, "审计员"),
    ]
    for n, town in enumerate(townships, start=1):
        specs.append(
            AccountSpec(f"assistant_{n}", Role.TOWNSHIP_ASSISTANT, f"{town.name}民政助理员", region=town)
        )
    # One cadre in the first village (not community) of each of the first few townships.
    cadre_villages: list[Region] = []
    for town in townships:
        first = next(
            (v for v in villages if v.township_id == town.pk and v.kind == Region.Kind.VILLAGE), None
        )
        if first is not None:
            cadre_villages.append(first)
        if len(cadre_villages) == VILLAGE_CADRES:
            break
    for n, village in enumerate(cadre_villages, start=1):
        specs.append(AccountSpec(f"cadre_{n}", Role.VILLAGE_CADRE, f"{village.name}村干部", region=village))
    for dept in departments:
        if dept.takes_referrals:
            specs.append(
                AccountSpec(
                    f"dept_{dept.code}", Role.DEPARTMENT_STAFF, f"{dept.short_name}联络员", department=dept
                )
            )
    for n in range(1, organisations + 1):
        specs.append(AccountSpec(f"org_{n}", Role.ORGANISATION, "公益组织联络人"))
    return specs


def seed_accounts(
    result: SeedResult, specs: list[AccountSpec], password: str, *, reset_passwords: bool
) -> dict[str, Any]:
    User = get_user_model()
    # One hash for all: PBKDF2 costs ~0.3 s per call, 60 accounts would take 20 s. The accounts
    # share one password by design, so a shared salt reveals nothing more.
    hashed = make_password(password)
    names = Faker("zh_CN")
    names.seed_instance(331022)
    users: dict[str, Any] = {}
    for spec in specs:
        user = User._default_manager.filter(username=spec.username).first()
        values = {
            "is_staff": spec.role != Role.ORGANISATION,
            "is_superuser": spec.superuser,
            "is_active": True,
        }
        if user is None:
            user = User._default_manager.create(
                username=spec.username, password=hashed, first_name=names.name(), **values
            )
            result.users_created += 1
        else:
            changed = [k for k, v in values.items() if getattr(user, k) != v]
            if reset_passwords:
                user.password = hashed
                changed.append("password")
            for k in changed:
                if k != "password":
                    setattr(user, k, values[k])
            if changed:
                user.save(update_fields=changed)
        upsert(
            StaffProfile,
            {"user": user},
            {"role": spec.role, "title": spec.title, "region": spec.region, "department": spec.department},
        )
        users[spec.username] = user
    admin = users.get("admin")
    # Checked once (one PBKDF2 call): accounts made under an earlier password keep it.
    result.password_mismatch = admin is not None and not check_password(password, admin.password)
    return users


def seed_organisations(
    result: SeedResult, townships: list[Region], users: dict[str, Any]
) -> list[Organisation]:
    by_name = {t.name: t for t in townships}
    orgs = []
    for n, spec in enumerate(ORGANISATIONS, start=1):
        name = spec.name(settings.COUNTY_NAME)
        code = credit_code(spec.registration, seed=spec.name_template) if spec.registration else ""
        org, created = upsert(
            Organisation,
            {"name": name},
            {
                "kind": spec.kind,
                "credit_code": code,
                "is_vetted": spec.vetted,
                "township": by_name.get(spec.township) if spec.township else None,
            },
        )
        result.organisations_created += created
        member = users.get(f"org_{n}")
        if member is not None:
            org.members.add(member)
        orgs.append(org)
    return orgs


def seed_households(
    result: SeedResult,
    villages: list[Region],
    target: int,
    *,
    seed: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Top households up to `target`; never deletes or changes existing ones."""
    existing = Household.objects.count()
    missing = max(0, target - existing)
    result.households_total = existing
    if missing == 0 or not villages:
        return
    taken: set[str] = set()
    if Person.objects.exists():
        taken.update(Person.objects.values_list("id_number_hash", flat=True).iterator(chunk_size=20_000))

    def claim_id(number: str) -> bool:
        key = id_number_index(number)
        if key in taken:
            return False
        taken.add(key)
        return True

    # A fresh seed per top-up (unless given): a second run must not redraw the first run's people.
    rng_seed = (
        seed
        if seed is not None
        else int(hashlib.sha256(f"{existing}:{timezone.now()}".encode()).hexdigest()[:12], 16)
    )
    rng = random.Random(rng_seed)  # noqa: S311 - synthetic data, not a secret
    fake = Faker("zh_CN")
    fake.seed_instance(rng_seed)
    generator = PeopleGenerator(rng=rng, today=timezone.localdate(), claim_id=claim_id)
    first_number = Household.objects.filter(household_number__startswith=HOUSEHOLD_PREFIX).count()

    done = 0
    while done < missing:
        size = min(HOUSEHOLD_BATCH, missing - done)
        drafts = [generator.household() for _ in range(size)]
        _insert_batch(drafts, villages, rng, fake, result, first_number=first_number + done)
        # seed_demo runs with DEBUG on, where Django keeps every query's SQL: 100,000 households
        # of bulk INSERTs would hold hundreds of megabytes of ciphertext in memory.
        reset_queries()
        done += size
        if progress is not None:
            progress(size)
    result.households_total = existing + done


def _insert_batch(
    drafts: Iterable[HouseholdDraft],
    villages: list[Region],
    rng: random.Random,
    fake: Faker,
    result: SeedResult,
    *,
    first_number: int,
) -> None:
    """One batch of households, registered the production way: a 户籍 file through the pool import.

    The public-security file is what creates a county's persons and households (the registry's
    import handler, applications.services.registry), so the demo writes one such file per batch and
    imports it; each import is one transaction, so an interrupted run keeps whole households.
    """
    drafts = list(drafts)
    since = (timezone.localdate() - dt.timedelta(days=HUKOU_DAYS_AGO)).isoformat()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HUKOU_COLUMNS)
    phones: dict[str, str] = {}
    persons = 0
    for n, draft in enumerate(drafts):
        village = rng.choice(villages)
        address = f"{village.name}{fake.street_name()}{rng.randint(1, 299)}号"
        number = f"{HOUSEHOLD_PREFIX}{first_number + n:07d}"
        for position, m in enumerate(draft.members):
            record = f"DEMO-hukou-{number}-{position}"
            writer.writerow(
                [m.id_number, record, since, number, m.relation, "正常", m.name, village.code, address]
            )
            persons += 1
            if m.phone:
                phones[id_number_index(m.id_number)] = m.phone
    job = _import_hukou(buffer.getvalue())
    if job.rows_rejected or job.error_report:
        raise RuntimeError(f"demo 户籍 import {job.pk} reported rows: {job.error_report[:300]}")
    # Phones are not in the 户籍 file (in production a resident gives one when applying); the demo
    # gives some residents one so that the SMS flows can be tried.
    with transaction.atomic():
        ids = dict(Person.objects.filter(id_number_hash__in=list(phones)).values_list("id_number_hash", "pk"))
        Person.objects.bulk_update(
            [Person(pk=ids[h], phone=p, phone_hash=phone_index(p)) for h, p in phones.items()],
            ["phone", "phone_hash"],
            batch_size=PERSON_BATCH,
        )
    result.households_created += len(drafts)
    result.persons_created += persons


def _import_hukou(text: str) -> ImportJob:
    with tempfile.TemporaryDirectory(prefix="demo-hukou-") as tmp:
        path = Path(tmp) / "hukou.csv"
        path.write_text(text, encoding="utf-8")
        return pool_import_file(actor=HUKOU_ACTOR, category="hukou", path=path)


def build(
    *,
    households: int,
    password: str,
    reset_passwords: bool = False,
    seed: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> SeedResult:
    """Create or complete the demo county; safe to run again."""
    result = SeedResult()
    with transaction.atomic():
        _county, townships, villages = seed_regions(result)
        specs = account_specs(townships, villages, existing_departments(), organisations=len(ORGANISATIONS))
        users = seed_accounts(result, specs, password, reset_passwords=reset_passwords)
        seed_organisations(result, townships, users)
    # Households commit batch by batch, so an interrupted run keeps whole households and resumes.
    seed_households(result, villages, households, seed=seed, progress=progress)
    return result
