"""Data-pool rows for the service and admin tests; the applications come from tests.factories."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from applications.models import ApplicationMember
from assist_center.models import Region
from assist_center.pii import id_number_index
from eligibility.models import PoolRecord
from eligibility.pool.categories import CATEGORIES
from eligibility.rules import DEMO_PARAMS, ITEMS
from eligibility.standards import standard_publish

from ..factories import MemberSpec, id_number

_rec = itertools.count(1)


@dataclass
class Member:
    name: str
    birth: dt.date
    relation: str = "self"
    role: str = "member"
    records: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)
    hukou: bool = True

    def add(self, category: str, days_ago: int, **data: Any) -> Member:
        self.records.append((category, days_ago, data))
        return self


def publish_demo_standards(county: Region, *, actor: Any = "test") -> None:
    for item in ITEMS:
        standard_publish(
            actor=actor,
            item=item,
            region=county,
            effective_from=dt.date(2026, 1, 1),
            params=DEMO_PARAMS[item],
            note="",
            today=dt.date(2026, 1, 1),
        )


def in_pool(members: list[Member]) -> list[MemberSpec]:
    """Write the members' records (and a shared hukou) to the data pool; return them as MemberSpecs.

    The ID numbers are drawn here, so the pool rows carry the person hashes the application
    will have once ApplicationFactory submits these people; the first member is the applicant.
    """
    today = timezone.localdate()
    household_number = f"HH{next(_rec)}"
    specs: list[MemberSpec] = []
    rows = []
    for position, m in enumerate(members):
        number = id_number(m.birth)
        role = ApplicationMember.Role.APPLICANT if position == 0 else m.role
        relation = ApplicationMember.Relation.SELF if position == 0 else m.relation
        specs.append(MemberSpec(role=role, relation=relation, name=m.name, birth=m.birth, id_number=number))
        records = list(m.records)
        if m.hukou and m.role != "supporter":
            records.append(
                (
                    "hukou",
                    3000,
                    {"household_number": household_number, "relation": m.relation, "status": "正常"},
                )
            )
        for category, days_ago, data in records:
            rows.append(
                PoolRecord(
                    category=category,
                    department=CATEGORIES[category].department,
                    source_record_id=f"T{next(_rec)}",
                    person_hash=id_number_index(number),
                    effective_date=today - dt.timedelta(days=days_ago),
                    data=data,
                    content_hash=content_hash(data),
                    updated_at=timezone.now(),
                )
            )
    PoolRecord.objects.bulk_create(rows)
    return specs


def content_hash(data: dict[str, Any]) -> str:
    """md5 of the canonical JSON of a record's data, as the pool importer stores it."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def poor_family() -> list[Member]:
    """Two unemployed adults and a pupil, no assets: dibao, and several items unasked."""
    return [
        Member("王秀英", dt.date(1980, 3, 1)).add("unemployment", 100, status="登记中"),
        Member("李建国", dt.date(1978, 7, 15), "spouse").add("unemployment", 100, status="登记中"),
        Member("李小明", dt.date(2015, 5, 1), "child").add("student", 60, stage="小学", status="在读"),
    ]


def rich_family() -> list[Member]:
    head = Member("张富贵", dt.date(1975, 1, 1)).add(
        "vehicle", 100, vehicle_type="小型轿车", plate_kind="小型汽车", status="正常"
    )
    for n in range(12):
        head.add("wage", 15 + 30 * n, amount="9000")
    return [head]
