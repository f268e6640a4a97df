"""Monitoring warnings and discovery leads for the demo, made the way production makes them.

A few departmental files go through the real import (`pool_import_start` / `pool_import_run`),
then the real monitoring and discovery services run over the jobs, exactly as the task after an
import does: enrolled households of the first demo townships buy a car, start a pension or earn
above the standard (warnings); people outside the rolls get a disability certificate, register as
unemployed or spend heavily on medicine (leads). Record ids are fixed, so a second run imports the
same records again and the services' dedupe keys make no second warning or lead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from applications.models import Household, Person
from assist_center.models import Region, Role, StaffProfile
from eligibility.models import DiscoveryLead, ImportJob, MonitoringWarning
from eligibility.services.discovery import discovery_scan
from eligibility.services.imports import pool_import_run, pool_import_start
from eligibility.services.monitoring import monitoring_after_import

ACTOR = "demo seed"
TOWNSHIPS = 2  # those of assistant_1 and assistant_2, where a new user logs in first
PER_KIND = 2  # households per township and kind of change


class SeedMonitoringError(Exception):
    """The stage needs the county and the pool first."""


@dataclass
class SeedMonitoringResult:
    warnings: int = 0
    leads: int = 0
    townships: tuple[str, ...] = ()


def _day(days_ago: int) -> str:
    return (timezone.localdate() - dt.timedelta(days=days_ago)).isoformat()


# category -> (the fields of one record, whether it is for an enrolled household)
def _vehicle(_n: int) -> dict[str, str]:
    return {"plate_kind": "小型汽车", "vehicle_type": "小型轿车", "status": "正常"}


def _pension(_n: int) -> dict[str, str]:
    return {"monthly_amount": "2600", "scheme": "企业职工", "status": "领取中"}


def _wage(_n: int) -> dict[str, str]:
    return {"amount": "6800"}


def _disability(_n: int) -> dict[str, str]:
    return {"grade": "2", "kind": "肢体", "status": "有效"}


def _unemployment(_n: int) -> dict[str, str]:
    return {"status": "登记中"}


def _medical(_n: int) -> dict[str, str]:
    return {"total_cost": "86000", "reimbursed": "31000", "out_of_pocket": "55000"}


KINDS: list[tuple[str, Callable[[int], dict[str, str]], bool]] = [
    ("vehicle", _vehicle, True),
    ("pension", _pension, True),
    ("wage", _wage, True),
    ("disability", _disability, False),
    ("unemployment", _unemployment, False),
    ("medical_expense", _medical, False),
]


def _townships() -> list[Region]:
    profiles = (
        StaffProfile.objects.filter(role=Role.TOWNSHIP_ASSISTANT, user__username__startswith="assistant_")
        .select_related("region")
        .order_by("user__username")
    )
    found: list[Region] = []
    for profile in profiles:
        if profile.region is not None and profile.region not in found:
            found.append(profile.region)
    return found[:TOWNSHIPS]


def _heads(township: Region, *, enrolled: bool, skip: int, count: int) -> list[Person]:
    households = list(
        Household.objects.filter(township=township, is_enrolled=enrolled).order_by("pk")[skip : skip + count]
    )
    heads = []
    for household in households:
        person = Person.objects.filter(household=household).order_by("pk").first()
        if person is not None:
            heads.append(person)
    return heads


def _csv(fields: list[str], rows: list[list[str]]) -> bytes:
    lines = [",".join(["id_number", "record_id", "effective_date", *fields])]
    lines += [",".join(row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def _import(category: str, rows: list[tuple[Person, str, dict[str, str]]]) -> ImportJob | None:
    if not rows:
        return None
    fields = list(rows[0][2])
    body = [[p.id_number, record_id, _day(6), *(values[k] for k in fields)] for p, record_id, values in rows]
    job = pool_import_start(
        actor=ACTOR, category=category, file_name=f"演示-{category}.csv", data=_csv(fields, body)
    )
    return pool_import_run(job_id=job.pk)


def seed_monitoring() -> SeedMonitoringResult:
    """Import the demo's changes and run monitoring and discovery over them; safe to run again."""
    townships = _townships()
    if not townships:
        raise SeedMonitoringError("演示监测预警未生成：请先运行 county 与 pool 阶段。")
    warnings_before = MonitoringWarning.objects.count()
    leads_before = DiscoveryLead.objects.count()
    for skip, (category, values, enrolled) in enumerate(KINDS):
        rows: list[tuple[Person, str, dict[str, str]]] = []
        for township in townships:
            # Each kind takes its own households, so one household has one change to look at.
            for n, person in enumerate(
                _heads(township, enrolled=enrolled, skip=(skip % 3) * PER_KIND, count=PER_KIND)
            ):
                rows.append((person, f"DEMO-{category}-{township.code}-{n}", values(n)))
        job: Any = _import(category, rows)
        if job is None or job.status != ImportJob.Status.DONE:
            continue
        if enrolled:
            monitoring_after_import(job_id=job.pk)
        else:
            discovery_scan(job_id=job.pk)
    return SeedMonitoringResult(
        warnings=MonitoringWarning.objects.count() - warnings_before,
        leads=DiscoveryLead.objects.count() - leads_before,
        townships=tuple(t.name for t in townships),
    )
