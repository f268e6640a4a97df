"""The data pool's record categories: what each department sends, in which units, feeding which facts.

A departmental file is CSV (UTF-8 or GB18030) or XLSX with the columns
`id_number, record_id, effective_date` followed by the category's own fields, in any order.
`id_number` never reaches the database: the importer stores its blind index only.
"""

from __future__ import annotations

import re
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


register(
    Category(
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
    )
)

register(
    Category(
        code="deposit",
        name="银行存款",
        department="finance",
        fields=(
            FieldSpec("balance", "decimal", "余额", "元"),
            FieldSpec("bank", "str", "开户行", required=False),
        ),
        feeds=("financial_assets",),
    )
)


# --- the rest of the pool's categories ----------------------------------------------------------
# Conventions that eligibility.facts relies on (docs/eligibility-rules.md):
# - a record describing one period of money (a month's wage, a tax declaration) has `amount`-like
#   fields for that period and `months` (how many months it covers, default 1);
# - a record describing an ongoing payment (pension, allowance, rent) gives the monthly rate in
#   force from its effective date, and `status` says whether it still runs;
# - a record of a balance (deposit, securities) is a snapshot on its effective date: the latest
#   snapshot of each account counts.
_STATUS = "状态"

register(
    Category(
        code="hukou",
        name="户籍登记",
        department="public_security",
        fields=(
            FieldSpec("household_number", "str", "户号"),
            FieldSpec("relation", "str", "与户主关系"),
            FieldSpec("hukou_kind", "str", "户口性质（农业/非农业/居民）", required=False),
            FieldSpec("status", "str", f"{_STATUS}（正常/迁出/注销）"),
            # The registry (issue 10) needs these to add a person or a household it does not know.
            FieldSpec("name", "str", "姓名", required=False),
            FieldSpec("village_code", "str", "村（社区）区划代码（12 位）", required=False),
            FieldSpec("address", "str", "住址", required=False),
        ),
        feeds=("members",),
    )
)

register(
    Category(
        code="death",
        name="死亡登记",
        department="public_security",
        fields=(
            FieldSpec("death_date", "date", "死亡日期"),
            FieldSpec("cause", "str", "死亡原因", required=False),
        ),
        feeds=("members", "deaths"),
    )
)

register(
    Category(
        code="real_estate",
        name="不动产登记",
        department="natural_resources",
        fields=(
            FieldSpec("property_kind", "str", "房屋用途（住宅/商业/办公/工业/其他）"),
            FieldSpec("area", "decimal", "建筑面积", "平方米"),
            FieldSpec("share", "decimal", "产权份额（0-1）", required=False),
            FieldSpec("status", "str", f"{_STATUS}（正常/注销）"),
        ),
        feeds=("housing", "assets"),
    )
)

register(
    Category(
        code="business_licence",
        name="营业执照",
        department="market_regulation",
        fields=(
            FieldSpec("business_kind", "str", "主体类型（个体工商户/有限责任公司/合作社等）"),
            FieldSpec("registered_capital", "decimal", "注册资本", "元", required=False),
            FieldSpec("status", "str", f"{_STATUS}（存续/注销/吊销）"),
        ),
        feeds=("business",),
    )
)

register(
    Category(
        code="company_officer",
        name="企业高管及股东",
        department="market_regulation",
        fields=(
            FieldSpec("position", "str", "职务（法定代表人/股东/董事/监事/高级管理人员）"),
            FieldSpec("shareholding", "decimal", "认缴出资额", "元", required=False),
            FieldSpec("status", "str", f"{_STATUS}（在任/离任）"),
        ),
        feeds=("business",),
    )
)

register(
    Category(
        code="income_tax",
        name="个人所得税申报",
        department="taxation",
        fields=(
            FieldSpec("income", "decimal", "申报收入额", "元"),
            FieldSpec("tax_paid", "decimal", "已缴税额", "元"),
            FieldSpec("months", "int", "所属期月数", "月", required=False),
        ),
        feeds=("income", "tax"),
    )
)

register(
    Category(
        code="business_income",
        name="个体经营所得",
        department="taxation",
        fields=(
            FieldSpec("amount", "decimal", "经营所得", "元"),
            FieldSpec("months", "int", "所属期月数", "月", required=False),
        ),
        feeds=("income",),
    )
)

register(
    Category(
        code="rental_income",
        name="房屋租金收入",
        department="taxation",
        fields=(
            FieldSpec("monthly_rent", "decimal", "月租金", "元/月"),
            FieldSpec("status", "str", f"{_STATUS}（出租中/已终止）"),
        ),
        feeds=("income",),
    )
)

register(
    Category(
        code="wage",
        name="工资收入",
        department="human_resources",
        fields=(
            FieldSpec("amount", "decimal", "应发工资", "元"),
            FieldSpec("months", "int", "所属期月数", "月", required=False),
            FieldSpec("employer", "str", "用人单位", required=False),
        ),
        feeds=("income", "employment"),
    )
)

register(
    Category(
        code="pension",
        name="养老金领取",
        department="human_resources",
        fields=(
            FieldSpec("monthly_amount", "decimal", "月养老金", "元/月"),
            FieldSpec("scheme", "str", "险种（企业职工/机关事业/城乡居民）"),
            FieldSpec("status", "str", f"{_STATUS}（领取中/暂停/终止）"),
        ),
        feeds=("income", "pension", "employment"),
    )
)

register(
    Category(
        code="social_insurance",
        name="社会保险缴费",
        department="human_resources",
        fields=(
            FieldSpec("contribution_base", "decimal", "缴费基数", "元/月"),
            FieldSpec("employer", "str", "参保单位", required=False),
            FieldSpec("status", "str", f"{_STATUS}（正常缴费/暂停/终止）"),
        ),
        feeds=("employment",),
    )
)

register(
    Category(
        code="unemployment",
        name="失业登记",
        department="human_resources",
        fields=(
            FieldSpec("benefit_monthly", "decimal", "失业保险金", "元/月", required=False),
            FieldSpec("status", "str", f"{_STATUS}（登记中/已就业/已注销）"),
        ),
        feeds=("employment", "income"),
    )
)

register(
    Category(
        code="employment",
        name="就业登记",
        department="human_resources",
        fields=(
            FieldSpec("employer", "str", "用人单位", required=False),
            FieldSpec("status", "str", f"{_STATUS}（在职/离职）"),
        ),
        feeds=("employment",),
    )
)

register(
    Category(
        code="civil_servant",
        name="财政供养人员",
        department="human_resources",
        fields=(
            FieldSpec("employer", "str", "机关事业单位", required=False),
            FieldSpec("monthly_salary", "decimal", "月工资", "元/月", required=False),
            FieldSpec("status", "str", f"{_STATUS}（在职/退休/离职）"),
        ),
        feeds=("employment", "state_employee"),
    )
)

register(
    Category(
        code="pension_insurance",
        name="城乡居民养老保险参保",
        department="human_resources",
        fields=(
            FieldSpec("contribution_grade", "decimal", "缴费档次", "元/年", required=False),
            FieldSpec("status", "str", f"{_STATUS}（参保缴费/暂停/终止）"),
        ),
        feeds=("pension_insurance",),
    )
)

register(
    Category(
        code="medical_expense",
        name="医疗费用结算",
        department="medical_security",
        fields=(
            FieldSpec("total_cost", "decimal", "医疗总费用", "元"),
            FieldSpec("reimbursed", "decimal", "医保报销", "元"),
            FieldSpec("out_of_pocket", "decimal", "个人自付", "元"),
            FieldSpec("hospital", "str", "医疗机构", required=False),
        ),
        feeds=("medical_spending",),
    )
)

register(
    Category(
        code="medical_insurance",
        name="医疗保险参保",
        department="medical_security",
        fields=(
            FieldSpec("scheme", "str", "险种（职工医保/城乡居民医保）"),
            FieldSpec("status", "str", f"{_STATUS}（参保/停保）"),
        ),
        feeds=("medical_insurance",),
    )
)

register(
    Category(
        code="serious_illness",
        name="大病登记",
        department="health",
        fields=(
            FieldSpec("disease", "str", "病种"),
            FieldSpec("status", "str", f"{_STATUS}（治疗中/已康复）", required=False),
        ),
        feeds=("illness",),
    )
)

register(
    Category(
        code="birth",
        name="出生医学证明",
        department="health",
        fields=(
            FieldSpec("birth_date", "date", "出生日期"),
            FieldSpec("sex", "str", "性别"),
        ),
        feeds=("members",),
    )
)

register(
    Category(
        code="disability",
        name="残疾人证",
        department="disabled_federation",
        fields=(
            FieldSpec("grade", "int", "残疾等级（1-4 级）"),
            FieldSpec("kind", "str", "残疾类别（视力/听力/言语/肢体/智力/精神/多重）"),
            FieldSpec("status", "str", f"{_STATUS}（有效/注销）"),
        ),
        feeds=("disability",),
    )
)

register(
    Category(
        code="student",
        name="在校学生学籍",
        department="education",
        fields=(
            FieldSpec("school", "str", "学校", required=False),
            FieldSpec("stage", "str", "学段（学前/小学/初中/高中/中职/高职/本科/研究生）"),
            FieldSpec("status", "str", f"{_STATUS}（在读/休学/毕业/退学）"),
        ),
        feeds=("students",),
    )
)

register(
    Category(
        code="marriage",
        name="婚姻登记",
        department="civil_affairs",
        fields=(FieldSpec("event", "str", "登记类型（结婚/离婚/补领）"),),
        feeds=("members",),
    )
)

register(
    Category(
        code="funeral",
        name="殡葬（火化）记录",
        department="civil_affairs",
        fields=(
            FieldSpec("cremation_date", "date", "火化日期"),
            FieldSpec("funeral_home", "str", "殡仪馆", required=False),
        ),
        feeds=("members", "deaths"),
    )
)

register(
    Category(
        code="existing_recipient",
        name="在册社会救助对象",
        department="civil_affairs",
        fields=(
            FieldSpec("item", "str", "救助项目代码（dibao/low_income_edge/extreme_poverty 等）"),
            FieldSpec("monthly_amount", "decimal", "月救助金额", "元/月", required=False),
            FieldSpec("status", "str", f"{_STATUS}（在册/渐退/退出）"),
        ),
        feeds=("recipient_status",),
    )
)

register(
    Category(
        code="land_contract",
        name="土地承包经营权",
        department="agriculture",
        fields=(
            FieldSpec("area", "decimal", "承包面积", "亩"),
            FieldSpec("transferred", "bool", "是否流转"),
        ),
        feeds=("land",),
    )
)

register(
    Category(
        code="farm_subsidy",
        name="农业补贴发放",
        department="agriculture",
        fields=(
            FieldSpec("amount", "decimal", "补贴金额", "元"),
            FieldSpec("kind", "str", "补贴类型（耕地地力/农机购置等）", required=False),
        ),
        feeds=("land",),
    )
)

register(
    Category(
        code="veteran",
        name="退役军人及优抚对象",
        department="veterans",
        fields=(
            FieldSpec("kind", "str", "类别（退役士兵/伤残军人/烈属/在乡老复员军人等）"),
            FieldSpec("monthly_allowance", "decimal", "定期抚恤补助", "元/月", required=False),
            FieldSpec("status", "str", f"{_STATUS}（在册/注销）"),
        ),
        feeds=("veteran",),
    )
)

register(
    Category(
        code="provident_fund",
        name="住房公积金",
        department="provident_fund",
        fields=(
            FieldSpec("balance", "decimal", "账户余额", "元"),
            FieldSpec("monthly_deposit", "decimal", "月缴存额", "元/月", required=False),
            FieldSpec("status", "str", f"{_STATUS}（正常缴存/封存/销户）"),
        ),
        feeds=("employment", "provident_fund"),
    )
)

register(
    Category(
        code="securities",
        name="证券账户",
        department="finance",
        fields=(
            FieldSpec("market_value", "decimal", "证券市值", "元"),
            FieldSpec("broker", "str", "证券公司", required=False),
        ),
        feeds=("financial_assets",),
    )
)

register(
    Category(
        code="wealth_product",
        name="理财及保险产品",
        department="finance",
        fields=(
            FieldSpec("value", "decimal", "持有金额", "元"),
            FieldSpec("product_kind", "str", "产品类型（理财/基金/储蓄型保险）", required=False),
        ),
        feeds=("financial_assets",),
    )
)

register(
    Category(
        code="electricity",
        name="居民用电",
        department="power_supply",
        fields=(
            FieldSpec("monthly_kwh", "decimal", "近 12 个月月均用电量", "千瓦时"),
            FieldSpec("account_holder", "bool", "是否为户主"),
        ),
        feeds=("electricity",),
    )
)

register(
    Category(
        code="enforcement",
        name="失信被执行人",
        department="court",
        fields=(
            FieldSpec("amount", "decimal", "执行标的", "元"),
            FieldSpec("status", "str", f"{_STATUS}（未履行/已履行）"),
        ),
        feeds=("enforcement",),
    )
)

register(
    Category(
        code="disaster",
        name="受灾人员登记",
        department="emergency",
        fields=(
            FieldSpec("disaster_kind", "str", "灾害类型（台风/洪涝/火灾/地质灾害等）"),
            FieldSpec("loss", "decimal", "直接经济损失", "元", required=False),
            FieldSpec("house_damage", "str", "房屋受损（无/一般损坏/严重损坏/倒塌）", required=False),
        ),
        feeds=("disaster",),
    )
)

register(
    Category(
        code="unsafe_housing",
        name="农村危房鉴定",
        department="housing",
        fields=(
            FieldSpec("grade", "str", "危险等级（A/B/C/D）"),
            FieldSpec("area", "decimal", "房屋面积", "平方米", required=False),
        ),
        feeds=("housing",),
    )
)

register(
    Category(
        code="housing_subsidy",
        name="住房保障",
        department="housing",
        fields=(
            FieldSpec("kind", "str", "保障方式（公租房/租赁补贴/危房改造）"),
            FieldSpec("monthly_amount", "decimal", "补贴金额", "元/月", required=False),
            FieldSpec("status", "str", f"{_STATUS}（保障中/退出）"),
        ),
        feeds=("housing",),
    )
)


# --- payment files (issue 10): written to the benefits ledger, not the pool -------------------
# record_id is the department's own payment id (a re-sent or corrected file is matched on it),
# effective_date the payment date; `period` is any day of the month paid for (the payment date's
# month when absent). eligibility.services.payments registers the ledger writer for these codes.
PAYMENT_DEFAULT_ITEMS: dict[str, str] = {}


def _payment(code: str, name: str, department: str, item: str) -> None:
    PAYMENT_DEFAULT_ITEMS[code] = item
    register(
        Category(
            code=code,
            name=name,
            department=department,
            fields=(
                FieldSpec("amount", "decimal", "发放金额", "元", required=False),
                FieldSpec("period", "date", "所属月份（该月任一日）", required=False),
                FieldSpec("item", "str", f"救助项目代码（缺省 {item}）", required=False),
                FieldSpec("in_kind", "str", "实物或减免内容", required=False),
            ),
            feeds=(),
        )
    )


_payment("payment_dibao", "低保金发放", "civil_affairs", "dibao")
_payment("payment_extreme_poverty", "特困人员供养金发放", "civil_affairs", "extreme_poverty")
_payment("payment_pension_premium", "城乡居民养老保险代缴", "human_resources", "pension_premium")
_payment("payment_disability", "残疾人两项补贴发放", "disabled_federation", "disability_living")
_payment("payment_utility", "电费等生活费用减免", "power_supply", "utility_relief")
_payment("payment_medical_aid", "医疗救助结算", "medical_security", "medical")
_payment("payment_disaster", "受灾人员救助发放", "emergency", "disaster")


# --- Chinese column headers (issue 16) -----------------------------------------------------------
# A department's own export names its columns in Chinese. Each column is accepted under its code
# (id_number), its Chinese header (身份证号码) and that header with its unit (购置价格（元）); the
# downloadable template uses the Chinese header with the unit.
COMMON_HEADERS: dict[str, tuple[str, ...]] = {
    "id_number": ("身份证号码", "身份证号", "公民身份号码"),
    "record_id": ("记录编号", "记录号", "业务编号"),
    "effective_date": ("生效日期", "业务日期"),
}
_TRAILING_HINT = re.compile(r"[（(][^（）()]*[）)]$")


def normalise_header(text: str) -> str:
    """A header cell as compared: no BOM or spaces, ASCII brackets as full-width, codes lower case."""
    cleaned = text.strip().lstrip("\ufeff").replace(" ", "").replace("\u3000", "")
    return cleaned.replace("(", "（").replace(")", "）").lower()


def field_header(spec: FieldSpec) -> str:
    """The Chinese header of a field: its label without the trailing hint, with its unit."""
    short = _TRAILING_HINT.sub("", spec.label).strip() or spec.label
    return f"{short}（{spec.unit}）" if spec.unit else short


def template_headers(category: Category) -> list[str]:
    return [COMMON_HEADERS[c][0] for c in COMMON_COLUMNS] + [field_header(f) for f in category.fields]


def column_aliases(category: Category) -> dict[str, str]:
    """Every accepted header (normalised) -> the column code. An alias two fields share is dropped."""
    candidates: dict[str, set[str]] = {}

    def add(alias: str, code: str) -> None:
        candidates.setdefault(normalise_header(alias), set()).add(code)

    for code in COMMON_COLUMNS:
        add(code, code)
        for alias in COMMON_HEADERS[code]:
            add(alias, code)
    for spec in category.fields:
        add(spec.name, spec.name)
        short = _TRAILING_HINT.sub("", spec.label).strip() or spec.label
        for alias in {spec.label, short, field_header(spec)}:
            add(alias, spec.name)
    return {alias: next(iter(codes)) for alias, codes in candidates.items() if len(codes) == 1}


# The national standard's sample number (GB 11643): a valid check digit, nobody's number.
EXAMPLE_ID_NUMBER = "11010519491231002X"
_EXAMPLE_BY_KIND = {"int": "1", "decimal": "1000.00", "date": "2026-01-01", "bool": "否"}


def _example(spec: FieldSpec) -> str:
    hint = _TRAILING_HINT.search(spec.label)
    options = hint.group(0)[1:-1] if hint else ""
    if spec.kind == "str" and ("/" in options or options.startswith("如")):
        return re.split(r"[/、，,]", options.removeprefix("如").strip())[0].strip()
    if not spec.required:
        return ""
    return _EXAMPLE_BY_KIND.get(spec.kind, "示例")


def template_example_row(category: Category) -> list[str]:
    """One plausible row for the template: it imports as it stands."""
    return [EXAMPLE_ID_NUMBER, "示例0001", "2026-01-01"] + [_example(f) for f in category.fields]
