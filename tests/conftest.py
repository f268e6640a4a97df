"""Personas covering the scope matrix (house-style.md): every role, and siblings to test scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from assist_center.models import Department, Region, Role

from . import factories as f


@dataclass
class County:
    county: Region
    town_a: Region
    town_b: Region
    village_a1: Region
    village_a2: Region
    village_b1: Region
    dept_civil: Department
    dept_medical: Department


@pytest.fixture
def county_map(db: Any) -> County:
    town_a = f.township(1, "海游街道")
    town_b = f.township(2, "沙柳街道")
    return County(
        county=f.county(),
        town_a=town_a,
        town_b=town_b,
        village_a1=f.village(town_a, 1, "上叶村"),
        village_a2=f.village(town_a, 2, "下叶村"),
        village_b1=f.village(town_b, 1, "沙柳村"),
        dept_civil=f.DepartmentFactory(code="civil_affairs", name="民政局", short_name="民政"),
        dept_medical=f.DepartmentFactory(code="medical_security", name="医疗保障局", short_name="医保"),
    )


@dataclass
class Personas:
    coordinator: Any
    assistant_a: Any
    assistant_b: Any
    cadre_a1: Any
    dept_civil: Any
    dept_medical: Any
    org_member_1: Any
    org_member_2: Any
    auditor: Any
    anonymous: Any

    def all_staff(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k != "anonymous"}


@pytest.fixture
def personas(county_map: County) -> Personas:
    c = county_map
    org1 = f.OrganisationFactory(name="三门县爱心公益协会")
    org2 = f.OrganisationFactory(name="海游商会")
    p = Personas(
        coordinator=f.staff_user("coordinator", Role.COORDINATOR),
        assistant_a=f.staff_user("assistant_a", Role.TOWNSHIP_ASSISTANT, region=c.town_a),
        assistant_b=f.staff_user("assistant_b", Role.TOWNSHIP_ASSISTANT, region=c.town_b),
        cadre_a1=f.staff_user("cadre_a1", Role.VILLAGE_CADRE, region=c.village_a1),
        dept_civil=f.staff_user("dept_civil", Role.DEPARTMENT_STAFF, department=c.dept_civil),
        dept_medical=f.staff_user("dept_medical", Role.DEPARTMENT_STAFF, department=c.dept_medical),
        org_member_1=f.staff_user("org_member_1", Role.ORGANISATION),
        org_member_2=f.staff_user("org_member_2", Role.ORGANISATION),
        auditor=f.staff_user("auditor", Role.AUDITOR),
        anonymous=AnonymousUser(),
    )
    org1.members.add(p.org_member_1)
    org2.members.add(p.org_member_2)
    return p


def client_for(user: Any) -> Client:
    client = Client()
    if user.is_authenticated:
        client.force_login(user)
    return client


@pytest.fixture
def login() -> Any:
    return client_for


@pytest.fixture(autouse=True)
def _fresh_workday_calendar() -> Any:
    """The calendar is cached per process, while each test's database rolls back: forget it."""
    from assist_center import workdays

    workdays._forget()
    yield
    workdays._forget()


@pytest.fixture(autouse=True)
def _clear_sms_outbox() -> None:
    """Like Django's mail.outbox: each test starts with no SMS sent by the test backend."""
    from assist_center.sms import backends

    backends.outbox.clear()


def clear_test_cache() -> None:
    """Forget this worker's cache keys only; `cache.clear()` would FLUSHDB under the other workers."""
    from django.conf import settings
    from django.core.cache import cache

    client = cache._cache.get_client(None, write=True)  # type: ignore[attr-defined]
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Rate-limit counters and stamps live in Redis, beyond the rolled-back test database."""
    clear_test_cache()


def ensure_reference_data() -> None:
    """Put back the rows the data migrations seed (working-day calendar, departments).

    A transactional test ends with a TRUNCATE of every table, so the next one in the same worker
    would find no holidays (deadlines silently weekends-only) and no departments.
    """
    import importlib

    from django.apps import apps

    from assist_center.models import CalendarYear, Department

    if not CalendarYear.objects.exists():
        importlib.import_module("assist_center.migrations.0003_seed_calendar").seed(apps, None)
    if not Department.objects.exists():
        importlib.import_module("assist_center.migrations.0004_departments").create(apps, None)


@pytest.fixture(autouse=True)
def _reference_data(request: pytest.FixtureRequest) -> None:
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction")) or any(
        name in request.fixturenames for name in ("transactional_db", "live_server")
    )
    if transactional:
        request.getfixturevalue("transactional_db")
        ensure_reference_data()
        from assist_center import workdays

        workdays._forget()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every transactional test restores the serialized database, not only the race tests.

    A plain transactional test ends in a flush that fires post_migrate, which writes the content
    types and permissions again; a `serialized_rollback` test after it in the same worker then
    loads its snapshot over them and fails on a duplicate key. With every transactional test
    serialized, no flush fires post_migrate, and the order of tests (xdist's, a file run alone) no
    longer decides whether the race tests can start.
    """
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker and marker.kwargs.get("transaction") and not marker.kwargs.get("serialized_rollback"):
            item.add_marker(
                pytest.mark.django_db(*marker.args, **marker.kwargs, serialized_rollback=True), append=False
            )
