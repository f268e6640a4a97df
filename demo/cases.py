"""Demo applications and cases: the `cases` stage of `manage.py seed_demo` (after county and pool).

Everything goes through the real services, as a township assistant and the departments would
drive them: an assistant submits on a household's behalf (代办), uploads the family's signed paper
forms, the application form is archived and the data check runs (as their tasks would), the
assistant decides each item, the decision opens the case, departments accept and complete. So the
audit log, the PDFs, the reports, the notifications and the queued SMS are the real ones.

The only writes around the services are dates: a demo made in one sitting would have every case
opened today, all of them "on time". Cases are therefore moved into the past after they open
(the referrals' start and due dates, computed with assist_center.workdays;
the application's submission time and the case's opening time, so the timeline reads in order)
and a full run of the real colour sweep then gives them their blue, yellow and red warnings.

Deterministic for a given database and seed: households, needs and decisions come from one
random.Random (receipt codes and family tokens stay random: they are secrets).
"""

from __future__ import annotations

import datetime as dt
import io
import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from applications.intake import GUARDIAN_AGE, parse_application_input
from applications.models import Application, ApplicationMember, Channel, Household, Person
from applications.services.family import authorisation_upload_paper
from applications.services.forms import application_form_archive
from applications.services.submission import application_submit
from assist_center.identity import age_on
from assist_center.models import Region, Role, StaffProfile
from assist_center.workdays import add_working_days, deadline, is_working_day
from eligibility.models import ItemDecision, PoolRecord, VerificationReport
from eligibility.services.decisions import application_decide_complete, item_decide, items_to_decide
from eligibility.services.verification import application_verify_run
from referrals.colours import blue_threshold
from referrals.models import Case, Colour, Referral
from referrals.services.actions import OutcomeInput, referral_accept, referral_complete, referral_request_info
from referrals.services.sweep import colour_sweep

DEFAULT_COUNT = 24
DEFAULT_SEED = 20261129
# The demo's townships, 海游街道 (assistant_1's) first; others only if these run out of households.
DEMO_TOWNSHIPS = ("海游街道", "沙柳街道", "珠岙镇", "健跳镇")
# 海游街道's share of the applications: the assistant most demos sign in as sees most of them.
FIRST_TOWNSHIP_SHARE = 0.4
# Shares of the authorised applications (the rest wait for signatures: every sixth one).
OPEN_SHARE = 9 / 24
CLOSED_SHARE = 5 / 24
AWAITING_EVERY = 6
# Warning colour each open case is moved to, in turn.
COLOUR_CYCLE = (Colour.RED, Colour.BLUE, Colour.YELLOW, Colour.NONE, Colour.BLUE, Colour.RED, Colour.YELLOW)
# A household with registered real estate or a business has clearly more than the standard: a few
# apply anyway (and are turned down), most applicants do not own one.
AFFLUENT_CATEGORIES = ("real_estate", "business_licence")
AFFLUENT_SHARE = 1 / 6

OUTSIDE_POLICY_NEEDS = (
    "老人独居，子女在外地打工，希望有志愿者每周上门看望。",
    "孩子放学后家里没人照看，希望村里有课后托管。",
    "房屋屋顶漏雨，希望帮忙修缮。",
    "腿脚不便，需要一台轮椅。",
    "希望帮忙联系就近的灵活就业岗位。",
    "家里老人需要定期去县医院复查，希望有人帮忙接送。",
)
HOME_VISIT_REASONS = ("部分成员数据缺失，安排入户核实。", "数据来源之间有出入，需入户核对。")
NEEDS_PERSON_APPROVED = ("经入户核实，家庭情况属实。", "村民代表评议通过，入户核实情况属实。")
NEEDS_PERSON_REJECTED = "经入户核实，家庭实际收入高于标准。"
# Items the report found without the household asking (政策找人): some are taken up, some declined.
UNASKED_APPROVED_SHARE = 0.35
UNASKED_APPROVED = "政策找人：数据核验符合条件，经与申请人沟通，一并办理。"
UNASKED_DECLINED = "经与申请人沟通，暂不需要该项救助。"
NOT_ELIGIBLE_FALLBACK = "经数据核验，不符合该项救助条件。"
NOT_GRANTED_REASONS = (
    "经入户调查，家庭实际收入超过当地标准。",
    "已享受同类救助，不重复发放。",
    "申请人已书面放弃该项救助。",
)
INFO_QUESTION = "请补充申请人近三个月的医疗费用票据。"

# What a department grants for each item: benefit, period, and the range of the amount (yuan).
BENEFITS: dict[str, tuple[str, str, int, int]] = {
    "dibao": ("低保金", "monthly", 600, 2300),
    "low_income_edge": ("低保边缘家庭生活补助", "monthly", 200, 600),
    "extreme_poverty": ("特困人员基本生活费", "monthly", 1500, 1500),
    "medical": ("医疗救助金", "once", 2000, 18000),
    "education": ("助学金", "yearly", 2000, 5000),
    "housing": ("危房改造补助", "once", 20000, 40000),
    "employment": ("公益性岗位安置", "", 0, 0),
    "temporary": ("临时救助金", "once", 1000, 5000),
    "disaster": ("受灾人员生活救助金", "once", 2000, 8000),
    "disability_living": ("困难残疾人生活补贴", "monthly", 300, 300),
    "disability_care": ("重度残疾人护理补贴", "monthly", 300, 300),
    "pension_premium": ("代缴城乡居民养老保险费", "yearly", 200, 200),
    "utility_relief": ("每月免费用电10千瓦时", "monthly", 0, 0),
}

AWAITING, REVIEW, REJECTED, OPEN, CLOSED = "awaiting", "review", "rejected", "open", "closed"


@dataclass
class SeedCasesResult:
    applications: int = 0
    stages: Counter[str] = field(default_factory=Counter)
    authorisations: int = 0
    forms: int = 0
    reports: int = 0
    cases_open: int = 0
    cases_closed: int = 0
    referrals_open: int = 0
    colours: Counter[str] = field(default_factory=Counter)
    swept: int = 0
    townships: list[str] = field(default_factory=list)


@dataclass
class _Family:
    household: Household
    township: Region
    assistant: Any
    members: list[Person]
    categories: set[str]

    @property
    def affluent(self) -> bool:
        return any(c in self.categories for c in AFFLUENT_CATEGORIES)


class SeedCasesError(Exception):
    """The database lacks what the demo cases are made from (the county and pool stages come first)."""


# --- choosing households -----------------------------------------------------------------------


def _assistants() -> dict[int, Any]:
    """Township id -> its (first) active township assistant."""
    out: dict[int, Any] = {}
    profiles = (
        StaffProfile.objects.filter(
            role=Role.TOWNSHIP_ASSISTANT, region__level=Region.Level.TOWNSHIP, user__is_active=True
        )
        .select_related("user", "region")
        .order_by("user_id")
    )
    for p in profiles:
        if p.region_id is not None:
            out.setdefault(p.region_id, p.user)
    return out


def _townships(assistants: dict[int, Any]) -> list[Region]:
    """The demo townships that have an assistant, then every other such township (as a fallback)."""
    found = list(Region.objects.filter(pk__in=list(assistants)).order_by("code"))
    by_name = {t.name: t for t in found}
    first = [by_name[name] for name in DEMO_TOWNSHIPS if name in by_name]
    return first + [t for t in found if t not in first]


def _quotas(count: int, n_townships: int) -> list[int]:
    if n_townships == 1:
        return [count]
    first = min(count, max(1, round(count * FIRST_TOWNSHIP_SHARE)))
    rest = count - first
    return [first] + [
        rest // (n_townships - 1) + (1 if i < rest % (n_townships - 1) else 0) for i in range(n_townships - 1)
    ]


def _families(rng: random.Random, count: int) -> list[_Family]:
    """`count` households without an application yet, spread over the demo townships, interleaved."""
    assistants = _assistants()
    townships = _townships(assistants)
    if not townships:
        raise SeedCasesError("没有配备民政助理员的乡镇（街道）：请先运行 seed_demo --stage county。")
    applied = set(ApplicationMember.objects.values_list("id_number_hash", flat=True))
    demo = townships[: len(DEMO_TOWNSHIPS)]
    quotas = dict(zip([t.pk for t in demo], _quotas(count, len(demo)), strict=True))
    picked: dict[int, list[_Family]] = {}
    shortfall = 0
    for township in townships:
        want = quotas.get(township.pk, 0) + shortfall
        if want <= 0:
            continue
        families = _draw(rng, township, assistants[township.pk], want, applied)
        picked[township.pk] = families
        shortfall = want - len(families)
    # Interleave the townships, so that every stage of the demo reaches each of them.
    lists = [picked[t.pk] for t in townships if picked.get(t.pk)]
    out: list[_Family] = []
    while any(lists):
        for lst in lists:
            if lst:
                out.append(lst.pop(0))
    return out[:count]


def _draw(
    rng: random.Random, township: Region, assistant: Any, want: int, applied: set[str]
) -> list[_Family]:
    ids = list(Household.objects.filter(township=township).order_by("pk").values_list("pk", flat=True))
    rng.shuffle(ids)
    # Four times what is wanted: enough to skip households that applied already and keep few
    # affluent ones, without reading a township's thousands of households.
    ids = ids[: want * 4 + 8]
    households = Household.objects.filter(pk__in=ids).select_related("village").in_bulk()
    persons: dict[int, list[Person]] = {}
    for p in Person.objects.filter(household_id__in=ids).order_by("household_id", "pk"):
        persons.setdefault(p.household_id, []).append(p)
    hashes = [p.id_number_hash for ps in persons.values() for p in ps]
    categories: dict[str, set[str]] = {}
    for person_hash, category in (
        PoolRecord.objects.filter(person_hash__in=hashes).values_list("person_hash", "category").distinct()
    ):
        categories.setdefault(person_hash, set()).add(category)
    out: list[_Family] = []
    affluent = 0
    for pk in ids:
        members = persons.get(pk, [])
        if not members or any(p.id_number_hash in applied for p in members):
            continue
        heads = [p for p in members if p.relation == Person.Relation.HEAD]
        if len(heads) != 1:
            continue
        members = heads + [p for p in members if p is not heads[0]]
        family = _Family(
            household=households[pk],
            township=township,
            assistant=assistant,
            members=members,
            categories={c for p in members for c in categories.get(p.id_number_hash, set())},
        )
        if family.affluent:
            if affluent >= max(1, round(want * AFFLUENT_SHARE)):
                continue
            affluent += 1
        out.append(family)
        if len(out) == want:
            break
    return out


# --- intake --------------------------------------------------------------------------------------


def _needs(rng: random.Random, family: _Family, today: dt.date) -> list[str]:
    c = family.categories
    ages = [age_on(p.birth_date, today) for p in family.members]
    needs = ["dibao"]
    if "medical_expense" in c or "serious_illness" in c:
        needs.append("medical")
    if "student" in c:
        needs.append("education")
    if "disability" in c:
        needs.append("disability_living")
    if "unemployment" in c and rng.random() < 0.5:
        needs.append("employment")
    if "disaster" in c:
        needs.append("disaster")
    if any(a >= 60 for a in ages) and len(family.members) == 1 and rng.random() < 0.5:
        needs.append("extreme_poverty")
    if rng.random() < 0.25:
        needs.append("temporary")
    if rng.random() < 0.2:
        needs.append("utility_relief")
    return needs


def _body(rng: random.Random, family: _Family, today: dt.date) -> dict[str, Any]:
    head, *others = family.members
    note = rng.choice(OUTSIDE_POLICY_NEEDS) if rng.random() < 0.3 else ""
    village = family.household.village
    return {
        "region_code": family.township.code,  # the township's 救助码, which the assistant uses
        "village_code": village.code,
        "address": family.household.address,
        "applicant": {"name": head.name, "id_number": head.id_number, "phone": head.phone},
        "members": [{"name": p.name, "id_number": p.id_number, "relation": p.relation} for p in others],
        "supporters": [],
        "needs": _needs(rng, family, today),
        "need_note": note,
        "consents": {
            "data_check": True,
            "share_with_organisations": bool(note) and rng.random() < 0.7,
            "publish_need": bool(note) and rng.random() < 0.8,
        },
        "guardian_confirmed": any(age_on(p.birth_date, today) < GUARDIAN_AGE for p in family.members),
    }


def paper_scan_png(rng: random.Random) -> bytes:
    """A small greyscale "scan" of a signed paper authorisation form: ruled lines and a signature."""
    img = Image.new("L", (420, 594), 248)
    draw = ImageDraw.Draw(img)
    draw.rectangle((60, 40, 360, 62), fill=190)  # the form's title
    for y in range(110, 430, 26):
        draw.line((50, y, 370, y), fill=175, width=1)
    x, y = 210, 500
    stroke = [(x + 9 * i, y + rng.randint(-16, 16)) for i in range(15)]
    draw.line(stroke, fill=25, width=3)
    draw.line((200, 530, 360, 530), fill=120, width=1)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _upload_paper(rng: random.Random, family: _Family, member: ApplicationMember) -> None:
    upload = SimpleUploadedFile(f"authorisation-{member.pk}.png", paper_scan_png(rng), "image/png")
    authorisation_upload_paper(actor=family.assistant, member_id=member.pk, upload=upload)


def _signers(application: Application) -> list[ApplicationMember]:
    return list(
        ApplicationMember.objects.filter(application=application, must_authorise=True).order_by("position")
    )


# --- decisions -----------------------------------------------------------------------------------


def _results(report: VerificationReport) -> dict[str, dict[str, Any]]:
    return {str(r.get("item")): r for r in report.results}


def _approvable(application: Application, report: VerificationReport) -> bool:
    results = _results(report)
    return any(
        results.get(item, {}).get("outcome") in ("eligible", "needs_person")
        for item in items_to_decide(application, report)
    )


def _failing_reason(result: dict[str, Any]) -> str:
    for criterion in result.get("criteria", []):
        if criterion.get("outcome") == "fail" and criterion.get("reason"):
            return str(criterion["reason"])[:500]
    return NOT_ELIGIBLE_FALLBACK


def _decide_all(
    rng: random.Random,
    family: _Family,
    application: Application,
    report: VerificationReport,
    *,
    approve: bool,
) -> None:
    """Decide every item the review needs; with `approve`, at least one item is approved."""
    results = _results(report)
    items = items_to_decide(application, report)
    plan: dict[str, tuple[str, str]] = {}
    for item in items:
        result = results.get(item, {})
        outcome = result.get("outcome")
        if not approve:
            plan[item] = (
                ItemDecision.Decision.REJECT,
                _failing_reason(result) if outcome == "not_eligible" else NEEDS_PERSON_REJECTED,
            )
        elif outcome == "eligible" and item in application.needs:
            plan[item] = (ItemDecision.Decision.APPROVE, "")
        elif outcome == "eligible" and rng.random() < UNASKED_APPROVED_SHARE:
            # 政策找人: the report found an item the household did not ask for, and they want it.
            plan[item] = (ItemDecision.Decision.APPROVE, UNASKED_APPROVED)
        elif outcome == "eligible":
            plan[item] = (ItemDecision.Decision.REJECT, UNASKED_DECLINED)
        elif outcome == "needs_person" and rng.random() < 0.6:
            plan[item] = (ItemDecision.Decision.APPROVE, rng.choice(NEEDS_PERSON_APPROVED))
        elif outcome == "needs_person":
            plan[item] = (ItemDecision.Decision.REJECT, NEEDS_PERSON_REJECTED)
        else:
            plan[item] = (ItemDecision.Decision.REJECT, _failing_reason(result))
    if approve and not any(d == ItemDecision.Decision.APPROVE for d, _r in plan.values()):
        item = next(i for i in items if results.get(i, {}).get("outcome") in ("eligible", "needs_person"))
        plan[item] = (ItemDecision.Decision.APPROVE, rng.choice(NEEDS_PERSON_APPROVED))
    for item in items:
        decision, reason = plan[item]
        item_decide(
            actor=family.assistant, application_id=application.pk, item=item, decision=decision, reason=reason
        )
    application_decide_complete(actor=family.assistant, application_id=application.pk)


def _decide_some(
    rng: random.Random, family: _Family, application: Application, report: VerificationReport
) -> None:
    """An assistant half-way through a review: a home visit asked for, or one item approved."""
    results = _results(report)
    items = items_to_decide(application, report)
    unsure = [i for i in items if results.get(i, {}).get("outcome") == "needs_person"]
    eligible = [i for i in items if results.get(i, {}).get("outcome") == "eligible"]
    if unsure:
        item_decide(
            actor=family.assistant,
            application_id=application.pk,
            item=unsure[0],
            decision=ItemDecision.Decision.HOME_VISIT,
            reason=rng.choice(HOME_VISIT_REASONS),
        )
    elif len(eligible) > 1:
        item_decide(
            actor=family.assistant,
            application_id=application.pk,
            item=eligible[0],
            decision=ItemDecision.Decision.APPROVE,
        )


# --- dates ---------------------------------------------------------------------------------------


def working_day_before(day: dt.date, n: int) -> dt.date:
    """The n-th working day before `day` (n >= 1); `day` itself never counts."""
    d = day
    left = n
    while left > 0:
        d -= dt.timedelta(days=1)
        if is_working_day(d):
            left -= 1
    return d


def _start_for_due(due: dt.date, allotted: int) -> dt.date:
    """The working day on which a clock of `allotted` working days must start to end on `due`."""
    return working_day_before(due, allotted) if allotted > 0 else due


def case_start(colour: str, allotted: int, today: dt.date, rng: random.Random) -> dt.date:
    """The start date that makes a referral of `allotted` days show `colour` today.

    Yellow (due today) needs today to be a working day: on a rest day it falls back to blue.
    """
    if colour == Colour.YELLOW and not is_working_day(today):
        colour = Colour.BLUE
    if colour == Colour.RED:
        return _start_for_due(working_day_before(today, rng.randint(1, 3)), allotted)
    if colour == Colour.YELLOW:
        return _start_for_due(today, allotted)
    if colour == Colour.BLUE:
        return _start_for_due(add_working_days(today, max(1, blue_threshold(allotted))), allotted)
    return today


def _at(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_current_timezone())


def _move_case(rng: random.Random, case: Case, start: dt.date, today: dt.date) -> None:
    """Open the case on `start` (and the application a little before): dates only, no colours."""
    submitted = working_day_before(start, 1) if rng.random() < 0.5 else start
    Application.objects.filter(pk=case.application_id).update(
        created_at=_at(submitted, 9, rng.randint(0, 59))
    )
    opened = _at(start, rng.randint(14, 16), rng.randint(0, 59))
    Case.objects.filter(pk=case.pk).update(opened_at=opened)
    for referral in Referral.objects.filter(case=case):
        dl = deadline(start, referral.allotted_days)
        # Dates only: the full sweep at the end gives the moved referrals their colours.
        Referral.objects.filter(pk=referral.pk).update(
            start_date=start, due_date=dl.due, provisional=dl.provisional, created_at=opened
        )


def _department_users(referrals: list[Referral]) -> dict[int, Any]:
    ids = {r.department_id for r in referrals}
    out: dict[int, Any] = {}
    for p in (
        StaffProfile.objects.filter(role=Role.DEPARTMENT_STAFF, department_id__in=ids, user__is_active=True)
        .select_related("user")
        .order_by("user_id")
    ):
        if p.department_id is not None:
            out.setdefault(p.department_id, p.user)
    return out


def _outcome(rng: random.Random, item: str, household_size: int, today: dt.date) -> OutcomeInput:
    if rng.random() < 0.12:
        return OutcomeInput(item=item, granted=False, reason=rng.choice(NOT_GRANTED_REASONS))
    kind, period, low, high = BENEFITS.get(item, ("救助金", "once", 500, 2000))
    amount: Decimal | None = None
    if high:
        value = rng.randrange(low, high + 1, 10) if high > low else low
        if item == "dibao":
            value = min(value, 1150) * max(1, household_size) // 10 * 10
        amount = Decimal(value).quantize(Decimal("0.01"))
    first_of_next_month = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return OutcomeInput(
        item=item,
        granted=True,
        benefit_kind=kind,
        amount=amount,
        period=period,
        start_date=first_of_next_month if period != "once" else today,
    )


# --- the whole demo ------------------------------------------------------------------------------


def _stage_plan(verified: list[tuple[_Family, Application, VerificationReport]], count: int) -> list[str]:
    """open / closed / review (and one rejected) for each verified application, by quota."""
    quota = {
        OPEN: max(1, round(count * OPEN_SHARE)),
        CLOSED: max(1, round(count * CLOSED_SHARE)),
    }
    quota[REVIEW] = max(1, len(verified) - quota[OPEN] - quota[CLOSED])
    done: Counter[str] = Counter()
    rejected_left = 1 if count >= 12 else 0
    plan = []
    for _family, application, report in verified:
        if not _approvable(application, report):
            # Nothing to grant: one is turned down (every item rejected, with reasons), others wait.
            stage = REJECTED if rejected_left > 0 else REVIEW
            if stage == REJECTED:
                rejected_left -= 1
        else:
            # The stage furthest behind its quota (ties: open, closed, review).
            stage = max((OPEN, CLOSED, REVIEW), key=lambda s: (quota[s] - done[s]) / quota[s])
            if done[stage] >= quota[stage]:
                stage = REVIEW
        done[stage] += 1
        plan.append(stage)
    return plan


def seed_cases(*, count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED) -> SeedCasesResult:
    """Make `count` demo applications and their cases; all or nothing (one transaction)."""
    rng = random.Random(seed)  # noqa: S311 - synthetic demo data, not a secret
    today = timezone.localdate()
    result = SeedCasesResult()
    with transaction.atomic():
        families = _families(rng, count)
        if not families:
            raise SeedCasesError("没有可用于演示的家庭：请先运行 seed_demo --stage county。")
        if not PoolRecord.objects.exists():
            raise SeedCasesError("数据池为空：请先运行 seed_demo --stage pool。")
        result.townships = list(dict.fromkeys(f.township.name for f in families))

        submitted: list[tuple[_Family, Application]] = []
        for family in families:
            data = parse_application_input(_body(rng, family, today))
            application = application_submit(
                data=data, channel=Channel.ON_BEHALF, actor=family.assistant, otp=None, ip=None
            )
            submitted.append((family, application))
        result.applications = len(submitted)

        verified: list[tuple[_Family, Application, VerificationReport]] = []
        for n, (family, application) in enumerate(submitted):
            signers = _signers(application)
            if n % AWAITING_EVERY == AWAITING_EVERY - 1:
                # Waiting for the family: some paper forms are in, the last signature is not.
                for member in signers[: rng.randint(0, len(signers) - 1)]:
                    _upload_paper(rng, family, member)
                    result.authorisations += 1
                result.stages[AWAITING] += 1
                continue
            for member in signers:
                _upload_paper(rng, family, member)
                result.authorisations += 1
            # What the queued tasks do (applications.tasks, eligibility.tasks); they find it done.
            application_form_archive(application_id=application.pk)
            report = application_verify_run(
                application_id=application.pk, trigger=VerificationReport.Trigger.AUTHORISED
            )
            verified.append((family, application, report))

        cases: list[tuple[_Family, Case, str]] = []
        for (family, application, report), stage in zip(verified, _stage_plan(verified, count), strict=True):
            result.stages[stage] += 1
            if stage == REVIEW:
                if rng.random() < 0.4:
                    _decide_some(rng, family, application, report)
                continue
            _decide_all(rng, family, application, report, approve=stage != REJECTED)
            case = Case.objects.filter(application=application).first()
            if case is not None:
                cases.append((family, case, stage))

        _run_cases(rng, cases, today, result)
        created = [a.pk for _f, a in submitted]
        result.forms = Application.objects.filter(pk__in=created, form_generated_at__isnull=False).count()
        result.reports = VerificationReport.objects.filter(application_id__in=created).count()
        open_referrals = Referral.objects.filter(
            case__application_id__in=created, status__in=Referral.OPEN_STATUSES
        )
        result.referrals_open = open_referrals.count()
        result.colours = Counter(open_referrals.values_list("colour", flat=True))
        result.cases_open = Case.objects.filter(application_id__in=created, status=Case.Status.OPEN).count()
        result.cases_closed = Case.objects.filter(
            application_id__in=created, status=Case.Status.CLOSED
        ).count()
    return result


def _run_cases(
    rng: random.Random, cases: list[tuple[_Family, Case, str]], today: dt.date, result: SeedCasesResult
) -> None:
    referrals = list(Referral.objects.filter(case__in=[c for _f, c, _s in cases]).order_by("pk"))
    departments = _department_users(referrals)
    by_case: dict[int, list[Referral]] = {}
    for r in referrals:
        by_case.setdefault(r.case_id, []).append(r)

    colours = iter(COLOUR_CYCLE * (len(cases) // len(COLOUR_CYCLE) + 1))
    moved_open: list[Referral] = []
    for _family, case, stage in cases:
        case_referrals = by_case.get(case.pk, [])
        if not case_referrals:
            continue
        allotted = max(r.allotted_days for r in case_referrals)
        if stage == OPEN:
            start = case_start(next(colours), allotted, today, rng)
        else:
            # Closed cases: opened one or two working days ago, done within their deadline.
            start = working_day_before(today, rng.randint(1, 2))
        _move_case(rng, case, start, today)
        for referral in case_referrals:
            user = departments.get(referral.department_id)
            if user is None:
                continue
            if stage == CLOSED or rng.random() < 0.5:
                referral_accept(actor=user, referral_id=referral.pk)
            if stage == CLOSED:
                size = (
                    ApplicationMember.objects.filter(application_id=case.application_id)
                    .exclude(role=ApplicationMember.Role.SUPPORTER)
                    .count()
                )
                referral_complete(
                    actor=user,
                    referral_id=referral.pk,
                    outcomes=[_outcome(rng, item, size, today) for item in referral.items],
                )
            else:
                moved_open.append(referral)

    # The real sweep gives the moved referrals their colours and tells the departments.
    result.swept = colour_sweep(today=today, full=True)

    # One department has asked for more (the clock stops until the centre answers).
    if len(moved_open) >= 4:
        asking = moved_open[len(moved_open) // 2]
        user = departments.get(asking.department_id)
        if user is not None:
            referral_request_info(actor=user, referral_id=asking.pk, question=INFO_QUESTION)
