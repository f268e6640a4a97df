"""Plain-data households for the rules and facts tests: no database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from eligibility.facts import HouseholdFacts, MemberInput, RecordRow, compute_facts
from eligibility.pool.categories import CATEGORIES
from eligibility.rules import DEMO_PARAMS

AS_OF = dt.date(2026, 11, 30)
STANDARDS: dict[str, dict[str, Any]] = {k: dict(v) for k, v in DEMO_PARAMS.items()}


def years_ago(years: int, days: int = 10) -> dt.date:
    return AS_OF.replace(year=AS_OF.year - years) - dt.timedelta(days=days)


def days_ago(days: int) -> dt.date:
    return AS_OF - dt.timedelta(days=days)


@dataclass
class Person:
    age: int
    relation: str = "self"
    role: str = "member"
    sex: str = "M"
    records: list[tuple[str, dt.date, dict[str, Any], str]] = field(default_factory=list)
    hukou: bool = True

    def add(self, category: str, when: dt.date, source_id: str = "", **data: Any) -> Person:
        """Add a record; records with the same `source_id` are versions of one source record."""
        self.records.append((category, when, data, source_id))
        return self


def wage_months(p: Person, monthly: str, months: int = 12) -> Person:
    for n in range(months):
        p.add("wage", days_ago(15 + 30 * n), amount=monthly)
    return p


def build(*people: Person, as_of: dt.date = AS_OF) -> HouseholdFacts:
    members: list[MemberInput] = []
    records: dict[str, list[RecordRow]] = {}
    seq = 0
    for n, p in enumerate(people, start=1):
        key = f"m{n}"
        role = "applicant" if n == 1 and p.role == "member" else p.role
        members.append(MemberInput(key, f"hash{n}", role, p.relation, years_ago(p.age), p.sex, f"成员{n}"))
        rows = records.setdefault(f"hash{n}", [])
        if p.hukou and p.role != "supporter":
            rows.append(
                RecordRow(
                    "hukou",
                    "public_security",
                    f"H{n}",
                    dt.date(2000, 1, 1),
                    {"household_number": "HH1", "relation": p.relation, "status": "正常"},
                )
            )
        for category, when, data, source_id in p.records:
            seq += 1
            rows.append(
                RecordRow(category, CATEGORIES[category].department, source_id or f"R{seq}", when, data)
            )
    return compute_facts(members, records, as_of=as_of)


def unemployed(p: Person) -> Person:
    return p.add("unemployment", days_ago(200), status="登记中")


def elderly(age: int = 70) -> Person:
    return Person(age)


def poor_couple() -> tuple[Person, Person]:
    """Two unemployed adults with no income and no assets: clearly dibao."""
    return unemployed(Person(45)), unemployed(Person(43, "spouse", sex="F"))


def asked(*items: str) -> Iterable[str]:
    return items
