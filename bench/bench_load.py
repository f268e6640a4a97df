"""The web side under load (issues 11 and 15), through gunicorn as deployed, on the loopback.

- `board_p99_ms`: the public 公益谷 board, HTML (/charity/ with its filters and pages) and the JSON
  feed (/api/v1/public/charity/needs/), read by 100 concurrent readers for 30 s, each with a think
  time of about a second (a person reading a page); target p99 < 200 ms and no error.
- `submit_p99_ms`: public submissions (POST /api/v1/public/applications/), 20 concurrent clients
  without think time for 60 s; target p99 < 300 ms and no error.
- `submit_throughput_ratio`: those submissions per second over a bare Django view storing the same
  body as one row (bench/bare_view.py), 20 clients for 30 s, served by the same gunicorn in the
  same run just before; target at least 0.5.

The load generator is locust (bench/load_client.py, its own process). Each submission has its own
applicant phone with an SMS code issued beforehand as the OTP service stores it (the resident's
"send code" step is the OTP endpoint's own, limited per phone), its own ID numbers, and its own
client address in X-Forwarded-For from the trusted loopback proxy: residents behind the reverse
proxy, so the per-address ceiling (30 submissions an hour) is the one production applies, not
the whole bench's. Bounded: every run has a fixed number of bodies and seconds. The bench's web
process publishes its outbox tasks to its own broker database (BENCH_BROKER_URL), emptied after;
the board's needs are removed after the run, the submissions stay (docs/performance.md).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from assist_center.identity import make_id_number
from bench import gunicorn
from bench.framework import Result, benchmark

BOARD_USERS, BOARD_SECONDS, BOARD_THINK_S = 100, 30, 1.0
SUBMIT_USERS, SUBMIT_SECONDS, BARE_SECONDS = 20, 60, 30
# The bound on submissions of one run (about 4x what 2 cores take in 60 s).
MAX_SUBMISSIONS = 8000
NEEDS = 240
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/11")
TOWN_CODE, VILLAGE_CODE = "331022999000", "331022999201"

_cache: dict[str, dict[str, Any]] = {}
_issued: list[int] = []


def _regions() -> tuple[Any, Any]:
    from assist_center.models import Region

    county, _ = Region.objects.get_or_create(
        code="331022000000", defaults={"name": "S县", "level": "county", "kind": "county"}
    )
    town, _ = Region.objects.get_or_create(
        code=TOWN_CODE, defaults={"name": "基准镇", "level": "township", "kind": "town", "parent": county}
    )
    village, _ = Region.objects.get_or_create(
        code=VILLAGE_CODE,
        defaults={"name": "基准村", "level": "village", "kind": "village", "parent": town, "township": town},
    )
    return town, village


def _board_needs() -> None:
    """NEEDS published needs of bench households (6 categories, the demo's approved wordings), once."""
    from applications.models import Household, Person
    from assist_center.identity import make_id_number
    from assist_center.pii import id_number_index
    from charity.models import Need
    from demo.charity import PUBLIC_TEXTS

    _remove_board_needs()  # a run stopped half-way
    town, village = _regions()
    households = Household.objects.bulk_create(
        [
            Household(village=village, township=town, address="", household_number=f"BENCHLOAD-{i:05d}")
            for i in range(NEEDS)
        ]
    )
    # One registered person of 60-79 per household: the fewer-than-5 rule counts the registry's
    # households sharing a card's profile, and without them every card would leave the board.
    born = dt.date(1955, 5, 5)
    numbers = [make_id_number(region6="339999", birth=born, seq=i) for i in range(NEEDS)]
    Person.objects.bulk_create(
        [
            Person(
                household=h,
                name="基准居民",
                id_number=numbers[i],
                id_number_hash=id_number_index(numbers[i]),
                sex=Person.Sex.FEMALE,
                birth_date=born,
                relation=Person.Relation.HEAD,
            )
            for i, h in enumerate(households)
        ]
    )
    categories = sorted(PUBLIC_TEXTS)
    now = timezone.now()
    Need.objects.bulk_create(
        [
            Need(
                household=h,
                township=town,
                category=categories[i % len(categories)],
                internal_text="基准需求",
                public_text=PUBLIC_TEXTS[categories[i % len(categories)]][i % 3],
                age_band="60-79",
                size_band="1",
                publish_consent=True,
                status=Need.Status.PUBLISHED,
                visibility=Need.Visibility.FULL,
                public_township=town,
                public_age_band="60-79",
                public_size_band="1",
                estimated_cost=100 + i,
                published_at=now - dt.timedelta(minutes=i),
            )
            for i, h in enumerate(households)
        ]
    )


def _board_plan(base: str) -> dict[str, Any]:
    from demo.charity import PUBLIC_TEXTS

    categories = sorted(PUBLIC_TEXTS)
    board = ["/charity/", "/charity/?page=2", "/charity/?page=3", f"/charity/?township={TOWN_CODE}"]
    board += [f"/charity/?category={c}" for c in categories]
    feed = ["/api/v1/public/charity/needs/", "/api/v1/public/charity/needs/?page=2"]
    feed += [f"/api/v1/public/charity/needs/?category={c}" for c in categories]
    return {
        "scenario": "board",
        "base": base,
        "users": BOARD_USERS,
        "seconds": BOARD_SECONDS,
        "think_s": BOARD_THINK_S,
        "board_paths": board,
        "feed_paths": feed,
    }


def _submission_bodies(count: int) -> list[dict[str, Any]]:
    """`count` bodies like a resident's, each with its own phone, live SMS code, ID numbers, address."""
    from applications.models import OtpChallenge
    from applications.services.otp import OTP_MINUTES, _code_hash
    from assist_center.pii import phone_index

    _regions()
    rng = random.Random()
    phone_base = rng.randrange(10**7)
    day_base = rng.randrange(20_000)
    code = "246810"
    expires = timezone.now() + dt.timedelta(minutes=OTP_MINUTES)
    bodies, challenges = [], []
    for i in range(count):
        e164 = f"+86137{(phone_base + i) % 10**8:08d}"
        challenges.append(
            OtpChallenge(
                phone_hash=phone_index(e164),
                purpose="apply",
                code_hash=_code_hash(e164=e164, purpose="apply", code=code),
                expires_at=expires,
            )
        )

        def person_id(k: int, *, i: int = i) -> str:
            birth = dt.date(1945, 1, 1) + dt.timedelta(days=(day_base + 3 * i + k) % 20_000)
            return make_id_number(region6="339996", birth=birth, seq=(i // 7000 + k * 311) % 1000)

        bodies.append(
            {
                "region_code": TOWN_CODE,
                "village_code": VILLAGE_CODE,
                "address": "基准村幸福路1号",
                "applicant": {"name": "张三", "id_number": person_id(0), "phone": e164[3:]},
                "members": [{"name": "李四", "id_number": person_id(1), "relation": "spouse"}],
                "supporters": [
                    {
                        "name": "张小明",
                        "id_number": person_id(2),
                        "relation": "child",
                        "phone": f"139{(phone_base + i) % 10**8:08d}",
                    }
                ],
                "needs": ["dibao", "medical"],
                "need_note": "",
                "consents": {"data_check": True, "share_with_organisations": False, "publish_need": False},
                "guardian_confirmed": False,
                "otp": code,
                "_address": f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}",
            }
        )
    OtpChallenge.objects.bulk_create(challenges, batch_size=2000)
    _issued.extend(c.pk for c in challenges)
    return bodies


def _forget_unused_codes() -> None:
    """The codes of the bodies the run did not reach: left, they would be live for ten minutes."""
    from applications.models import OtpChallenge

    OtpChallenge.objects.filter(pk__in=_issued, consumed_at__isnull=True).delete()
    _issued.clear()


def _locust(plan: dict[str, Any]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as f:
        json.dump(plan, f, ensure_ascii=False)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
        out = subprocess.run(
            [sys.executable, "-m", "bench.load_client", f.name],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=plan["seconds"] + 120,
            check=True,
        )
    finally:
        Path(f.name).unlink()
    return json.loads(out.stdout.strip().splitlines()[-1])


def _empty_broker() -> None:
    import redis

    redis.Redis.from_url(BROKER_URL).delete("celery")


def _web_env() -> dict[str, str]:
    return gunicorn.web_env(CELERY_BROKER_URL=BROKER_URL)


def _remove_board_needs() -> None:
    """The bench's needs off the board again (a development database's board is the demo's)."""
    from applications.models import Household, Person
    from charity.models import Need

    Need.objects.filter(household__household_number__startswith="BENCHLOAD-").delete()
    Person.objects.filter(household__household_number__startswith="BENCHLOAD-").delete()
    Household.objects.filter(household_number__startswith="BENCHLOAD-").delete()


def _board_run() -> dict[str, Any]:
    if "board" not in _cache:
        _board_needs()
        try:
            with gunicorn.serve(env=_web_env()) as base:
                _cache["board"] = _locust(_board_plan(base))
        finally:
            _empty_broker()
            _remove_board_needs()
    return _cache["board"]


def _submit_run() -> dict[str, Any]:
    if "submit" not in _cache:
        from django.db import connection

        from bench.bare_view import CREATE

        with connection.cursor() as cursor:
            cursor.execute(CREATE)
        bodies = _submission_bodies(MAX_SUBMISSIONS)
        common = {"base": "", "users": SUBMIT_USERS}
        try:
            with gunicorn.serve(env=_web_env()) as base:
                common["base"] = base
                bare = _locust(
                    {**common, "scenario": "bare", "path": "/bench/bare-insert/", "seconds": BARE_SECONDS,
                     "bodies": [dict(b) for b in bodies]}
                )  # fmt: skip
                submit = _locust(
                    {**common, "scenario": "submit", "path": "/api/v1/public/applications/",
                     "seconds": SUBMIT_SECONDS, "bodies": bodies}
                )  # fmt: skip
        finally:
            _empty_broker()
            _forget_unused_codes()
        _cache["submit"] = {"bare": bare, "submit": submit}
        _cache["bare"] = bare
    return _cache["submit"]


def _print(name: str, figures: dict[str, Any]) -> None:
    brief = {k: figures[k] for k in ("requests", "failures", "rps", "p50_ms", "p95_ms", "p99_ms", "max_ms")}
    per_page = {n: (s["p99_ms"], s["avg_bytes"]) for n, s in figures["by_name"].items()}
    print(f"  {name}: {brief} p99 ms and bytes by page {per_page} {figures['failure_reasons'] or ''}")


@benchmark("board_p99_ms")
def board_p99() -> Result:
    figures = _board_run()
    _print("board", figures)
    return Result(
        value=float(figures["p99_ms"]),
        unit="ms",
        baseline=float(figures["rps"]),
        ratio=0.0,
        target=f"p99 < 200 ms, no error ({BOARD_USERS} readers, {BOARD_SECONDS} s; baseline = req/s)",
        ok=figures["p99_ms"] < 200 and figures["failures"] == 0 and figures["requests"] > 0,
    )


@benchmark("submit_p99_ms")
def submit_p99() -> Result:
    figures = _submit_run()["submit"]
    _print("submit", figures)
    return Result(
        value=float(figures["p99_ms"]),
        unit="ms",
        baseline=float(figures["rps"]),
        ratio=0.0,
        target=f"p99 < 300 ms, no error ({SUBMIT_USERS} clients, {SUBMIT_SECONDS} s; baseline = req/s)",
        ok=figures["p99_ms"] < 300 and figures["failures"] == 0 and figures["requests"] > 0,
    )


@benchmark("submit_throughput_ratio")
def submit_throughput_ratio() -> Result:
    run = _submit_run()
    bare, submit = run["bare"], run["submit"]
    _print("bare insert", bare)
    ratio = submit["rps"] / bare["rps"] if bare["rps"] else 0.0
    return Result(
        value=round(ratio, 3),
        unit="x",
        baseline=float(bare["rps"]),
        ratio=round(ratio, 3),
        target=">= 0.5 of the bare insert view's req/s (baseline), same gunicorn, same run",
        ok=ratio >= 0.5 and submit["failures"] == 0 and bare["failures"] == 0,
    )
