"""Omission (遗漏) and duplicate (重复) flags: the nightly check, and the township's resolution.

Omission: the rolls (an enrolment) or the latest verification (an item found eligible and not
rejected) expect a benefit of an item, none of that item arrived in the expected period, and no
referral with that item is pending.

- An enrolment with a monthly amount expects an entry of its item for every month it covers; the
  check month is the last complete month (an enrolment since its last day, or ended on its first,
  covers it). An enrolment in kind expects one entry of its item in the last twelve months, from
  the month after it began.
- A verification report expects a benefit of each eligible item by the end of the month after the
  report's month, unless the township rejected the item or the department has decided on it since.

Duplicate: the same item from two providers for overlapping periods (two entries of one month, or
two enrolments whose date ranges overlap: an end on the 31st and a start on the 1st is adjacent,
not overlapping); the same event relieved twice (two entries of a one-off relief item from one
provider in the same month); an organisation's help duplicating a benefit of that item paid in the
same month or the two before.

Once-only and proportional: the night's FlagCheckRun row (unique day, under an advisory lock)
records how far the ledger, the roll changes, the reports, the decisions and the referral history
were read (primary keys); the next night reads the households of the rows past those marks only.
When the check month moves on (the first night of a month), the households the new month expects
something for are re-read as well: time alone can make an omission. An open omission of the check
month that a re-read household no longer shows (the payment arrived late) is closed by the system
with its reason, audited like a cadre's resolution.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.models import Household
from assist_center.actors import Actor, account_of
from assist_center.audit import audit_record
from assist_center.errors import ConflictError, field_error
from assist_center.permissions import is_centre
from assist_center.scopes import get_in_scope_or_404, register_scope, scope_households
from benefits.models import BenefitEntry, Enrolment, EnrolmentEvent
from eligibility.models import ItemDecision, VerificationReport
from eligibility.rules import ITEM_LABELS
from referrals.models import Case, Referral, ReferralOutcome

from ..models import FlagCheckRun, ListFlag

__all__ = [
    "CHARITY_ITEMS",
    "EVENT_ITEMS",
    "check_month_of",
    "entry_evidence",
    "flag_check_nightly",
    "flag_raise",
    "flag_resolve",
    "flags_detect",
    "flags_raise_for",
]

F = ListFlag
# One-off relief for an event: two payments of one of these in a month relieve the event twice.
EVENT_ITEMS = frozenset({"temporary", "disaster"})
# A 公益谷 need category that covers the same need as an assistance item.
CHARITY_ITEMS = {
    "education": "education",
    "housing": "housing",
    "employment": "employment",
    "medical_escort": "medical",
}
CHARITY_LOOKBACK_MONTHS = 2
WINDOW_MONTHS = 12
CHUNK = 500
# pg_advisory_xact_lock key of the nightly check ("hlflags" in ASCII, truncated to 63 bits).
LOCK_KEY = 0x686C666C616773
MAX_NOTE = 500


def _scope_flags(qs: Any, user: Any) -> Any:
    return scope_households(qs, user, township_field="township", village_field="household__village")


register_scope(ListFlag, _scope_flags)


# --- months ----------------------------------------------------------------------------------


def _add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def _month_end(month: dt.date) -> dt.date:
    return _add_months(month, 1) - dt.timedelta(days=1)


def check_month_of(today: dt.date) -> dt.date:
    """The last complete month: the one whose expected benefits should have arrived."""
    return _add_months(today.replace(day=1), -1)


# --- detection -------------------------------------------------------------------------------


@dataclass
class Finding:
    household_id: int
    kind: str
    reason: str
    item: str
    period: dt.date
    key: str
    evidence: list[dict[str, Any]] = field(default_factory=list)


def entry_evidence(e: BenefitEntry) -> dict[str, Any]:
    amount = f"{e.amount:.2f} 元" if e.amount is not None else e.in_kind
    return {
        "type": "entry",
        "id": e.pk,
        "label": f"{e.period:%Y-%m} {ITEM_LABELS.get(e.item, e.item)} {e.provider_name} {amount}".strip(),
    }


def _enrolment_ev(e: Enrolment) -> dict[str, Any]:
    end = e.ended_on.isoformat() if e.ended_on else ""
    return {
        "type": "enrolment",
        "id": e.pk,
        "label": f"{ITEM_LABELS.get(e.item, e.item)} {e.since.isoformat()}–{end}",
    }


def _enrolment_end(e: Enrolment) -> dt.date:
    if e.state == Enrolment.State.ENDED and e.ended_on is not None:
        return e.ended_on
    return e.until or dt.date.max


def _covers(e: Enrolment, first: dt.date, last: dt.date) -> bool:
    return e.since <= last and _enrolment_end(e) >= first


def _person_match(enrolment: Enrolment, entry: BenefitEntry) -> bool:
    return enrolment.person_id is None or entry.person_id in (None, enrolment.person_id)


@dataclass
class _Data:
    entries: dict[int, list[BenefitEntry]]
    enrolments: dict[int, list[Enrolment]]
    pending: dict[int, set[str]]
    reports: dict[int, VerificationReport]
    rejected: dict[int, set[str]]
    decided_after: dict[int, set[str]]


def _load(household_ids: list[int], month: dt.date, today: dt.date) -> _Data:
    window_start = _add_months(month, -(WINDOW_MONTHS - 1))
    entries: dict[int, list[BenefitEntry]] = defaultdict(list)
    for e in BenefitEntry.objects.filter(
        household_id__in=household_ids, period__gte=window_start, period__lte=today
    ).order_by("period", "id"):
        entries[e.household_id].append(e)
    enrolments: dict[int, list[Enrolment]] = defaultdict(list)
    for en in Enrolment.objects.filter(household_id__in=household_ids).exclude(
        state=Enrolment.State.ENDED, ended_on__lt=window_start
    ):
        enrolments[en.household_id].append(en)
    pending: dict[int, set[str]] = defaultdict(set)
    for hh, items in Referral.objects.filter(
        case__application__household_id__in=household_ids, status__in=Referral.OPEN_STATUSES
    ).values_list("case__application__household_id", "items"):
        pending[hh].update(items or ())
    reports: dict[int, VerificationReport] = {
        int(r.application.household_id): r  # type: ignore[arg-type]
        for r in VerificationReport.objects.filter(application__household_id__in=household_ids)
        .select_related("application")
        .order_by("application__household_id", "-created_at", "-id")
        .distinct("application__household_id")
    }
    rejected: dict[int, set[str]] = defaultdict(set)
    decided_after: dict[int, set[str]] = defaultdict(set)
    if reports:
        by_app = {r.application_id: r for r in reports.values()}
        latest: dict[tuple[int, str], str] = {}
        for app_id, item, decision in (
            ItemDecision.objects.filter(application_id__in=by_app)
            .order_by("application_id", "item", "-decided_at", "-id")
            .distinct("application_id", "item")
            .values_list("application_id", "item", "decision")
        ):
            latest[(app_id, item)] = decision
        for (app_id, item), decision in latest.items():
            if decision == ItemDecision.Decision.REJECT:
                rejected[int(by_app[app_id].application.household_id)].add(item)  # type: ignore[arg-type]
        earliest = min(r.created_at for r in reports.values())
        for hh, item, decided_at in ReferralOutcome.objects.filter(
            referral__case__application__household_id__in=household_ids, decided_at__gte=earliest
        ).values_list("referral__case__application__household_id", "item", "decided_at"):
            report = reports.get(hh)
            if report is not None and decided_at >= report.created_at:
                decided_after[hh].add(item)
    return _Data(entries, enrolments, pending, reports, rejected, decided_after)


def _omissions(hh: int, d: _Data, month: dt.date) -> Iterable[Finding]:
    first, last = month, _month_end(month)
    entries = d.entries.get(hh, [])
    pending = d.pending.get(hh, set())
    for en in d.enrolments.get(hh, []):
        if en.item in pending or not _covers(en, first, last):
            continue
        if en.monthly_amount is not None:
            arrived = any(e.item == en.item and e.period == month and _person_match(en, e) for e in entries)
            if not arrived:
                yield Finding(
                    hh,
                    F.Kind.OMISSION,
                    F.Reason.ENROLLED_NOT_PAID,
                    en.item,
                    month,
                    f"omission:enrolment:{en.pk}:{month:%Y-%m}",
                    [_enrolment_ev(en)],
                )
            continue
        # In kind: one delivery a year, the first expected in the month after the enrolment began.
        begun = en.since.replace(day=1)
        if begun >= month:
            continue
        window_start = max(begun, _add_months(month, -(WINDOW_MONTHS - 1)))
        if not any(
            e.item == en.item and window_start <= e.period <= month and _person_match(en, e) for e in entries
        ):
            yield Finding(
                hh,
                F.Kind.OMISSION,
                F.Reason.ENROLLED_NOT_PAID,
                en.item,
                month,
                f"omission:enrolment:{en.pk}:{month:%Y-%m}",
                [_enrolment_ev(en)],
            )
    report = d.reports.get(hh)
    if report is None:
        return
    report_month = timezone.localdate(report.created_at).replace(day=1)
    if _add_months(report_month, 1) > month:
        return  # expected by the end of the month after the report's: not over yet
    rejected = d.rejected.get(hh, set())
    decided = d.decided_after.get(hh, set())
    enrolled = {en.item for en in d.enrolments.get(hh, []) if _enrolment_end(en) >= report_month}
    for result in report.results or ():
        item = result.get("item")
        if result.get("outcome") != "eligible" or not item:
            continue
        if item in rejected or item in decided or item in pending or item in enrolled:
            continue
        if any(e.item == item and e.period >= report_month for e in entries):
            continue
        yield Finding(
            hh,
            F.Kind.OMISSION,
            F.Reason.ELIGIBLE_NOT_PAID,
            item,
            _add_months(report_month, 1),
            f"omission:report:{report.pk}:{item}",
            [
                {
                    "type": "report",
                    "id": report.pk,
                    "label": _("Verification of %(date)s: eligible for %(item)s")
                    % {
                        "date": timezone.localdate(report.created_at).isoformat(),
                        "item": ITEM_LABELS.get(item, item),
                    },
                }
            ],
        )


def _is_charity(e: BenefitEntry) -> bool:
    return e.source == BenefitEntry.Source.CHARITY_COMPLETION


def _ids(entries: Iterable[BenefitEntry]) -> str:
    return ",".join(str(e.pk) for e in sorted(entries, key=lambda e: e.pk))


def _duplicates(hh: int, d: _Data) -> Iterable[Finding]:
    entries = d.entries.get(hh, [])
    government = [e for e in entries if not _is_charity(e) and e.item]
    groups: dict[tuple[str, dt.date, int | None], list[BenefitEntry]] = defaultdict(list)
    for e in government:
        groups[(e.item, e.period, e.person_id)].append(e)
    for (item, period, _person), group in groups.items():
        providers = {e.provider_code for e in group}
        if len(providers) > 1:
            yield Finding(
                hh,
                F.Kind.DUPLICATE,
                F.Reason.TWO_PROVIDERS,
                item,
                period,
                f"duplicate:providers:{_ids(group)}",
                [entry_evidence(e) for e in group],
            )
        elif item in EVENT_ITEMS and len(group) > 1:
            yield Finding(
                hh,
                F.Kind.DUPLICATE,
                F.Reason.EVENT_TWICE,
                item,
                period,
                f"duplicate:event:{_ids(group)}",
                [entry_evidence(e) for e in group],
            )
    enrolments = sorted(d.enrolments.get(hh, []), key=lambda e: (e.since, e.pk))
    for i, a in enumerate(enrolments):
        for b in enrolments[i + 1 :]:
            if a.item != b.item or a.department_id == b.department_id:
                continue
            if a.person_id is not None and b.person_id is not None and a.person_id != b.person_id:
                continue
            if b.since <= _enrolment_end(a) and a.since <= _enrolment_end(b):
                yield Finding(
                    hh,
                    F.Kind.DUPLICATE,
                    F.Reason.TWO_PROVIDERS,
                    a.item,
                    max(a.since, b.since).replace(day=1),
                    f"duplicate:enrolments:{a.pk}:{b.pk}",
                    [_enrolment_ev(a), _enrolment_ev(b)],
                )
    for c in entries:
        mapped = CHARITY_ITEMS.get(c.item) if _is_charity(c) else None
        if mapped is None:
            continue
        item = mapped
        since = _add_months(c.period, -CHARITY_LOOKBACK_MONTHS)
        paid = [e for e in government if e.item == item and since <= e.period <= c.period]
        if paid:
            yield Finding(
                hh,
                F.Kind.DUPLICATE,
                F.Reason.CHARITY_DUPLICATES_PAID,
                item,
                c.period,
                f"duplicate:charity:{c.pk}:{_ids(paid)}",
                [entry_evidence(c), *(entry_evidence(e) for e in paid)],
            )


def flags_detect(household_ids: Iterable[int], *, today: dt.date) -> list[Finding]:
    """Every omission and duplicate of these households as of `today` (nothing written)."""
    month = check_month_of(today)
    ids = sorted(set(household_ids))
    found: list[Finding] = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        data = _load(chunk, month, today)
        for hh in chunk:
            found.extend(_omissions(hh, data, month))
            found.extend(_duplicates(hh, data))
    return found


def _write(findings: list[Finding]) -> int:
    """Insert the findings not raised before (any status); return how many are new."""
    if not findings:
        return 0
    townships = dict(
        Household.objects.filter(pk__in={f.household_id for f in findings}).values_list("pk", "township_id")
    )
    rows = [
        ListFlag(
            household_id=f.household_id,
            township_id=townships[f.household_id],
            kind=f.kind,
            reason=f.reason,
            item=f.item,
            period=f.period,
            evidence=f.evidence,
            dedupe_key=f.key[:200],
        )
        for f in findings
        if f.household_id in townships
    ]
    # Only the findings' own keys are read (no count of the whole table): a resolved or open flag
    # of the same finding stays as it is; a concurrent twin is dropped by the unique key.
    seen: set[str] = set()
    for start in range(0, len(rows), 1000):
        keys = [r.dedupe_key for r in rows[start : start + 1000]]
        seen.update(ListFlag.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
    fresh = {r.dedupe_key: r for r in rows if r.dedupe_key not in seen}
    ListFlag.objects.bulk_create(list(fresh.values()), ignore_conflicts=True, batch_size=1000)
    return len(fresh)


# --- the nightly run -------------------------------------------------------------------------


def _max_id(qs: Any, field_name: str = "pk") -> int:
    return int(qs.aggregate(m=Max(field_name))["m"] or 0)


def _changed(prev: FlagCheckRun | None, marks: dict[str, int]) -> set[int]:
    """Households with a ledger entry, roll change, report, decision or referral change past the marks."""
    old = {k: getattr(prev, k) if prev is not None else 0 for k in marks}
    households: set[int] = set()
    households.update(
        BenefitEntry.objects.filter(pk__gt=old["entry_mark"], pk__lte=marks["entry_mark"])
        .values_list("household_id", flat=True)
        .distinct()
    )
    households.update(
        EnrolmentEvent.objects.filter(pk__gt=old["event_mark"], pk__lte=marks["event_mark"])
        .values_list("enrolment__household_id", flat=True)
        .distinct()
    )
    households.update(
        VerificationReport.objects.filter(pk__gt=old["report_mark"], pk__lte=marks["report_mark"])
        .values_list("application__household_id", flat=True)
        .distinct()
    )
    households.update(
        ItemDecision.objects.filter(pk__gt=old["decision_mark"], pk__lte=marks["decision_mark"])
        .values_list("application__household_id", flat=True)
        .distinct()
    )
    cases = (
        Referral.history.filter(history_id__gt=old["referral_mark"], history_id__lte=marks["referral_mark"])
        .values_list("case_id", flat=True)
        .distinct()
    )
    households.update(Case.objects.filter(pk__in=cases).values_list("application__household_id", flat=True))
    households.discard(None)  # type: ignore[arg-type]
    return households


def _expected_in(month: dt.date) -> set[int]:
    """Households the month expects something of: an enrolment covering it, a report due in it."""
    first, last = month, _month_end(month)
    households = set(
        Enrolment.objects.filter(since__lte=last)
        .exclude(state=Enrolment.State.ENDED, ended_on__lt=first)
        .values_list("household_id", flat=True)
        .distinct()
    )
    report_month = _add_months(month, -1)
    households.update(
        VerificationReport.objects.filter(
            created_at__date__gte=report_month, created_at__date__lte=_month_end(report_month)
        )
        .values_list("application__household_id", flat=True)
        .distinct()
    )
    return households


AUTO_NOTE = "系统复核：该月待遇已到账（或已转办、已停止在册），遗漏不再成立。"


def _settle(households: set[int], findings: list[Finding], month: dt.date) -> int:
    """Close the open enrolment omissions of the check month that tonight's data no longer shows
    (the month's benefit arrived late, a referral is now pending, the enrolment was corrected)."""
    if not households:
        return 0
    still = {f.key for f in findings}
    stale = [
        flag
        for flag in ListFlag.objects.filter(
            household_id__in=households,
            status=F.Status.OPEN,
            kind=F.Kind.OMISSION,
            reason=F.Reason.ENROLLED_NOT_PAID,
            period=month,
        ).select_related("township")
        if flag.dedupe_key not in still
    ]
    now = timezone.now()
    for flag in stale:
        ListFlag.objects.filter(pk=flag.pk, status=F.Status.OPEN).update(
            status=F.Status.RESOLVED,
            resolution=F.Resolution.CORRECTED,
            resolution_note=AUTO_NOTE,
            resolved_at=now,
        )
        audit_record(
            actor=None,
            action="happiness.flag_resolve",
            subject=flag,
            old={"status": F.Status.OPEN},
            new={"status": F.Status.RESOLVED, "resolution": F.Resolution.CORRECTED},
            reason=AUTO_NOTE,
            region=flag.township,
        )
    return len(stale)


def flag_check_nightly(*, today: dt.date | None = None) -> FlagCheckRun | None:
    """Run the night's check once; None when tonight's run exists already (another beat, a retry)."""
    today = today or timezone.localdate()
    month = check_month_of(today)
    started = time.monotonic()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        if FlagCheckRun.objects.filter(day=today).exists():
            return None
        prev = FlagCheckRun.objects.filter(day__lt=today).order_by("-day").first()
        marks = {
            "entry_mark": _max_id(BenefitEntry.objects.all()),
            "event_mark": _max_id(EnrolmentEvent.objects.all()),
            "report_mark": _max_id(VerificationReport.objects.all()),
            "decision_mark": _max_id(ItemDecision.objects.all()),
            "referral_mark": _max_id(Referral.history.all(), "history_id"),
        }
        households = _changed(prev, marks)
        full = prev is None or prev.check_month != month
        if full:
            households |= _expected_in(month)
        findings = flags_detect(households, today=today)
        raised = _write(findings)
        settled = _settle(households, findings, month)
        run = FlagCheckRun.objects.create(
            day=today,
            check_month=month,
            households=len(households),
            raised=raised,
            full=full,
            ran_at=timezone.now(),
            duration_ms=(time.monotonic() - started) * 1000,
            **marks,
        )
        audit_record(
            actor=None,
            action="happiness.flag_check",
            subject=run,
            new={
                "month": f"{month:%Y-%m}",
                "households": len(households),
                "raised": raised,
                "settled": settled,
                "full": full,
            },
        )
    return run


# --- one flag raised by a service, and the township's resolution ---------------------------


def flag_raise(
    *,
    household_id: int,
    kind: str,
    reason: str,
    item: str,
    period: dt.date,
    key: str,
    evidence: list[dict[str, Any]],
) -> bool:
    """Raise one flag (a receipt check answered no); False when this finding was raised before."""
    return bool(_write([Finding(household_id, kind, reason, item, period, key, evidence)]))


def flag_resolve(*, actor: Actor, flag_id: int, resolution: Any, note: Any) -> ListFlag:
    """Close an open flag with a resolution and its reason (audited). Out of scope: 404; a role that
    may look but not act (a village cadre): 403; resolved already: conflict."""
    flag = get_in_scope_or_404(ListFlag.objects.select_related("township"), actor, pk=flag_id)
    if not is_centre(actor):
        raise PermissionDenied
    if resolution not in F.Resolution.values:
        raise field_error("resolution", _("Choose how the flag was resolved."))
    note = note.strip() if isinstance(note, str) else ""
    if not note:
        raise field_error("note", _("Give the reason: what was checked and what was done."))
    if len(note) > MAX_NOTE or "\x00" in note:
        raise field_error("note", _("The reason may have at most %(n)d characters.") % {"n": MAX_NOTE})
    with transaction.atomic():
        done = ListFlag.objects.filter(pk=flag.pk, status=F.Status.OPEN).update(
            status=F.Status.RESOLVED,
            resolution=resolution,
            resolution_note=note,
            resolved_by=account_of(actor),
            resolved_at=timezone.now(),
        )
        if not done:
            raise ConflictError(_("This flag has already been resolved."))
        audit_record(
            actor=actor,
            action="happiness.flag_resolve",
            subject=flag,
            old={"status": F.Status.OPEN},
            new={"status": F.Status.RESOLVED, "resolution": resolution},
            reason=note,
            region=flag.township,
        )
    flag.refresh_from_db()
    return flag


def open_flags_q() -> Q:
    return Q(status=F.Status.OPEN)


def application_staff_links(*, application: Any, user: Any) -> list[tuple[str, str]]:
    """The "application_staff_links" hook: the household's flags and card page, with its open count.

    Only for a user who may see flags and the household (the scoped count is 0 rows otherwise).
    """
    from django.urls import reverse

    from assist_center.models import Role
    from assist_center.scopes import role_of

    household_id = getattr(application, "household_id", None)
    if household_id is None or not (is_centre(user) or role_of(user) == Role.VILLAGE_CADRE):
        return []
    if not scope_households(
        Household.objects.filter(pk=household_id), user, township_field="township", village_field="village"
    ).exists():
        return []
    open_count = _scope_flags(
        ListFlag.objects.filter(household_id=household_id, status=F.Status.OPEN), user
    ).count()
    label = _("Happiness list checks and card (%(n)d open flags)") % {"n": open_count}
    return [(label, reverse("happiness-household-flags", args=[household_id]))]


def flags_raise_for(household_ids: Iterable[int], *, today: dt.date | None = None) -> int:
    """Check these households now (outside the nightly run) and raise what is new; return how many."""
    return _write(flags_detect(household_ids, today=today or timezone.localdate()))
