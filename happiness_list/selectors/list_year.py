"""The household's year on one page: benefits by kind with totals, why each amount, cases, members.

Read for one household only (the resident's verified session, or staff through the household's
scoped fetch), so nothing of another household can enter it: every query filters on the one
household id. Members appear by relationship and masked name; no ID number or phone is read.
The same dict feeds the page, the JSON API and the printed statement.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from applications.models import Application, Household, Person
from assist_center.models import Region
from assist_center.pii import mask_name
from assist_center.scopes import register_scope, scope_households
from benefits.models import BenefitEntry, Enrolment
from eligibility.models import Standard
from eligibility.rules import ITEM_LABELS
from referrals.colours import colour_for
from referrals.models import Case

from ..models import EntryProblem, Guardian, HappinessCard, ReceiptCheck

__all__ = [
    "CHARITY_KIND",
    "YearList",
    "household_year",
    "list_years",
]

# Entries without an assistance item (an organisation's help) are grouped under this kind.
CHARITY_KIND = "charity"
STATUS_EXPECTED = "expected"
STATUS_PAID = "paid"
STATUS_CONFIRMED = "confirmed"


def _scope_by_household(qs: Any, user: Any) -> Any:
    return scope_households(
        qs, user, township_field="household__township", village_field="household__village"
    )


def _scope_problems(qs: Any, user: Any) -> Any:
    return scope_households(qs, user, township_field="township", village_field="household__village")


register_scope(HappinessCard, _scope_by_household)
register_scope(Guardian, _scope_by_household)
register_scope(EntryProblem, _scope_problems)
register_scope(ReceiptCheck, _scope_problems)


def kind_label(kind: str) -> str:
    if kind == CHARITY_KIND:
        return _("Help from social organisations")
    return ITEM_LABELS.get(kind, kind)


def status_label(status: str) -> str:
    return {
        STATUS_EXPECTED: _("Expected"),
        STATUS_PAID: _("Paid"),
        STATUS_CONFIRMED: _("Confirmed received"),
    }[status]


def _yuan(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _month_after(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _entry_status(entry: BenefitEntry, *, this_month: dt.date, confirmed: set[int]) -> str:
    if entry.pk in confirmed:
        return STATUS_CONFIRMED
    if entry.paid_on is not None or entry.source != BenefitEntry.Source.ENROLMENT_MONTH:
        return STATUS_PAID
    # A month of the rolls is written at the month's start and paid during it: until the month is
    # over the household may not have it yet.
    return STATUS_PAID if entry.period < this_month else STATUS_EXPECTED


@dataclass
class _Standards:
    township: Region
    cache: dict[tuple[str, int], Standard | None] = field(default_factory=dict)

    def of(self, item: str, version: int | None) -> Standard | None:
        if version is None or not item:
            return None
        key = (item, version)
        if key not in self.cache:
            regions = [r for r in (self.township.pk, self.township.parent_id) if r is not None]
            rows = Standard.objects.filter(item=item, version=version, region_id__in=regions).select_related(
                "region"
            )
            found = sorted(rows, key=lambda s: regions.index(s.region_id))
            self.cache[key] = found[0] if found else None
        return self.cache[key]


def _why(entry: BenefitEntry, enrolment: Enrolment | None, standards: _Standards) -> dict[str, Any]:
    """The standard used (item, area, date, version) and the formula of the amount, as far as known."""
    out: dict[str, Any] = {"standard": None, "formula": ""}
    standard = standards.of(entry.item, enrolment.standard_version if enrolment else None)
    if standard is not None:
        out["standard"] = {
            "item": kind_label(standard.item),
            "version": standard.version,
            "area": standard.region.name,
            "effective_from": standard.effective_from.isoformat(),
        }
    if enrolment is not None and enrolment.monthly_amount is not None:
        per_person = standard.params.get("amount_per_person_month") if standard is not None else None
        if standard is not None and standard.item == "dibao" and per_person:
            out["formula"] = _(
                "Standard %(standard)s yuan per person a month, less the household's income per person, "
                "times its members: %(amount)s yuan a month"
            ) % {"standard": per_person, "amount": _yuan(enrolment.monthly_amount)}
        else:
            out["formula"] = _("%(amount)s yuan a month, as decided for the enrolment since %(since)s") % {
                "amount": _yuan(enrolment.monthly_amount),
                "since": enrolment.since.isoformat(),
            }
    elif entry.source == BenefitEntry.Source.PAYMENT_FILE:
        out["formula"] = _("As paid in the department's payment file")
    elif entry.source == BenefitEntry.Source.REFERRAL_OUTCOME:
        out["formula"] = _("As granted by the department when your case was decided")
    elif entry.source == BenefitEntry.Source.CHARITY_COMPLETION:
        out["formula"] = _("As delivered by the organisation and confirmed by the centre")
    return out


def _problem_dict(problem: EntryProblem, today: dt.date) -> dict[str, Any]:
    colour = (
        colour_for(allotted=problem.allotted_days, due_date=problem.due_date, today=today)
        if problem.status == EntryProblem.Status.OPEN
        else "none"
    )
    return {
        "id": problem.pk,
        "kind": problem.kind,
        "kind_label": str(problem.get_kind_display()),
        "status": problem.status,
        "status_label": str(problem.get_status_display()),
        "due_date": problem.due_date.isoformat(),
        "colour": str(colour),
        "answer": problem.answer,
    }


def list_years(household_id: int, *, today: dt.date | None = None) -> list[int]:
    """The years with any entry for the household, newest first, always including this year."""
    year = (today or timezone.localdate()).year
    years = {d.year for d in BenefitEntry.objects.filter(household_id=household_id).dates("period", "year")}
    years.add(year)
    return sorted(years, reverse=True)


YearList = dict[str, Any]


def household_year(*, household_id: int, year: int, today: dt.date | None = None) -> YearList:
    """The household's list for `year`: the dict the page, the JSON and the statement show."""
    today = today or timezone.localdate()
    this_month = today.replace(day=1)
    household = Household.objects.select_related("village", "township", "township__parent").get(
        pk=household_id
    )
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    entries = list(
        BenefitEntry.objects.filter(household_id=household_id, period__gte=start, period__lte=end).order_by(
            "period", "id"
        )
    )
    enrolment_ids = {e.enrolment_id for e in entries if e.enrolment_id}
    enrolments = {
        e.pk: e
        for e in Enrolment.objects.filter(household_id=household_id)
        .filter(pk__in=enrolment_ids)
        .select_related("department")
    }
    open_enrolments = list(
        Enrolment.objects.filter(household_id=household_id)
        .exclude(state=Enrolment.State.ENDED)
        .select_related("department", "person")
        .order_by("item", "since", "id")
    )
    for e in open_enrolments:
        enrolments.setdefault(e.pk, e)
    entry_ids = [e.pk for e in entries]
    confirmed = set(
        ReceiptCheck.objects.filter(
            household_id=household_id, entry_id__in=entry_ids, answer=ReceiptCheck.Answer.YES
        ).values_list("entry_id", flat=True)
    )
    problems: dict[int, EntryProblem] = {}
    for p in EntryProblem.objects.filter(household_id=household_id, entry_id__in=entry_ids).order_by(
        "created_at", "id"
    ):
        # The newest problem of an entry is the one shown (an open one, or the latest answered).
        problems[p.entry_id] = p
    standards = _Standards(township=household.township)
    persons = {
        p.pk: p
        for p in Person.objects.filter(household_id=household_id).only(
            "id", "name", "relation", "registry_status"
        )
    }

    groups: OrderedDict[str, dict[str, Any]] = OrderedDict()
    grand_total = Decimal("0")
    for entry in entries:
        kind = entry.item or CHARITY_KIND
        group = groups.setdefault(
            kind,
            {"kind": kind, "label": kind_label(kind), "total": Decimal("0"), "in_kind": [], "entries": []},
        )
        enrolment = enrolments.get(entry.enrolment_id) if entry.enrolment_id else None
        status = _entry_status(entry, this_month=this_month, confirmed=confirmed)
        person = persons.get(entry.person_id) if entry.person_id else None
        if entry.amount is not None:
            group["total"] += entry.amount
            grand_total += entry.amount
        if entry.in_kind:
            group["in_kind"].append(entry.in_kind)
        problem = problems.get(entry.pk)
        group["entries"].append(
            {
                "id": entry.pk,
                "period": f"{entry.period:%Y-%m}",
                "provider": entry.provider_name or entry.provider_code or "",
                "amount": _yuan(entry.amount),
                "in_kind": entry.in_kind,
                "for_member": (
                    {"relation": str(person.get_relation_display()), "name": mask_name(person.name)}
                    if person is not None
                    else None
                ),
                "status": status,
                "status_label": status_label(status),
                "paid_on": entry.paid_on.isoformat() if entry.paid_on else None,
                "why": _why(entry, enrolment, standards),
                "problem": _problem_dict(problem, today) if problem is not None else None,
            }
        )
    for group in groups.values():
        group["total"] = _yuan(group["total"])

    recurring = []
    latest_period: dict[int, dt.date] = {}
    for entry in entries:
        if entry.enrolment_id:
            latest_period[entry.enrolment_id] = max(
                latest_period.get(entry.enrolment_id, entry.period), entry.period
            )
    for e in open_enrolments:
        last = latest_period.get(e.pk)
        nxt: dt.date | None = (
            _month_after(last) if last is not None else max(e.since.replace(day=1), this_month)
        )
        if e.until is not None and nxt is not None and nxt > e.until:
            nxt = None
        if e.state == Enrolment.State.GRADUAL_EXIT and e.grace_end is not None and nxt and nxt > e.grace_end:
            nxt = None
        recurring.append(
            {
                "kind": e.item,
                "label": kind_label(e.item),
                "provider": e.department.name if e.department else "",
                "monthly_amount": _yuan(e.monthly_amount),
                "in_kind": e.kind,
                "state": e.state,
                "state_label": str(e.get_state_display()),
                "since": e.since.isoformat(),
                "next_expected": nxt.isoformat() if nxt else None,
            }
        )

    cases = []
    applications = (
        Application.objects.filter(household_id=household_id)
        .order_by("-created_at", "-id")
        .only("id", "status", "created_at", "needs", "receipt_code")
    )
    case_by_app = {
        c.application_id: c
        for c in Case.objects.filter(application__household_id=household_id).only(
            "id", "application_id", "status", "opened_at", "closed_at"
        )
    }
    for a in applications:
        c = case_by_app.get(a.pk)
        cases.append(
            {
                "application_id": a.pk,
                "receipt_code": a.receipt_code,
                "submitted": timezone.localtime(a.created_at).date().isoformat(),
                "needs": [kind_label(n) for n in a.needs],
                "application_status": a.status,
                "application_status_label": str(a.get_status_display()),
                "case_id": c.pk if c else None,
                "case_status": c.status if c else None,
                "case_status_label": str(c.get_status_display()) if c else None,
                "closed": timezone.localtime(c.closed_at).date().isoformat() if c and c.closed_at else None,
            }
        )

    members = [
        {"relation": str(p.get_relation_display()), "name": mask_name(p.name)}
        for p in persons.values()
        if p.registry_status == Person.RegistryStatus.REGISTERED
    ]
    return {
        "year": year,
        "years": list_years(household_id, today=today),
        "household": {
            "county": household.township.parent.name if household.township.parent else "",
            "township": household.township.name,
            "village": household.village.name,
            "members": members,
        },
        "total": _yuan(grand_total),
        "groups": list(groups.values()),
        "recurring": recurring,
        "cases": cases,
    }
