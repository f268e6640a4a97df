"""factory-boy factories; Faker speaks zh_CN so names look like the county's residents."""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory

from applications.models import Household, Person
from assist_center.identity import make_id_number
from assist_center.models import Department, Region, Role, StaffProfile
from assist_center.pii import id_number_index, phone_index
from charity.models import Organisation

factory.Faker._DEFAULT_LOCALE = "zh_CN"

COUNTY_CODE = "331099000000"


class RegionFactory(DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = COUNTY_CODE
    name = "测试县"
    level = Region.Level.COUNTY
    kind = Region.Kind.COUNTY
    parent = None
    township = None


def county() -> Region:
    return RegionFactory()


def township(n: int, name: str | None = None) -> Region:
    c = county()
    return RegionFactory(
        code=f"331099{100 + n:03d}000",
        name=name or f"第{n}镇",
        level=Region.Level.TOWNSHIP,
        kind=Region.Kind.TOWN,
        parent=c,
    )


def village(town: Region, n: int, name: str | None = None) -> Region:
    return RegionFactory(
        code=f"{town.code[:9]}{200 + n:03d}",
        name=name or f"{town.name}{n}村",
        level=Region.Level.VILLAGE,
        kind=Region.Kind.VILLAGE,
        parent=town,
        township=town,
    )


class DepartmentFactory(DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"dept{n}")
    name = factory.LazyAttribute(lambda o: f"{o.code}局")
    short_name = factory.LazyAttribute(lambda o: o.code)
    takes_referrals = True


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("name")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery-9")


def staff_user(username: str, role: Role, **scope: Any) -> Any:
    user = UserFactory(username=username, is_staff=role != Role.ORGANISATION)
    StaffProfile.objects.update_or_create(user=user, defaults={"role": role, **scope})
    return user


_seq = iter(range(1, 10**9))


def person(
    household: Household,
    *,
    name: str | None = None,
    birth: dt.date = dt.date(1970, 5, 1),
    relation: str = Person.Relation.HEAD,
    phone: str = "",
) -> Person:
    number = make_id_number(region6="331099", birth=birth, seq=next(_seq) % 1000)
    while Person.objects.filter(id_number_hash=id_number_index(number)).exists():
        number = make_id_number(region6="331099", birth=birth, seq=next(_seq) % 1000)
    return Person.objects.create(
        household=household,
        name=name or factory.Faker("name").evaluate(None, None, {"locale": "zh_CN"}),
        id_number=number,
        id_number_hash=id_number_index(number),
        sex="M" if int(number[16]) % 2 else "F",
        birth_date=birth,
        phone=phone,
        phone_hash=phone_index(phone) if phone else "",
        relation=relation,
    )


def household(village_region: Region, *, address: str = "幸福路1号", members: int = 1) -> Household:
    assert village_region.township is not None
    h = Household.objects.create(village=village_region, township=village_region.township, address=address)
    for i in range(members):
        person(h, relation=Person.Relation.HEAD if i == 0 else Person.Relation.CHILD)
    return h


class OrganisationFactory(DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"公益组织{n}")
    kind = Organisation.Kind.NGO
