"""The verification report as plain display data, and as a PDF annex to the application form.

The same context feeds the admin page and the PDF, so what an assistant sees on screen is what
is printed and filed. Rendering goes through assist_center.pdf.render_pdf (WeasyPrint with the
Noto CJK fonts, one font configuration per process).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone, translation

from assist_center.models import Department
from assist_center.pdf import attachment_response, local_time, render_pdf
from assist_center.scopes import person_label

from .models import ItemDecision, VerificationReport
from .pool.categories import CATEGORIES
from .rules import (
    CRITERION_LABELS,
    CRITERION_NAMES,
    ITEM_LABELS,
    OUTCOME_LABELS,
    ItemOutcome,
    Outcome,
    params_text,
)

TRIGGER_LABELS = {
    VerificationReport.Trigger.AUTHORISED: "授权后自动核对",
    VerificationReport.Trigger.MANUAL: "工作人员重新核对",
    VerificationReport.Trigger.MONITORING: "监测复核",
}
EMPLOYMENT_LABELS = {
    "employed": "在业",
    "unemployed": "失业登记",
    "retired": "领取养老金",
    "unknown": "无记录",
    "deceased": "已故",
}
DECISION_LABELS = {"approve": "认定符合", "reject": "不予认定", "home_visit": "需入户核查（尚未认定）"}
# A failed criterion of an item that is eligible anyway (one of several alternatives held): it
# must not read as a contradiction beside 符合 (issue 16).
FAIL_NOT_DECISIVE = "未满足（其他条件已满足，不影响结果）"


@dataclass
class CriterionRow:
    name: str
    outcome: str
    outcome_label: str
    value: str
    threshold: str
    unit: str
    reason: str
    records: list[str]


@dataclass
class ItemRow:
    item: str
    label: str
    outcome: str
    outcome_label: str
    asked: bool
    policy_finds_person: bool
    standard: str
    criteria: list[CriterionRow]
    decision: str = ""
    decision_code: str = ""
    decision_reason: str = ""
    decided_by: str = ""
    decided_at: str = ""
    # Whether a person must decide this item (asked for, or found eligible), and whether they have
    # with a final decision (a home visit is not one).
    to_decide: bool = False
    final: bool = False

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.criteria if c.outcome == Outcome.FAIL]

    @property
    def unknown(self) -> list[str]:
        return [c.name for c in self.criteria if c.outcome == Outcome.UNKNOWN]


@dataclass
class ReportContext:
    report_id: int
    receipt_code: str
    township: str
    village: str
    trigger: str
    created_at: str
    as_of: str
    input_hash: str
    duration_ms: float
    county_name: str
    items: list[ItemRow] = field(default_factory=list)
    standards: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)


def department_short_names() -> dict[str, str]:
    """Department code -> short name ("公安"), as the Department rows (and the admin) have them."""
    return dict(Department.objects.values_list("code", "short_name"))


def record_label(ref: Mapping[str, Any], departments: Mapping[str, str]) -> str:
    """ "公安 户籍登记 H123 2026-01-05": department, category, the source's own id and the record's date.

    `departments` maps codes to short names (department_short_names); an unknown code shows as is.
    """
    category = CATEGORIES.get(str(ref.get("category", "")))
    department = departments.get(str(ref.get("department", "")), str(ref.get("department", "")))
    name = category.name if category else str(ref.get("category", ""))
    return f"{department} {name} {ref.get('source_record_id', '')} {ref.get('effective_date', '')}"


FACT_LABELS = (
    ("counted_members", "共同生活家庭成员"),
    ("household_income_month", "家庭月收入"),
    ("income_per_person_month", "家庭月人均收入"),
    ("financial_assets", "金融资产合计"),
    ("vehicles", "机动车（不含豁免车辆）"),
    ("housing_count", "住宅"),
    ("housing_area_per_person", "人均住房面积"),
    ("business", "在营企业或个体工商户"),
    ("pension", "养老金"),
    ("tax", "近 12 个月个人所得税"),
    ("medical_spending", "近 12 个月个人自付医疗费用"),
    ("students", "在校学生"),
)


def _fact_rows(facts: Mapping[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for key, label in FACT_LABELS:
        fact = facts.get(key)
        if not isinstance(fact, Mapping):
            continue
        if fact.get("conflict") or fact.get("missing"):
            shown = "待核实：" + "；".join([*fact.get("conflict", []), *fact.get("missing", [])])
        else:
            shown = f"{fact.get('value')} {fact.get('unit', '')}".strip()
        rows.append((label, shown))
    return rows


def _decision_fields(decision: ItemDecision | None) -> dict[str, str]:
    if decision is None:
        return {}
    user = decision.decided_by
    return {
        "decision": DECISION_LABELS.get(decision.decision, decision.decision),
        "decision_code": decision.decision,
        "decision_reason": decision.reason,
        "decided_by": person_label(user),
        "decided_at": local_time(decision.decided_at),
    }


def report_context(
    report: VerificationReport,
    *,
    decisions: Mapping[str, ItemDecision] | None = None,
    to_decide: Collection[str] = (),
) -> ReportContext:
    application = report.application
    decisions = decisions or {}
    region_names = {s["item"]: s.get("region_name", "") for s in report.standards}
    departments = department_short_names()
    ctx = ReportContext(
        report_id=report.pk,
        receipt_code=application.receipt_code,
        township=application.township.name,
        village=application.village.name,
        trigger=TRIGGER_LABELS.get(report.trigger, report.trigger),  # type: ignore[call-overload]
        created_at=local_time(report.created_at),
        as_of=report.as_of.isoformat() if isinstance(report.as_of, dt.date) else str(report.as_of),
        input_hash=report.input_hash,
        duration_ms=report.duration_ms,
        county_name=settings.COUNTY_NAME,
        standards=[
            {
                **s,
                "label": ITEM_LABELS.get(s["item"], s["item"]),
                "params_text": params_text(s.get("params") or {}),
            }
            for s in report.standards
        ],
        members=[
            {**m, "employment": EMPLOYMENT_LABELS.get(m.get("employment", ""), m.get("employment", ""))}
            for m in report.facts.get("members", [])
        ],
        facts=_fact_rows(report.facts),
    )
    for row in report.results:
        standard = row.get("standard") or {}
        eligible = row["outcome"] == ItemOutcome.ELIGIBLE
        decision = decisions.get(row["item"])
        ctx.items.append(
            ItemRow(
                item=row["item"],
                label=ITEM_LABELS.get(row["item"], row["item"]),
                outcome=row["outcome"],
                outcome_label=OUTCOME_LABELS[ItemOutcome(row["outcome"])],
                asked=bool(row.get("asked")),
                policy_finds_person=bool(row.get("policy_finds_person")),
                standard=(
                    f"v{standard['version']}（{region_names.get(row['item']) or standard['region']}）"
                    if standard
                    else "无"
                ),
                criteria=[
                    CriterionRow(
                        name=CRITERION_NAMES.get(c["name"], c["name"]),
                        outcome=c["outcome"],
                        outcome_label=FAIL_NOT_DECISIVE
                        if eligible and c["outcome"] == Outcome.FAIL
                        else CRITERION_LABELS[Outcome(c["outcome"])],
                        value=c.get("value", ""),
                        threshold=c.get("threshold", ""),
                        unit=c.get("unit", ""),
                        reason=c["reason"],
                        records=[record_label(r, departments) for r in c.get("records", [])],
                    )
                    for c in row.get("criteria", [])
                ],
                to_decide=row["item"] in to_decide,
                final=decision is not None and decision.decision != ItemDecision.Decision.HOME_VISIT,
                **_decision_fields(decision),
            )
        )
    return ctx


def report_html(report: VerificationReport, *, decisions: Mapping[str, ItemDecision] | None = None) -> str:
    """The report as self-contained HTML in the county's language (it is filed with the form)."""
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string(
            "eligibility/pdf/report.html",
            {
                "report": report_context(report, decisions=decisions),
                "generated_at": local_time(timezone.now()),
            },
        )


def report_pdf(report: VerificationReport, *, decisions: Mapping[str, ItemDecision] | None = None) -> bytes:
    return render_pdf(report_html(report, decisions=decisions))


def report_pdf_response(report: VerificationReport) -> HttpResponse:
    """`核对报告-<receipt>-<id>.pdf` as a download; the caller has checked the user's scope."""
    from .services.decisions import latest_decisions

    code = report.application.receipt_code
    return attachment_response(
        report_pdf(report, decisions=latest_decisions(report.application_id)),
        content_type="application/pdf",
        filename=f"核对报告-{code}-{report.pk}.pdf",
        ascii_fallback=f"verification-report-{code}-{report.pk}.pdf",
    )
