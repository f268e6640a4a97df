"""Which changed pool records matter for an enrolled household, and which show hardship outside the rolls.

Pure: plain data in, plain data out; no database, no clock (`as_of` is passed in). The monitoring
service feeds every record an import changed through `assess_change`; the discovery service feeds
records of people outside the rolls through the `*_signal` functions. Both keep the evidence to
non-personal values (category, department, the source's record id, dates, amounts, kinds): the
pool holds no plaintext ID number, and nothing here adds one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .facts import ENDED_STATUSES, EXEMPT_VEHICLE_MARKERS, WINDOW_DAYS, WORKING_AGE, HouseholdFacts, dec

# A warning is due this many working days after the import that raised it: a week for the
# assistant to look at the evidence and, where needed, visit the household. A constant rather than
# a setting: it is the centre's service promise, and a change should be reviewed like code.
WARNING_DUE_WORKING_DAYS = 5

# The discovery threshold of spending-led hardship (支出型贫困): 12-month out-of-pocket medical
# spending of at least this share of the household's annual income ...
DISCOVERY_MEDICAL_RATIO = Decimal("0.4")
# ... and at least the medical standard's `min_spending`, or this floor when no standard is in
# force (a household with no recorded income would otherwise be a lead for a 50-yuan prescription).
DISCOVERY_MEDICAL_FLOOR = Decimal("5000")

# Tax declarations without a period are annual (个人所得税年度汇算).
DEFAULT_TAX_MONTHS = 12

# Change codes (MonitoringWarning.change) and the item each one affects. Every listed change puts
# the household's minimum living allowance in question; the other items follow from it.
VEHICLE = "vehicle_registered"
REAL_ESTATE = "real_estate_registered"
PENSION = "pension_started"
INCOME = "income_above_standard"
TAX = "tax_above_standard"
DEATH = "member_died"
BUSINESS = "business_registered"
CHANGE_LABELS: dict[str, str] = {
    VEHICLE: "登记了机动车（非豁免车型）",
    REAL_ESTATE: "登记了不动产",
    PENSION: "开始领取养老金",
    INCOME: "收入超过低保标准",
    TAX: "纳税申报收入超过低保标准",
    DEATH: "家庭成员死亡",
    BUSINESS: "登记了经营主体",
}
AFFECTED_ITEM = "dibao"
MONITORED_CATEGORIES = frozenset(
    {
        "vehicle",
        "real_estate",
        "pension",
        "wage",
        "income_tax",
        "business_income",
        "death",
        "funeral",
        "business_licence",
        "company_officer",
    }
)

# Discovery reasons (DiscoveryLead.reason).
MEDICAL_BURDEN = "medical_burden"
NEW_DISABILITY = "new_disability"
UNEMPLOYED = "unemployment_registered"
EARNER_DIED = "main_earner_died"
REASON_LABELS: dict[str, str] = {
    MEDICAL_BURDEN: "近 12 个月医疗自付费用高",
    NEW_DISABILITY: "新办残疾证",
    UNEMPLOYED: "失业登记",
    EARNER_DIED: "家庭主要劳动力死亡",
}
# What an on-behalf application made from a lead asks for, by reason.
REASON_NEEDS: dict[str, tuple[str, ...]] = {
    MEDICAL_BURDEN: ("medical", "temporary"),
    NEW_DISABILITY: ("disability_living", "disability_care"),
    UNEMPLOYED: ("employment", "dibao"),
    EARNER_DIED: ("dibao", "temporary"),
}
DISCOVERY_CATEGORIES = frozenset({"medical_expense", "disability", "unemployment", "death"})

# Record values that may go into evidence, per category: amounts, kinds and dates, never names,
# employers' staff lists or free text a department might fill with personal details.
_EVIDENCE_FIELDS: dict[str, tuple[str, ...]] = {
    "vehicle": ("vehicle_type", "plate_kind", "purchase_price", "status"),
    "real_estate": ("property_kind", "area", "share", "status"),
    "pension": ("monthly_amount", "scheme", "status"),
    "wage": ("amount", "months"),
    "income_tax": ("income", "tax_paid", "months"),
    "business_income": ("amount", "months"),
    "death": ("death_date",),
    "funeral": ("cremation_date",),
    "business_licence": ("business_kind", "registered_capital", "status"),
    "company_officer": ("position", "shareholding", "status"),
    "medical_expense": ("total_cost", "reimbursed", "out_of_pocket"),
    "disability": ("grade", "kind", "status"),
    "unemployment": ("benefit_monthly", "status"),
}


@dataclass(frozen=True)
class ChangedRecord:
    """A pool record as an import left it."""

    pk: int
    category: str
    department: str
    source_record_id: str
    person_hash: str
    effective_date: dt.date
    data: Mapping[str, Any]
    content_hash: str


@dataclass(frozen=True)
class HouseholdContext:
    """What the rules need to know about the enrolled household a changed record belongs to."""

    household_id: int
    size: int  # persons registered in the household (at least 1)
    dibao_amount: Decimal | None  # the dibao standard per person per month in force for its region


@dataclass(frozen=True)
class Change:
    code: str
    item: str
    evidence: dict[str, Any]


def _status(data: Mapping[str, Any]) -> str:
    return str(data.get("status", "")).strip()


def _active(data: Mapping[str, Any]) -> bool:
    return _status(data) not in ENDED_STATUSES


def _months(data: Mapping[str, Any], default: int) -> int:
    n = dec(data.get("months"))
    return int(n) if n is not None and n >= 1 else default


def record_values(category: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The record's non-personal values worth showing (see _EVIDENCE_FIELDS)."""
    return {k: data[k] for k in _EVIDENCE_FIELDS.get(category, ()) if k in data and data[k] not in (None, "")}


def evidence_of(rec: ChangedRecord, **extra: Any) -> dict[str, Any]:
    return {
        "category": rec.category,
        "department": rec.department,
        "source_record_id": rec.source_record_id,
        "effective_date": rec.effective_date.isoformat(),
        "values": record_values(rec.category, rec.data),
        **extra,
    }


def is_exempt_vehicle(data: Mapping[str, Any]) -> bool:
    """Motorcycles, vehicles for disabled drivers and farm vehicles do not count (eligibility.facts)."""
    kind = str(data.get("vehicle_type", ""))
    return any(marker in kind for marker in EXEMPT_VEHICLE_MARKERS)


def _monthly_income(rec: ChangedRecord) -> Decimal | None:
    """The record's income per month: a wage slip covers `months` (default 1), a tax declaration 12."""
    if rec.category == "wage":
        amount = dec(rec.data.get("amount"))
        return None if amount is None else amount / _months(rec.data, 1)
    if rec.category == "business_income":
        amount = dec(rec.data.get("amount"))
        return None if amount is None else amount / _months(rec.data, DEFAULT_TAX_MONTHS)
    if rec.category == "income_tax":
        amount = dec(rec.data.get("income"))
        return None if amount is None else amount / _months(rec.data, DEFAULT_TAX_MONTHS)
    return None


def assess_change(rec: ChangedRecord, household: HouseholdContext) -> Change | None:
    """The change a record makes to an enrolled household, or None when it does not matter.

    Income counts when this record alone, shared over the household's members, lifts it to or above
    the dibao standard per person per month: smaller amounts are what the rolls expect (a few days'
    casual work) and would bury the assistant in warnings.
    """
    data = rec.data
    if rec.category == "vehicle":
        if _active(data) and not is_exempt_vehicle(data):
            return Change(VEHICLE, AFFECTED_ITEM, evidence_of(rec))
        return None
    if rec.category == "real_estate":
        return Change(REAL_ESTATE, AFFECTED_ITEM, evidence_of(rec)) if _active(data) else None
    if rec.category == "pension":
        amount = dec(data.get("monthly_amount"))
        if _active(data) and amount is not None and amount > 0:
            return Change(PENSION, AFFECTED_ITEM, evidence_of(rec))
        return None
    if rec.category in ("death", "funeral"):
        return Change(DEATH, AFFECTED_ITEM, evidence_of(rec))
    if rec.category in ("business_licence", "company_officer"):
        return Change(BUSINESS, AFFECTED_ITEM, evidence_of(rec)) if _active(data) else None
    if rec.category in ("wage", "income_tax", "business_income"):
        monthly = _monthly_income(rec)
        if monthly is None or household.dibao_amount is None:
            return None
        per_person = (monthly / max(1, household.size)).quantize(Decimal("0.01"))
        if per_person < household.dibao_amount:
            return None
        code = TAX if rec.category == "income_tax" else INCOME
        return Change(
            code,
            AFFECTED_ITEM,
            evidence_of(
                rec,
                monthly_income=str(monthly.quantize(Decimal("0.01"))),
                per_person_month=str(per_person),
                household_size=household.size,
                standard_per_person_month=str(household.dibao_amount),
            ),
        )
    return None


def warning_dedupe_key(household_id: int, rec: ChangedRecord) -> str:
    """The same change imported twice (same record, same content) is one warning."""
    return f"{household_id}:{rec.category}:{rec.source_record_id}:{rec.content_hash}"


# --- discovery ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signal:
    reason: str
    record: ChangedRecord
    evidence: dict[str, Any]


def _recent(rec: ChangedRecord, as_of: dt.date) -> bool:
    return as_of - dt.timedelta(days=WINDOW_DAYS) < rec.effective_date <= as_of


def medical_signal(
    rec: ChangedRecord, facts: HouseholdFacts, *, min_spending: Decimal | None, as_of: dt.date
) -> Signal | None:
    """Out-of-pocket spending in the last 12 months large against the household's annual income.

    Large means at least DISCOVERY_MEDICAL_RATIO of the annual income, and at least the medical
    standard's `min_spending` (DISCOVERY_MEDICAL_FLOOR without a standard). The fixed amount is a
    floor, not an alternative: as an alternative it would make every household that spent it a lead
    whatever its income. Unknown income (missing or conflicting records) counts as zero here: a
    lead only asks a person to look.
    """
    if rec.category != "medical_expense" or not _recent(rec, as_of):
        return None
    spending: Decimal = facts.medical_spending.value
    income_month = facts.household_income_month.value
    annual = (income_month or Decimal(0)) * 12
    floor = DISCOVERY_MEDICAL_FLOOR if min_spending is None else min_spending
    limit = max(floor, (annual * DISCOVERY_MEDICAL_RATIO).quantize(Decimal("0.01")))
    if spending < limit:
        return None
    return Signal(
        MEDICAL_BURDEN,
        rec,
        evidence_of(
            rec,
            out_of_pocket_12m=str(spending),
            annual_household_income=str(annual.quantize(Decimal("0.01"))),
            threshold=str(limit),
        ),
    )


def disability_signal(rec: ChangedRecord, *, as_of: dt.date) -> Signal | None:
    """A disability certificate issued in the last 12 months and still valid."""
    if rec.category != "disability" or not _active(rec.data) or not _recent(rec, as_of):
        return None
    return Signal(NEW_DISABILITY, rec, evidence_of(rec))


def unemployment_signal(rec: ChangedRecord, *, as_of: dt.date) -> Signal | None:
    """An unemployment registration of the last 12 months that is still open."""
    if rec.category != "unemployment" or not _active(rec.data) or not _recent(rec, as_of):
        return None
    return Signal(UNEMPLOYED, rec, evidence_of(rec))


def earner_death_signal(
    rec: ChangedRecord, facts: HouseholdFacts, *, deceased_key: str, as_of: dt.date
) -> Signal | None:
    """A member died in the last 12 months and no other working-age member of the household earns.

    `facts` are the household's facts on `as_of`; `deceased_key` names the dead member in them.
    An earner is a living member of working age who is employed or has an income.
    """
    if rec.category != "death" or not _recent(rec, as_of):
        return None
    low, high = WORKING_AGE
    others = [m for m in facts.members if m.key != deceased_key and m.alive]
    if not others:
        return None  # nobody left to reach
    if any(low <= m.age < high and (m.employment == "employed" or m.monthly_income > 0) for m in others):
        return None
    return Signal(EARNER_DIED, rec, evidence_of(rec, remaining_members=len(others)))


def lead_dedupe_key(person_hash: str, reason: str, rec: ChangedRecord) -> str:
    return f"{person_hash}:{reason}:{rec.category}:{rec.source_record_id}"


def needs_for(reasons: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for reason in reasons:
        for item in REASON_NEEDS.get(reason, ()):
            if item not in out:
                out.append(item)
    return tuple(out)
