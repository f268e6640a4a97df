"""Synthetic households: plausible family shapes, names, valid ID numbers and mobile numbers.

Pure Python with one seeded random.Random, so the builder can make 100,000 households quickly
and tests can reproduce a run. Nothing here touches the database.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate

from faker.providers.person.zh_CN import Provider as _ZhNames

from assist_center.identity import make_id_number

from .regions import COUNTY_CODE6

# Most residents were born in the county; spouses and incomers come from nearby Zhejiang counties
# (临海, 温岭, 椒江, 黄岩, 路桥, 天台, 仙居, 杭州西湖, 温州鹿城).
_OTHER_REGIONS = ("331082", "331081", "331002", "331003", "331004", "331023", "331024", "330106", "330302")
_SURNAMES = tuple(_ZhNames.last_names.keys())
_SURNAME_CUM_WEIGHTS = tuple(accumulate(_ZhNames.last_names.values()))
_GIVEN_MALE = tuple(_ZhNames.first_names_male)
_GIVEN_FEMALE = tuple(_ZhNames.first_names_female)
_GIVEN_SECOND = "志晓春海文国家明永玉思嘉雨诗子梓一俊宏兴"
# Uyghur names: given name, a middle dot, the father's given name. They exercise the `·` in names.
_UYGHUR_MALE = ("买买提", "艾力", "阿不都拉", "吐尔逊", "依明", "艾克拜尔", "努尔买买提")
_UYGHUR_FEMALE = ("阿依古丽", "古丽娜尔", "热依拉", "迪丽努尔", "帕提古丽", "米热古丽")
# Characters outside the Basic Multilingual Plane, as some real names have (security.md).
_RARE_CHARACTERS = ("𠈌", "𡒄", "𪚥", "𬌗")
_MOBILE_PREFIXES = (
    *(f"13{d}" for d in range(10)),
    *(f"15{d}" for d in (0, 1, 2, 3, 5, 6, 7, 8, 9)),
    *(f"18{d}" for d in range(10)),
    "177",
    "199",
)
# Low-income households skew old and small (design.md: ~2.1 people per household on average).
_SIZE_WEIGHTS = (30, 32, 17, 11, 6, 4)
_HEAD_AGE_BANDS = ((22, 39, 15), (40, 59, 35), (60, 79, 35), (80, 95, 15))


@dataclass
class MemberDraft:
    name: str
    id_number: str
    sex: str
    birth_date: date
    phone: str
    relation: str


@dataclass
class HouseholdDraft:
    members: list[MemberDraft] = field(default_factory=list)


class PeopleGenerator:
    """Draws households. `claim_id` returns False for a number already used (the caller's index)."""

    def __init__(
        self,
        *,
        rng: random.Random,
        today: date,
        claim_id: Callable[[str], bool],
    ) -> None:
        self.rng = rng
        self.today = today
        self.claim_id = claim_id
        self._phones: set[str] = set()

    # Household shape -------------------------------------------------------------------------

    def household(self) -> HouseholdDraft:
        rng = self.rng
        size = rng.choices(range(1, 7), weights=_SIZE_WEIGHTS)[0]
        low, high, _w = rng.choices(_HEAD_AGE_BANDS, weights=[b[2] for b in _HEAD_AGE_BANDS])[0]
        head_sex = "M" if rng.random() < 0.65 else "F"
        head_birth = self._birth_for_age(rng.randint(low, high))
        uyghur = rng.random() < 0.005
        family_name = self._surname()
        draft = HouseholdDraft()
        head = self._member("head", head_sex, head_birth, family_name, uyghur)
        draft.members.append(head)
        male_line = family_name if head_sex == "M" else self._surname()

        if size >= 2 and self._age(head_birth) >= 22 and rng.random() < 0.8:
            birth = self._clamp(head_birth + timedelta(days=rng.randint(-6 * 365, 6 * 365)), adult=True)
            # Children take the father's surname, so a wife heading the household passes on his.
            spouse_surname = self._surname() if head_sex == "M" else male_line
            draft.members.append(self._member("spouse", _other(head_sex), birth, spouse_surname, uyghur))
        if len(draft.members) < size and self._age(head_birth) < 60 and rng.random() < 0.35:
            for sex in rng.sample(["M", "F"], k=rng.randint(1, min(2, size - len(draft.members)))):
                birth = head_birth - timedelta(days=rng.randint(22 * 365, 35 * 365))
                if self._age(birth) <= 100:
                    surname = male_line if sex == "M" and head_sex == "M" else self._surname()
                    draft.members.append(self._member("parent", sex, birth, surname, uyghur))
        while len(draft.members) < size:
            youngest_parent = max(m.birth_date for m in draft.members if m.relation in ("head", "spouse"))
            earliest = youngest_parent + timedelta(days=20 * 365)
            latest = min(youngest_parent + timedelta(days=42 * 365), self.today - timedelta(days=30))
            if earliest > latest:
                break
            relation = "child"
            if self._age(head_birth) >= 62 and rng.random() < 0.3:
                # Older heads often live with a grandchild whose parents work in the city.
                relation = "grandchild"
                earliest = youngest_parent + timedelta(days=40 * 365)
                latest = min(youngest_parent + timedelta(days=70 * 365), self.today - timedelta(days=30))
                if earliest > latest:
                    break
            birth = date.fromordinal(rng.randint(earliest.toordinal(), latest.toordinal()))
            draft.members.append(self._member(relation, rng.choice("MF"), birth, male_line, uyghur))
        return draft

    # Members ---------------------------------------------------------------------------------

    def _member(self, relation: str, sex: str, birth: date, surname: str, uyghur: bool) -> MemberDraft:
        age = self._age(birth)
        phone = ""
        if age >= 18 and self.rng.random() < (0.9 if age < 75 else 0.5):
            phone = self._phone()
        return MemberDraft(
            name=self._name(sex, surname, uyghur),
            id_number=self._id_number(sex, birth),
            sex=sex,
            birth_date=birth,
            phone=phone,
            relation=relation,
        )

    def _name(self, sex: str, surname: str, uyghur: bool) -> str:
        rng = self.rng
        if uyghur:
            own = rng.choice(_UYGHUR_MALE if sex == "M" else _UYGHUR_FEMALE)
            return f"{own}·{rng.choice(_UYGHUR_MALE)}"
        given = rng.choice(_GIVEN_MALE if sex == "M" else _GIVEN_FEMALE)
        if len(given) == 1 and rng.random() < 0.6:
            given = rng.choice(_GIVEN_SECOND) + given
        if rng.random() < 0.003:
            given = given[:1] + rng.choice(_RARE_CHARACTERS)
        return surname + given

    def _surname(self) -> str:
        return self.rng.choices(_SURNAMES, cum_weights=_SURNAME_CUM_WEIGHTS)[0]

    def _id_number(self, sex: str, birth: date) -> str:
        rng = self.rng
        region6 = COUNTY_CODE6 if rng.random() < 0.75 else rng.choice(_OTHER_REGIONS)
        # GB 11643: the sequence's last digit is odd for men, even for women.
        parity = 1 if sex == "M" else 0
        for _attempt in range(50):
            number = make_id_number(region6=region6, birth=birth, seq=rng.randrange(0, 500) * 2 + parity)
            if self.claim_id(number):
                return number
            region6 = rng.choice(_OTHER_REGIONS)
        raise RuntimeError("could not find a free ID number; the birth date's sequence space is exhausted")

    def _phone(self) -> str:
        while True:
            number = f"+86{self.rng.choice(_MOBILE_PREFIXES)}{self.rng.randrange(10**8):08d}"
            if number not in self._phones:
                self._phones.add(number)
                return number

    # Dates -----------------------------------------------------------------------------------

    def _birth_for_age(self, age: int) -> date:
        latest = _years_before(self.today, age)
        earliest = _years_before(self.today, age + 1) + timedelta(days=1)
        return date.fromordinal(self.rng.randint(earliest.toordinal(), latest.toordinal()))

    def _clamp(self, birth: date, *, adult: bool) -> date:
        oldest = _years_before(self.today, 98)
        youngest = _years_before(self.today, 20 if adult else 0)
        return min(max(birth, oldest), youngest)

    def _age(self, birth: date) -> int:
        t = self.today
        return t.year - birth.year - ((t.month, t.day) < (birth.month, birth.day))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a non-leap year
        return day.replace(year=day.year - years, day=28)


def _other(sex: str) -> str:
    return "F" if sex == "M" else "M"
