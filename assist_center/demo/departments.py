"""The 19 departments that feed the data pool (domain.md), 13 of which handle referrals.

Plain data with no Django imports, so that a future data migration can copy or import it without
pulling in models. Names are templates: `{county}` becomes settings.COUNTY_NAME, so a deployment
named after its real county reads naturally and the demo stays anonymous by default ("S县").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DepartmentSpec:
    code: str
    name_template: str
    short_name: str
    takes_referrals: bool
    # What the department contributes to the data pool, and (for referral-taking ones) what it is
    # handed; documented in docs/domain-data.md.
    feeds: str

    def name(self, county: str) -> str:
        return self.name_template.format(county=county)


# Order is the display order (Department.sort_order), grouped roughly as domain.md lists them.
DEPARTMENTS: tuple[DepartmentSpec, ...] = (
    DepartmentSpec(
        "civil_affairs",
        "{county}民政局",
        "民政",
        True,
        "marriage, funeral, existing recipients; dibao, low-income edge, extreme poverty, temporary",
    ),
    DepartmentSpec(
        "medical_security",
        "{county}医疗保障局",
        "医保",
        True,
        "medical spending and insurance; medical assistance",
    ),
    DepartmentSpec("education", "{county}教育局", "教育", True, "enrolled students; education assistance"),
    DepartmentSpec(
        "human_resources",
        "{county}人力资源和社会保障局",
        "人社",
        True,
        "pension, unemployment, employment, contributions; employment assistance, pension premium",
    ),
    DepartmentSpec(
        "housing",
        "{county}住房和城乡建设局",
        "住建",
        True,
        "housing and unsafe-housing surveys; housing assistance",
    ),
    DepartmentSpec(
        "disabled_federation",
        "{county}残疾人联合会",
        "残联",
        True,
        "disability certificates; disability living and care allowances",
    ),
    DepartmentSpec("emergency", "{county}应急管理局", "应急管理", True, "disaster records; disaster relief"),
    DepartmentSpec(
        "power_supply", "国网{county}供电公司", "供电", True, "electricity use; electricity-bill relief"
    ),
    DepartmentSpec(
        "health",
        "{county}卫生健康局",
        "卫健",
        True,
        "births, serious illness; family-doctor follow-up and serious-illness help",
    ),
    DepartmentSpec(
        "veterans",
        "{county}退役军人事务局",
        "退役军人",
        True,
        "veterans and entitled groups; veterans' hardship support",
    ),
    DepartmentSpec(
        "agriculture",
        "{county}农业农村局",
        "农业农村",
        True,
        "land contracts, farm subsidies; rural income support and relapse-prevention monitoring",
    ),
    DepartmentSpec(
        "natural_resources",
        "{county}自然资源和规划局",
        "自然资源",
        True,
        "real-estate registration; homestead and rebuilding approvals for housing cases",
    ),
    DepartmentSpec(
        "public_security",
        "{county}公安局",
        "公安",
        True,
        "household registration, deaths; settling hukou and ID-card problems that block a case",
    ),
    DepartmentSpec("traffic_police", "{county}公安局交通警察大队", "交警", False, "motor vehicles"),
    DepartmentSpec("taxation", "国家税务总局{county}税务局", "税务", False, "individual income tax"),
    DepartmentSpec("market_regulation", "{county}市场监督管理局", "市场监管", False, "business registration"),
    DepartmentSpec(
        "provident_fund", "台州市住房公积金中心{county}分中心", "公积金", False, "housing provident fund"
    ),
    DepartmentSpec(
        "finance", "中国人民银行{county}支行（金融机构）", "人民银行", False, "deposits, securities"
    ),
    DepartmentSpec("court", "{county}人民法院", "法院", False, "enforcement, dishonest judgement debtors"),
)

REFERRAL_DEPARTMENT_CODES: tuple[str, ...] = tuple(d.code for d in DEPARTMENTS if d.takes_referrals)
