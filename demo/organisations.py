"""Demo organisations of the 公益谷, with valid unified social credit codes (GB 32100-2015)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from stdnum.cn import uscc

from .regions import COUNTY_CODE6

# GB 11714 organisation-code characters and weights (digits 9-17 of the credit code).
_ORG_CODE_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# The credit code's alphabet leaves out I, O, Z, S, V; the organisation code must fit inside it.
_SAFE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"

# Registration authority + entity type (first two characters of the credit code).
SOCIAL_GROUP = "51"  # 民政: 社会团体 (associations, chambers, registered volunteer teams)
PRIVATE_NON_ENTERPRISE = "52"  # 民政: 民办非企业单位 (social-work service centres)
FOUNDATION = "53"  # 民政: 基金会
ENTERPRISE = "91"  # 市场监管: 企业
PUBLIC_INSTITUTION = "12"  # 机构编制: 事业单位 (the county-run hubs of 四社联动)


@dataclass(frozen=True)
class OrganisationSpec:
    name_template: str
    kind: str  # charity.models.Organisation.Kind value
    registration: str | None  # None: local gentry act as persons and have no credit code
    township: str | None = None  # township name, for organisations rooted in one place
    vetted: bool = True

    def name(self, county: str) -> str:
        return self.name_template.format(county=county)


ORGANISATIONS: tuple[OrganisationSpec, ...] = (
    OrganisationSpec("{county}爱心公益协会", "ngo", SOCIAL_GROUP),
    OrganisationSpec("{county}慈善总会", "ngo", SOCIAL_GROUP),
    OrganisationSpec("{county}阳光社会工作服务中心", "ngo", PRIVATE_NON_ENTERPRISE),
    OrganisationSpec("{county}助残服务中心", "ngo", PRIVATE_NON_ENTERPRISE),
    OrganisationSpec("{county}扶贫助学基金会", "ngo", FOUNDATION),
    OrganisationSpec("{county}居家养老服务中心", "ngo", PRIVATE_NON_ENTERPRISE, vetted=False),
    OrganisationSpec("心湖社区社会组织联合会", "ngo", SOCIAL_GROUP, township="沙柳街道"),
    OrganisationSpec("{county}蓝天救援队", "volunteers", SOCIAL_GROUP),
    OrganisationSpec("{county}义工联合会", "volunteers", SOCIAL_GROUP),
    OrganisationSpec("{county}青年志愿者协会", "volunteers", SOCIAL_GROUP),
    OrganisationSpec("健跳渔嫂志愿服务队", "volunteers", SOCIAL_GROUP, township="健跳镇"),
    OrganisationSpec("{county}海润水产有限公司", "enterprise", ENTERPRISE, township="海润街道"),
    OrganisationSpec("浙江橘乡食品有限公司", "enterprise", ENTERPRISE, township="横渡镇"),
    OrganisationSpec("{county}蛇蟠岛旅游开发有限公司", "enterprise", ENTERPRISE, township="蛇蟠乡"),
    OrganisationSpec("浙江健跳港船舶修造有限公司", "enterprise", ENTERPRISE, township="健跳镇"),
    OrganisationSpec("{county}青蟹商会", "chamber", SOCIAL_GROUP),
    OrganisationSpec("{county}工商业联合会（总商会）", "chamber", SOCIAL_GROUP),
    OrganisationSpec("{county}珠岙商会", "chamber", SOCIAL_GROUP, township="珠岙镇"),
    OrganisationSpec("{county}异地商会联合会", "chamber", SOCIAL_GROUP, vetted=False),
    OrganisationSpec("海游乡贤联谊会", "gentry", None, township="海游街道"),
    OrganisationSpec("健跳乡贤联谊会", "gentry", None, township="健跳镇"),
    OrganisationSpec("亭旁乡贤理事会", "gentry", None, township="亭旁镇"),
    OrganisationSpec("横渡乡贤会", "gentry", None, township="横渡镇"),
    OrganisationSpec("花桥乡贤联谊会", "gentry", None, township="花桥镇", vetted=False),
    # Appended, so the numbering of the members' accounts above (org_member_N) does not move.
    OrganisationSpec("{county}善行社会企业有限公司", "social_enterprise", ENTERPRISE),
    # The four hubs of 四社联动: county-run centres that coordinate the organisations above.
    OrganisationSpec("{county}社会组织服务中心", "hub_social_orgs", PUBLIC_INSTITUTION),
    OrganisationSpec("{county}社区服务中心", "hub_community", PUBLIC_INSTITUTION),
    OrganisationSpec("{county}社会工作服务站", "hub_social_work", PUBLIC_INSTITUTION),
    OrganisationSpec("{county}社会企业联络中心", "hub_social_ent", PUBLIC_INSTITUTION),
)


def organisation_code(seed: str) -> str:
    """Return a 9-character organisation code (GB 11714) derived from `seed`, check character included."""
    digest = hashlib.sha256(seed.encode()).digest()
    # Digits only in the body keeps the code readable; the check character may still be X.
    body = "".join(_SAFE_CHARS[b % 10] for b in digest[:8])
    total = sum(_ORG_CODE_CHARS.index(c) * w for c, w in zip(body, _ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def credit_code(registration: str, seed: str, region6: str = COUNTY_CODE6) -> str:
    """Return an 18-character unified social credit code that stdnum.cn.uscc accepts."""
    body = registration + region6 + organisation_code(seed)
    return body + uscc.calc_check_digit(body)
