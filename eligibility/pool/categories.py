"""The data pool's record categories: what each department sends, in which units, feeding which facts.

A departmental file is CSV (UTF-8 or GB18030) or XLSX with the columns
`id_number, record_id, effective_date` followed by the category's own fields, in any order.
`id_number` never reaches the database: the importer stores its blind index only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FieldKind = Literal["str", "int", "decimal", "date", "bool"]


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: FieldKind
    label: str  # Chinese column meaning, shown in the admin and in error reports
    unit: str = ""  # e.g. "元", "元/月", "平方米"
    required: bool = True


@dataclass(frozen=True)
class Category:
    code: str
    name: str  # Chinese name, e.g. 机动车登记
    department: str  # assist_center Department.code of the source
    fields: tuple[FieldSpec, ...]
    feeds: tuple[str, ...]  # names of household facts computed from it (eligibility.facts)

    def field(self, name: str) -> FieldSpec:
        return next(f for f in self.fields if f.name == name)


COMMON_COLUMNS = ("id_number", "record_id", "effective_date")

CATEGORIES: dict[str, Category] = {}


def register(category: Category) -> Category:
    if category.code in CATEGORIES:
        raise ValueError(f"duplicate category {category.code}")
    CATEGORIES[category.code] = category
    return category


register(Category(
    code="vehicle",
    name="机动车登记",
    department="traffic_police",
    fields=(
        FieldSpec("plate_kind", "str", "号牌种类"),
        FieldSpec("vehicle_type", "str", "车辆类型（如 小型轿车、二轮摩托车、残疾人专用车）"),
        FieldSpec("purchase_price", "decimal", "购置价格", "元", required=False),
        FieldSpec("status", "str", "状态（正常/注销）"),
    ),
    feeds=("vehicles",),
))

register(Category(
    code="deposit",
    name="银行存款",
    department="finance",
    fields=(
        FieldSpec("balance", "decimal", "余额", "元"),
        FieldSpec("bank", "str", "开户行", required=False),
    ),
    feeds=("financial_assets",),
))
