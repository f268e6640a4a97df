"""Opening a case from an assistant's decisions, and the centre's changes to its referrals.

Which department handles which item, and what each department is told, live here in one place:
ITEM_DEPARTMENT and DEPARTMENT_NEEDS (documented in docs/referrals.md by the lead).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications.models import Application, ApplicationMember
from assist_center.actors import Actor, account_of
from assist_center.audit import audit_record
from assist_center.errors import ApplicationError, ConflictError, field_error
from assist_center.inputs import clean_text
from assist_center.models import Department
from assist_center.permissions import is_centre
from assist_center.redaction import redact
from assist_center.scopes import person_label
from assist_center.workdays import add_working_days, deadline
from eligibility.rules import CRITERION_NAMES, ITEM_LABELS, ITEMS

from .. import selectors
from ..colours import colour_for
from ..models import Case, DeadlineRule, OutsidePolicyNeed, Referral
from ..permissions import referral_status_allows, require_referral_role
from .actions import applicant_sms, case_close_if_finished, happiness_url, record_colour_change

if TYPE_CHECKING:
    # Imported where used at run time: eligibility's services are loaded after referrals' ready().
    from eligibility.services.decisions import DecidedApplication

S = Referral.Status

# --- routing: which department handles an item ----------------------------------------------

# The responsible department (Department.code, migration assist_center/0004) of each 8+X item. Several
# items of one department travel in one referral.
ITEM_DEPARTMENT: dict[str, str] = {
    "dibao": "civil_affairs",
    "low_income_edge": "civil_affairs",
    "extreme_poverty": "civil_affairs",
    "temporary": "civil_affairs",
    "medical": "medical_security",
    "education": "education",
    "housing": "housing",
    "employment": "human_resources",
    "pension_premium": "human_resources",
    "disaster": "emergency",
    "disability_living": "disabled_federation",
    "disability_care": "disabled_federation",
    "utility_relief": "power_supply",
}
assert set(ITEM_DEPARTMENT) == set(ITEMS), "every assistance item needs a responsible department"


@dataclass(frozen=True)
class DepartmentNeeds:
    """What a department is told beyond the applicant's name, village and its own items' facts."""

    # The applicant's phone, read from the application when the referral is opened in the API
    # (never copied into the brief, which is stored unencrypted).
    contact: bool
    # The household's address, for a home visit or a site survey.
    address: bool
    # The number of people in the household (a per-person standard is computed on it).
    household_size: bool


# security.md, "department staff (own referrals)": phone "when the referral needs contact",
# address "when the referral needs it", income/medical/disability "only what the referral needs".
# Decided per department; no department ever gets members' ID numbers or other items' facts.
DEPARTMENT_NEEDS: dict[str, DepartmentNeeds] = {
    # Dibao and temporary assistance: a home survey (入户调查) and an interview.
    "civil_affairs": DepartmentNeeds(contact=True, address=True, household_size=True),
    # Reimbursement is settled on the insurance records; the office calls for missing invoices.
    "medical_security": DepartmentNeeds(contact=True, address=False, household_size=False),
    # The school contacts the family; the pupil's name is in the item's facts.
    "education": DepartmentNeeds(contact=True, address=False, household_size=False),
    # A site survey of the dwelling.
    "housing": DepartmentNeeds(contact=True, address=True, household_size=True),
    # Job placement talks to the person; the premium is paid on the insurance record.
    "human_resources": DepartmentNeeds(contact=True, address=False, household_size=False),
    # Loss assessment on site.
    "emergency": DepartmentNeeds(contact=True, address=True, household_size=True),
    # Care assessments are done at home.
    "disabled_federation": DepartmentNeeds(contact=True, address=True, household_size=False),
    # The relief is applied to the electricity account at the household's address; no call needed.
    "power_supply": DepartmentNeeds(contact=False, address=True, household_size=False),
}
# Departments added by hand (a joint home visit by health, public security, ...): contact only.
DEFAULT_NEEDS = DepartmentNeeds(contact=True, address=True, household_size=False)

MAX_TITLE = 100
MAX_DAYS = 60


def default_days() -> int:
    return int(getattr(settings, "REFERRAL_DEFAULT_DAYS", 2))


def needs_of(department: Department) -> DepartmentNeeds:
    return DEPARTMENT_NEEDS.get(department.code, DEFAULT_NEEDS)


# --- helpers ---------------------------------------------------------------------------------


def _days(value: Any, field: str = "days") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
        raise field_error(field, _("Enter a number of working days from 1 to %(n)d.") % {"n": MAX_DAYS})
    return value


def deadline_days(department: Department, items: Iterable[str]) -> int:
    """Working days for a referral: department+item rule > department default > the setting (2).

    With several items the longest applies: the department handles them together.
    """
    items = list(items)
    rules = {
        r.item: r.days for r in DeadlineRule.objects.filter(department=department, item__in=[*items, ""])
    }
    fallback = rules.get("", default_days())
    if not items:
        return fallback
    return max(rules.get(item, fallback) for item in items)


def schedule(referral: Referral, *, today: dt.date, start: dt.date, days: int) -> None:
    """Set the deadline fields of an unsaved or locked referral: due date, provisional, colour."""
    dl = deadline(start, days)
    referral.allotted_days = days
    referral.start_date = start
    referral.due_date = dl.due
    referral.provisional = dl.provisional
    referral.paused_since = None
    referral.paused_days = 0
    referral.colour = colour_for(allotted=days, due_date=dl.due, today=today)


def _clean(value: Any) -> Any:
    """Belt and braces: nothing shaped like an ID number or a phone reaches a brief."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def _decision_facts(decision: Any) -> dict[str, str]:
    """The township's decision on the item, its reason and who made it (issue 16): the department
    sees the person's judgement beside the machine check."""
    if decision is None:
        return {}
    return {
        "decision": decision.decision,
        "decision_label": str(decision.get_decision_display()),
        "decision_reason": decision.reason,
        "decided_by": person_label(decision.decided_by),
        "decided_at": timezone.localtime(decision.decided_at).strftime("%Y-%m-%d"),
    }


def _item_facts(report_results: list[dict[str, Any]], item: str, decision: Any = None) -> dict[str, Any]:
    """The verification result of one item: its criteria without the source records (which name
    members and record ids the department does not need), and the township's decision."""
    row = next((r for r in report_results if r.get("item") == item), None)
    if row is None:
        return {
            "item": item,
            "label": ITEM_LABELS.get(item, item),
            "outcome": "",
            "criteria": [],
            **_decision_facts(decision),
        }
    return {
        **_decision_facts(decision),
        "item": item,
        "label": ITEM_LABELS.get(item, item),
        "outcome": row.get("outcome", ""),
        "criteria": [
            {
                "name": CRITERION_NAMES.get(c.get("name", ""), c.get("name", "")),
                "outcome": c.get("outcome", ""),
                "value": c.get("value", ""),
                "threshold": c.get("threshold", ""),
                "unit": c.get("unit", ""),
                "reason": c.get("reason", ""),
            }
            for c in row.get("criteria", [])
        ],
    }


def build_brief(
    *,
    application: Application,
    department: Department,
    items: list[str],
    report_results: list[dict[str, Any]],
    applicant_name: str,
    household_size: int,
    title: str = "",
    note: str = "",
    decisions: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What the department needs to know, and only that (security.md)."""
    needs = needs_of(department)
    decided = decisions or {}
    brief: dict[str, Any] = {
        "applicant_name": applicant_name,
        "township": application.township.name,
        "village": application.village.name,
        "items": [_item_facts(report_results, item, decided.get(item)) for item in items],
        "contact": needs.contact,
    }
    if needs.address:
        brief["address"] = application.address
    if needs.household_size:
        brief["household_size"] = household_size
    if title:
        brief["title"] = title
    if note:
        brief["note"] = note
    return _clean(brief)


def _brief_for(
    case: Case, department: Department, items: list[str], *, title: str = "", note: str = ""
) -> dict[str, Any]:
    from eligibility.services.decisions import latest_decisions, latest_report

    application = case.application
    report = latest_report(application.pk)
    applicant_name, household_size = _household(application)
    return build_brief(
        application=application,
        department=department,
        items=items,
        report_results=list(report.results) if report is not None else [],
        applicant_name=applicant_name,
        household_size=household_size,
        title=title,
        note=note,
        decisions=latest_decisions(application.pk),
    )


# --- opening a case --------------------------------------------------------------------------


def case_open_from_decisions(*, actor: Actor, application_id: int) -> Case:
    """Turn a decided application's approved items into one case with one referral per department.

    Idempotent: an application that already has its case gets it back unchanged. The decision
    itself opens the case through the "application_decided" hook (`on_application_decided`);
    this entry is for a caller outside it (a retry), and reads the decision once.
    """
    from eligibility.services.decisions import decided_application

    with transaction.atomic():
        application = (
            Application.objects.select_for_update(of=("self",))
            .select_related("township", "village")
            .defer("form_pdf")
            .get(pk=application_id)
        )
        existing = Case.objects.filter(application=application).first()
        if existing is not None:
            return existing
        if application.status != Application.Status.DECIDED:
            raise ConflictError(
                _("A case is opened once the application is decided; it is now “%(status)s”.")
                % {"status": application.get_status_display()},
                {"status": application.status},
            )
        return _case_open(actor=actor, decided=decided_application(application))


def on_application_decided(*, decided: DecidedApplication, actor: Actor) -> Case | None:
    """The "application_decided" hook: open the case when something was approved.

    Runs inside the decision's transaction, which holds the application's row lock.
    """
    if not decided.approved_items:
        application_refused_heard(actor=actor, application=decided.application)
        return None
    existing = Case.objects.filter(application=decided.application).first()
    if existing is not None:
        return existing
    return _case_open(actor=actor, decided=decided)


def outside_need_keep(application: Application, *, case: Case | None) -> OutsidePolicyNeed | None:
    """Keep the application's need that no item covers (its note), once, for the charity board."""
    text = application.need_note.strip()
    if not text:
        return None
    existing = OutsidePolicyNeed.objects.filter(application=application).first()
    if existing is not None:
        return existing
    return OutsidePolicyNeed.objects.create(
        case=case,
        application=application,
        township=application.township,
        text=text,
        publish_consent=application.consent_publish,
        share_consent=application.consent_share,
    )


def application_refused_heard(*, actor: Actor, application: Application) -> None:
    """An application refused on every item: the applicant is told, and the outside need is kept.

    Runs in the decision's transaction (the "application_decided" hook). The SMS names no item,
    amount or reason (the refusal reasons are told in person) and no other member; the SMS's
    idempotency key and the need's lookup make a repeated call change nothing.
    """
    sms_id = applicant_sms(
        application,
        template="application_refused",
        params={"receipt": application.receipt_code, "url": happiness_url(application)},
        idempotency_key=f"application-refused:{application.pk}",
    )
    need = outside_need_keep(application, case=None)
    audit_record(
        actor=actor,
        action="application.refused_heard",
        subject=application,
        new={"sms": sms_id, "outside_need": need.pk if need else None},
        region=application.village,
    )


def _household(application: Application) -> tuple[str, int]:
    """The applicant's name and the household's size (supporters are not in it), in one query."""
    rows = list(
        ApplicationMember.objects.filter(application=application)
        .order_by("position", "pk")
        .values_list("role", "name")
    )
    applicant = next((name for role, name in rows if role == ApplicationMember.Role.APPLICANT), "")
    return applicant, sum(1 for role, _name in rows if role != ApplicationMember.Role.SUPPORTER)


def _case_open(*, actor: Actor, decided: DecidedApplication) -> Case:
    """Open the case of a decided application whose row the caller has locked."""
    today = timezone.localdate()
    application = decided.application
    items = list(decided.approved_items)
    if not items:
        raise ApplicationError(_("No item was approved: there is nothing to refer."))
    with transaction.atomic():
        by_department: dict[str, list[str]] = {}
        for item in items:
            by_department.setdefault(ITEM_DEPARTMENT[item], []).append(item)
        departments = {d.code: d for d in Department.objects.filter(code__in=list(by_department))}
        missing = sorted(set(by_department) - set(departments))
        if missing:
            raise ApplicationError(
                _("These departments are not set up: %(codes)s.") % {"codes": "、".join(missing)},
                {"departments": missing},
            )
        results = list(decided.report_results)
        decisions = dict(decided.item_decisions)
        applicant_name, household_size = _household(application)
        case = Case.objects.create(
            application=application, township=application.township, village=application.village
        )
        created: list[Referral] = []
        for code, dept_items in by_department.items():
            department = departments[code]
            referral = Referral(
                case=case,
                department=department,
                township=application.township,
                items=dept_items,
                brief=build_brief(
                    application=application,
                    department=department,
                    items=dept_items,
                    report_results=results,
                    applicant_name=applicant_name,
                    household_size=household_size,
                    decisions=decisions,
                ),
                created_by=account_of(actor),
            )
            schedule(referral, today=today, start=today, days=deadline_days(department, dept_items))
            referral.save()
            created.append(referral)
        outside = outside_need_keep(application, case=case)
        audit_record(
            actor=actor,
            action="case.open",
            subject=case,
            new={
                "application": application.pk,
                "referrals": [
                    {"id": r.pk, "department": r.department.code, "items": r.items, "due_date": r.due_date}
                    for r in created
                ],
                "outside_need": outside.pk if outside else None,
            },
            region=application.village,
        )
    return case


# --- the centre's changes --------------------------------------------------------------------


def _department(department_id: Any) -> Department:
    try:
        return Department.objects.get(pk=int(department_id), takes_referrals=True)
    except (Department.DoesNotExist, ValueError, TypeError):
        raise field_error("department", _("Choose a department that takes referrals.")) from None


def referral_add(
    *, actor: Actor, case_id: int, department_id: int, title: str, days: int | None = None, note: str = ""
) -> Referral:
    """Add a referral by hand (a joint home visit, ...): no items, a title and a note."""
    case = selectors.case_get(user=actor, case_id=case_id)
    if not is_centre(actor):
        raise PermissionDenied
    title = clean_text("title", title, required=True, max_length=MAX_TITLE)
    note = clean_text("note", note, required=False)
    department = _department(department_id)
    today = timezone.localdate()
    with transaction.atomic():
        case = (
            Case.objects.select_for_update(of=("self",))
            .select_related("application", "township", "village")
            .get(pk=case.pk)
        )
        if case.status != Case.Status.OPEN:
            raise ConflictError(_("This case is closed."))
        n = _days(days) if days is not None else deadline_days(department, [])
        referral = Referral(
            case=case,
            department=department,
            township=case.township,
            items=[],
            manual=True,
            title=title,
            note=note,
            brief=_brief_for(case, department, [], title=title, note=note),
            created_by=account_of(actor),
        )
        schedule(referral, today=today, start=today, days=n)
        referral.save()
        audit_record(
            actor=actor,
            action="referral.add",
            subject=referral,
            new={
                "case": case.pk,
                "department": department.code,
                "title": title,
                "due_date": referral.due_date,
            },
            reason=note,
            region=case.village,
            department=department,
        )
    return referral


def _locked(referral_id: int) -> tuple[Case, Referral]:
    """Lock the case, then the referral: one order everywhere, so two actions never deadlock."""
    case_id = Referral.objects.filter(pk=referral_id).values_list("case_id", flat=True).get()
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("application", "township", "village")
        .get(pk=case_id)
    )
    referral = (
        Referral.objects.select_for_update(of=("self",)).select_related("department").get(pk=referral_id)
    )
    return case, referral


def referral_reassign(*, actor: Actor, referral_id: int, department_id: int, reason: str) -> Referral:
    """Hand a referral to another department: the old one is cancelled, a new one starts its clock.

    Allowed while the referral is open or returned. Returns the new referral.
    """
    found = selectors.referral_get(user=actor, referral_id=referral_id)
    require_referral_role(actor, found, "reassign")
    reason = clean_text("reason", reason, required=True)
    department = _department(department_id)
    today = timezone.localdate()
    with transaction.atomic():
        case, old = _locked(found.pk)
        if not referral_status_allows(old, "reassign"):
            raise ConflictError(
                _("This referral is “%(status)s” and can no longer be reassigned.")
                % {"status": old.get_status_display()},
                {"status": old.status},
            )
        if department.pk == old.department_id:
            raise field_error("department", _("The referral is already with this department."))
        now = timezone.now()
        old_status = old.status
        old.status = S.CANCELLED
        old.finished_at = now
        old.note = reason
        old.save(update_fields=["status", "finished_at", "note"])
        new = Referral(
            case=case,
            department=department,
            township=case.township,
            items=list(old.items),
            manual=old.manual,
            title=old.title,
            note=reason,
            brief=_brief_for(
                case, department, list(old.items), title=old.title, note=old.note if old.manual else ""
            ),
            created_by=account_of(actor),
        )
        n = deadline_days(department, old.items) if old.items else old.allotted_days
        schedule(new, today=today, start=today, days=n)
        new.save()
        audit_record(
            actor=actor,
            action="referral.reassign",
            subject=old,
            old={"status": old_status, "department": old.department.code},
            new={"status": S.CANCELLED, "department": department.code, "referral": new.pk},
            reason=reason,
            region=case.village,
            department=old.department,
        )
    return new


def referral_extend(*, actor: Actor, referral_id: int, days: int, reason: str) -> Referral:
    """Give a referral more working days: the due date moves and the colour is recomputed."""
    found = selectors.referral_get(user=actor, referral_id=referral_id)
    require_referral_role(actor, found, "extend")
    days = _days(days)
    reason = clean_text("reason", reason, required=True)
    today = timezone.localdate()
    with transaction.atomic():
        case, referral = _locked(found.pk)
        if not referral_status_allows(referral, "extend"):
            raise ConflictError(
                _("This referral is “%(status)s”: its deadline can no longer change.")
                % {"status": referral.get_status_display()},
                {"status": referral.status},
            )
        old = {
            "due_date": referral.due_date,
            "allotted_days": referral.allotted_days,
            "colour": referral.colour,
        }
        referral.allotted_days += days
        referral.due_date = add_working_days(referral.due_date, days)
        referral.provisional = deadline(
            referral.start_date, referral.allotted_days + referral.paused_days
        ).provisional
        fields = ["allotted_days", "due_date", "provisional"]
        if referral.status in Referral.CLOCK_STATUSES:
            fields += record_colour_change(referral, today=today)
        referral.save(update_fields=fields)
        audit_record(
            actor=actor,
            action="referral.extend",
            subject=referral,
            old=old,
            new={
                "due_date": referral.due_date,
                "allotted_days": referral.allotted_days,
                "colour": referral.colour,
            },
            reason=reason,
            region=case.village,
            department=referral.department,
        )
    return referral


def referral_cancel(*, actor: Actor, referral_id: int, reason: str) -> Referral:
    """The coordinator withdraws a referral (after a return, or when it is not needed).

    If it was the last unfinished one, the case closes in the same transaction.
    """
    found = selectors.referral_get(user=actor, referral_id=referral_id)
    require_referral_role(actor, found, "cancel")
    reason = clean_text("reason", reason, required=True)
    with transaction.atomic():
        case, referral = _locked(found.pk)
        if not referral_status_allows(referral, "cancel"):
            raise ConflictError(
                _("This referral is already “%(status)s”.") % {"status": referral.get_status_display()},
                {"status": referral.status},
            )
        old_status = referral.status
        referral.status = S.CANCELLED
        referral.finished_at = timezone.now()
        referral.save(update_fields=["status", "finished_at"])
        audit_record(
            actor=actor,
            action="referral.cancel",
            subject=referral,
            old={"status": old_status},
            new={"status": S.CANCELLED},
            reason=reason,
            region=case.village,
            department=referral.department,
        )
        case_close_if_finished(actor=actor, case=case)
    return referral
