"""Reads of the fund ledger: the public rows, totals by SQL, overdue pledges, undisclosed leftovers.

Everything here is public data (donor names only with consent), except the organisation scoping
of `entries_of_organisation`, which the portal uses so that a member sees their own ledger.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from .models import FundEntry, Organisation, Project

K = FundEntry.Kind
ZERO = Decimal("0.00")
# The 2026 disclosure rules: leftover funds disclosed within 3 months of a project's end.
LEFTOVER_DISCLOSURE_MONTHS = 3


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` plus `months` calendar months, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def current(qs: QuerySet[FundEntry]) -> QuerySet[FundEntry]:
    """Entries that no correction replaces: the ones every total counts."""
    return qs.filter(correction__isnull=True)


@dataclass(frozen=True)
class Totals:
    pledged: Decimal
    received: Decimal
    spent: Decimal

    @property
    def balance(self) -> Decimal:
        return self.received - self.spent

    @property
    def outstanding(self) -> Decimal:
        return max(self.pledged - self.received, ZERO)


def _sum(kind: str) -> Any:
    return Coalesce(Sum("amount", filter=Q(kind=kind)), Value(ZERO))


def totals(qs: QuerySet[FundEntry] | None = None) -> Totals:
    """Pledged, received and spent over the current entries of `qs` (default: the whole ledger), in SQL."""
    base = current(qs if qs is not None else FundEntry.objects.all())
    row = base.aggregate(pledged=_sum(K.PLEDGE), received=_sum(K.RECEIPT), spent=_sum(K.SPENDING))
    return Totals(pledged=row["pledged"], received=row["received"], spent=row["spent"])


def organisation_totals() -> list[dict[str, Any]]:
    """One row per organisation with ledger entries: name, kind, pledged, received, spent (SQL)."""
    rows = (
        current(FundEntry.objects.all())
        .values("organisation_id", "organisation__name", "organisation__kind")
        .annotate(pledged=_sum(K.PLEDGE), received=_sum(K.RECEIPT), spent=_sum(K.SPENDING))
        .order_by("-received", "organisation__name")
    )
    labels = dict(Organisation.Kind.choices)
    return [{**r, "kind_label": labels.get(r["organisation__kind"], r["organisation__kind"])} for r in rows]


def project_totals() -> dict[int, Totals]:
    """Totals per project id, in one grouped query."""
    rows = (
        current(FundEntry.objects.filter(project__isnull=False))
        .values("project_id")
        .annotate(pledged=_sum(K.PLEDGE), received=_sum(K.RECEIPT), spent=_sum(K.SPENDING))
    )
    return {r["project_id"]: Totals(r["pledged"], r["received"], r["spent"]) for r in rows}


def chain_roots(entries: Sequence[FundEntry]) -> dict[int, int]:
    """entry id -> id of the first entry of its correction chain (what a receipt may point at)."""
    by_id = {e.pk: e for e in entries}
    roots: dict[int, int] = {}
    for e in entries:
        root = e
        seen = set()
        while root.corrects_id is not None and root.corrects_id in by_id and root.pk not in seen:
            seen.add(root.pk)
            root = by_id[root.corrects_id]
        roots[e.pk] = root.pk
    return roots


@dataclass(frozen=True)
class PledgeState:
    pledge: FundEntry
    received: Decimal
    overdue: bool


def pledge_states(*, today: dt.date, organisation: Organisation | None = None) -> list[PledgeState]:
    """Every current pledge with what was received against it, and whether it is overdue.

    A receipt may point at a pledge that was later corrected: it counts for the correction, so the
    chain is followed (pledges and their receipts are few; two queries in all).
    """
    pledges_qs = FundEntry.objects.filter(kind=K.PLEDGE).select_related("organisation", "project")
    receipts_qs = FundEntry.objects.filter(kind=K.RECEIPT, pledge__isnull=False, correction__isnull=True)
    if organisation is not None:
        pledges_qs = pledges_qs.filter(organisation=organisation)
        receipts_qs = receipts_qs.filter(organisation=organisation)
    pledges = list(
        pledges_qs.annotate(is_corrected=Exists(FundEntry.objects.filter(corrects=OuterRef("pk"))))
    )
    roots = chain_roots(pledges)
    received: dict[int, Decimal] = {}
    for pledge_id, amount in receipts_qs.values_list("pledge_id", "amount"):
        root = roots.get(pledge_id, pledge_id)
        received[root] = received.get(root, ZERO) + amount
    states = []
    for p in pledges:
        if p.is_corrected:
            continue
        got = received.get(roots[p.pk], ZERO)
        overdue = p.due_on is not None and p.due_on < today and got < p.amount
        states.append(PledgeState(pledge=p, received=got, overdue=overdue))
    return states


def overdue_pledges(*, today: dt.date, organisation: Organisation | None = None) -> list[PledgeState]:
    return [s for s in pledge_states(today=today, organisation=organisation) if s.overdue]


def leftover_deadline(project: Project) -> dt.date | None:
    if project.ended_on is None:
        return None
    return add_months(project.ended_on, LEFTOVER_DISCLOSURE_MONTHS)


def _has_leftover() -> Exists:
    return Exists(current(FundEntry.objects.filter(project=OuterRef("pk"), kind=K.LEFTOVER)))


def projects_with_undisclosed_leftover(*, today: dt.date) -> QuerySet[Project]:
    """Ended projects past their 3-month disclosure deadline with no leftover disclosure (SQL)."""
    # ended_on + 3 months < today  <=>  ended_on < today - 3 months (clamped the same way).
    cutoff = add_months(today, -LEFTOVER_DISCLOSURE_MONTHS)
    return (
        Project.objects.filter(status__in=(Project.Status.COMPLETED, Project.Status.TERMINATED))
        .filter(ended_on__lt=cutoff)
        .exclude(_has_leftover())
        .select_related("organisation")
    )


def leftover_is_overdue(project: Project, *, today: dt.date) -> bool:
    deadline = leftover_deadline(project)
    if deadline is None or today <= deadline:
        return False
    return not current(FundEntry.objects.filter(project=project, kind=K.LEFTOVER)).exists()


def ledger_rows(
    *,
    organisation: Organisation | None = None,
    project: Project | None = None,
    kind: str | None = None,
    year: int | None = None,
) -> QuerySet[FundEntry]:
    """The public ledger, corrected entries included (shown as replaced), newest first."""
    qs = FundEntry.objects.select_related("organisation", "project", "corrects", "correction").annotate(
        is_corrected=Exists(FundEntry.objects.filter(corrects=OuterRef("pk")))
    )
    if organisation is not None:
        qs = qs.filter(organisation=organisation)
    if project is not None:
        qs = qs.filter(project=project)
    if kind:
        qs = qs.filter(kind=kind)
    if year:
        qs = qs.filter(occurred_on__year=year)
    return qs.order_by("-occurred_on", "-id")


def entries_of_organisation(organisation: Organisation) -> QuerySet[FundEntry]:
    """The portal's own-ledger list; another organisation's entries are simply not in it."""
    return ledger_rows(organisation=organisation)


def entry_of_organisation(organisation: Organisation, public_id: str) -> FundEntry | None:
    return ledger_rows(organisation=organisation).filter(public_id=public_id).first()


def ledger_years() -> list[int]:
    return sorted({d.year for d in FundEntry.objects.dates("occurred_on", "year")}, reverse=True)
