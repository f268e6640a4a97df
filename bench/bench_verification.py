"""One verification of a 4-person household against every item: issue 4 wants a median under 50 ms.

Measured end to end through the service: the application and member read, the pool records
(one query), the standards in force, facts, rules, the report INSERT and its audit event. The
baseline is the bare SELECT of the same pool rows, so the ratio says what the check costs on top
of reading its data. Everything is made inside one transaction that is rolled back.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from typing import Any

from django.db import connection, transaction

from bench.framework import Result, benchmark

RUNS = 60
TARGET_MS = 50.0


class _Rollback(Exception):
    pass


def _household() -> tuple[int, list[str], Any]:
    """A county, township, village, a coordinator, the demo standards and a 4-person application."""
    import secrets

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from applications.models import Application, ApplicationMember
    from assist_center.identity import make_id_number
    from assist_center.models import Region
    from assist_center.pii import id_number_index
    from demo.pool import content_hash
    from eligibility.models import PoolRecord
    from eligibility.pool.categories import CATEGORIES
    from eligibility.rules import DEMO_PARAMS, ITEMS
    from eligibility.standards import standard_publish

    county = Region.objects.create(code="339998000000", name="基准县", level="county", kind="county")
    town = Region.objects.create(
        code="339998101000", name="基准镇", level="township", kind="town", parent=county
    )
    village = Region.objects.create(
        code="339998101201", name="基准村", level="village", kind="village", parent=town, township=town
    )
    for item in ITEMS:
        standard_publish(
            actor="bench",
            item=item,
            region=county,
            effective_from=dt.date(2020, 1, 1),
            params=DEMO_PARAMS[item],
            note="",
            today=dt.date(2020, 1, 1),
        )
    user = get_user_model().objects.create(username="bench-coordinator", is_staff=True, is_superuser=True)
    app = Application.objects.create(
        receipt_code=secrets.token_hex(5).upper(),
        family_token=secrets.token_urlsafe(32),
        status=Application.Status.UNDER_REVIEW,
        code_region=village,
        village=village,
        township=town,
        address="基准路1号",
        needs=["dibao", "medical"],
        consent_data_check=True,
        consent_share=False,
        consent_publish=False,
        consent_version="bench",
    )
    today = timezone.localdate()
    people = [
        ("self", dt.date(1978, 3, 1)),
        ("spouse", dt.date(1980, 6, 1)),
        ("child", dt.date(2012, 9, 1)),
        ("parent", dt.date(1950, 1, 1)),
    ]
    hashes: list[str] = []
    rows: list[PoolRecord] = []
    n = 0

    def add(person_hash: str, category: str, days: int, **data: Any) -> None:
        nonlocal n
        n += 1
        rows.append(
            PoolRecord(
                category=category,
                department=CATEGORIES[category].department,
                source_record_id=f"BENCH-{n}",
                person_hash=person_hash,
                effective_date=today - dt.timedelta(days=days),
                data=data,
                content_hash=content_hash(data),
                updated_at=timezone.now(),
            )
        )

    for position, (relation, birth) in enumerate(people):
        number = make_id_number(region6="339998", birth=birth, seq=100 + position * 2)
        h = id_number_index(number)
        hashes.append(h)
        ApplicationMember.objects.create(
            application=app,
            role="applicant" if position == 0 else "member",
            position=position,
            name=f"成员{position}",
            id_number=number,
            id_number_hash=h,
            document_type="citizen",
            sex="M",
            birth_date=birth,
            relation=relation,
            must_authorise=True,
        )
        add(h, "hukou", 3000, household_number="HB1", relation=relation, status="正常")
        add(h, "medical_insurance", 400, scheme="城乡居民医保", status="参保")
        add(h, "deposit", 30, balance="3200.00", bank="农商银行")
    head, spouse, child, parent = hashes
    for month in range(12):
        add(head, "wage", 15 + 30 * month, amount="2100.00", employer="某厂")
        add(spouse, "wage", 15 + 30 * month, amount="900.00", employer="某店")
    add(head, "income_tax", 60, income="25200", tax_paid="0")
    add(head, "social_insurance", 60, contribution_base="2100", status="正常缴费")
    add(head, "vehicle", 500, vehicle_type="二轮摩托车", plate_kind="摩托车", status="正常")
    add(head, "real_estate", 3000, property_kind="住宅", area="72", share="1", status="正常")
    add(head, "electricity", 30, monthly_kwh="120", account_holder=True)
    add(child, "student", 80, stage="初中", status="在读", school="县二中")
    add(parent, "pension", 900, monthly_amount="230", scheme="城乡居民", status="领取中")
    add(parent, "medical_expense", 100, total_cost="26000", reimbursed="15000", out_of_pocket="11000")
    add(parent, "disability", 700, grade=2, kind="肢体", status="有效")
    PoolRecord.objects.bulk_create(rows)
    return app.pk, hashes, user


def _median_ms(fn: Any, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


@benchmark("verify_one_median_ms")
def verify_one() -> Result:
    from eligibility.models import VerificationReport
    from eligibility.services.verification import application_verify_run

    measured: dict[str, float] = {}
    try:
        with transaction.atomic():
            application_id, hashes, user = _household()
            table = "eligibility_poolrecord"

            def bare_select() -> None:
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT person_hash, category, department, source_record_id, effective_date, data "  # noqa: S608
                        f"FROM {table} WHERE person_hash = ANY(%s)",
                        [hashes],
                    )
                    cursor.fetchall()

            def verify() -> None:
                application_verify_run(
                    application_id=application_id, trigger=VerificationReport.Trigger.MANUAL, actor=user
                )

            verify()  # warm caches (ContentTypes, translations, prepared plans) outside the timing
            bare_select()
            measured["baseline"] = _median_ms(bare_select, RUNS)
            measured["value"] = _median_ms(verify, RUNS)
            raise _Rollback
    except _Rollback:
        pass
    value, baseline = measured["value"], measured["baseline"]
    ratio = value / baseline if baseline > 0 else float("inf")
    return Result(
        value=round(value, 3),
        unit="ms",
        baseline=round(baseline, 3),
        ratio=round(ratio, 3),
        target=f"median < {TARGET_MS:g} ms",
        ok=value < TARGET_MS,
    )
