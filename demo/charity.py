"""The 公益谷 for the demo, made through the real charity services: a living board.

The coordinator vets the organisations the county stage marked as vetted (the others wait); the
township assistants record needs of demo households (the cases' outside-policy needs with their
consents first, then needs from home visits and monitoring with the household's consent) and
publish them with an approved public wording. Organisations' members claim some; the claims are
then taken to every state: claimed, contacted, completion reported and awaiting the resident,
disputed, confirmed into the household's benefits ledger, and released by the sweep back to the
top of the board as 优先. A little of the fund ledger, a 公益创投 project and a training session
complete the public statistics.

The fewer-than-5 rule (charity.services.needs.public_profile) counts the county's registered
households sharing a need's township × age band × household size: a need of a rare profile is
widened or shown only to vetted organisations. The stage picks households of common profiles
(several per township and profile, a category shared between townships), so the board shows
townships to the public.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from PIL import Image

from applications.models import Household, Person
from assist_center.errors import ApplicationError
from assist_center.models import Region, Role, StaffProfile
from charity.funds_services import fund_entry_record
from charity.models import Claim, FundEntry, Need, Organisation, Project, ProjectCall
from charity.projects_services import (
    project_create,
    project_move,
    project_report_review,
    project_report_submit,
    tranche_plan_set,
    tranche_release,
)
from charity.services.claims import (
    claim_add_progress,
    claim_confirm,
    claim_mark_contacted,
    claim_report_completion,
    claim_resident_answer,
    claim_sweep,
    need_claim,
)
from charity.services.needs import (
    age_band_of,
    need_create,
    need_from_outside_need,
    need_publish,
    size_band_of,
)
from charity.services.organisations import organisation_approve
from charity.training_services import attendance_record, training_session_create
from referrals.models import OutsidePolicyNeed

from .organisations import ORGANISATIONS

TOWNSHIPS = 4  # those of assistant_1 … assistant_4: where the demo's cases are
GROUPS_PER_TOWNSHIP = 2  # households sharing a profile, one category each
PER_GROUP = 8  # needs per group of households sharing a profile
# Categories in turn: township k takes the k-th and (k+1)-th, so each is shared by two townships.
CATEGORY_CYCLE = ("daily_care", "education", "housing", "medical_escort", "donation", "employment")

# Approved public wordings: no name, village, ID number or phone (need_publish checks again).
PUBLIC_TEXTS: dict[str, tuple[str, ...]] = {
    "daily_care": (
        "独居老人，希望每周有志愿者上门看望、帮忙打扫。",
        "老人行动不便，需要定期帮忙买菜和做饭。",
        "家中老人需要日常照料，子女在外务工。",
    ),
    "education": (
        "孩子读初中，需要课后辅导和学习用品。",
        "家中学生需要一台学习用的电脑。",
        "孩子放学后无人照看，希望有课后托管。",
    ),
    "housing": (
        "房屋屋顶漏雨，需要修缮。",
        "老房子电线老化，需要更换线路。",
        "卫生间地面湿滑，需要适老化改造。",
    ),
    "medical_escort": (
        "老人需要定期去县医院复查，希望有人帮忙接送。",
        "家中病人出院后需要陪护一段时间。",
        "需要陪同去市里医院做检查。",
    ),
    "donation": (
        "冬季需要棉被和保暖衣物。",
        "腿脚不便，需要一台轮椅。",
        "家中缺少一台冰箱。",
    ),
    "employment": (
        "希望帮忙联系就近的灵活就业岗位。",
        "想学一门手艺，希望参加技能培训。",
        "希望在附近找到一份保洁或看护工作。",
    ),
}
COSTS = (Decimal("300"), Decimal("800"), Decimal("1500"), None)

# How many of the public needs are claimed, in each state the stage leaves them in.
CLAIM_PLAN = (
    ("released", 2),
    ("active", 3),
    ("contacted", 2),
    ("reported", 2),
    ("disputed", 1),
    ("confirmed", 4),
)
RESIDENT = "resident"


class SeedCharityError(Exception):
    """The stage needs the county first (and the cases for needs from cases)."""


@dataclass
class SeedCharityResult:
    vetted: int = 0
    waiting: int = 0
    needs: int = 0
    public: int = 0
    claims: dict[str, int] = field(default_factory=dict)
    fund_entries: int = 0
    projects: int = 0
    trainees: int = 0
    townships: tuple[str, ...] = ()
    skipped_board: bool = False


def _user(username: str) -> Any:
    return get_user_model()._default_manager.filter(username=username, is_active=True).first()


def _assistants() -> list[tuple[Region, Any]]:
    """(township, its assistant) for assistant_1, assistant_2, … in that order."""
    profiles = (
        StaffProfile.objects.filter(role=Role.TOWNSHIP_ASSISTANT, user__username__startswith="assistant_")
        .select_related("region", "user")
        .order_by("user_id")
    )
    out: list[tuple[Region, Any]] = []
    for p in profiles:
        region = p.region
        if (
            region is not None
            and region.level == Region.Level.TOWNSHIP
            and region not in [t for t, _u in out]
        ):
            out.append((region, p.user))
    return out


def _vet(coordinator: Any, result: SeedCharityResult) -> list[Organisation]:
    """Approve the organisations the demo marks as vetted; the others stay waiting."""
    names = {spec.name(settings.COUNTY_NAME): spec for spec in ORGANISATIONS}
    vetted: list[Organisation] = []
    for org in Organisation.objects.filter(name__in=list(names)).order_by("pk"):
        if not names[org.name].vetted:
            result.waiting += org.vetting == Organisation.Vetting.APPLIED
            continue
        if org.vetting != Organisation.Vetting.APPROVED or org.claim_refusal(timezone.localdate()):
            org = organisation_approve(actor=coordinator, org_id=org.pk, reason="演示：材料齐全，审核通过")
            result.vetted += 1
        if org.members.exists():
            vetted.append(org)
    return vetted


def _groups(township: Region, taken: set[int], today: dt.date) -> list[list[int]]:
    """Households of the township without a need, grouped by their public profile (age and size bands).

    The exact bands: households sharing them share the widened ones too.
    """
    ids = list(
        Household.objects.filter(township=township)
        .exclude(pk__in=taken)
        .order_by("pk")
        .values_list("pk", flat=True)[:400]
    )
    people: dict[int, list[Person]] = defaultdict(list)
    for p in Person.objects.filter(household_id__in=ids, registry_status=Person.RegistryStatus.REGISTERED):
        people[p.household_id].append(p)
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for pk in ids:
        members = people.get(pk)
        if not members:
            continue
        head = next((p for p in members if p.relation == Person.Relation.HEAD), members[0])
        groups[(age_band_of(head.birth_date, today), size_band_of(len(members)))].append(pk)
    return sorted(groups.values(), key=len, reverse=True)


def _publish(need: Need, assistant: Any, text: str) -> bool:
    try:
        need_publish(actor=assistant, need_id=need.pk, public_text=text)
    except ApplicationError:
        # A wording the check refuses (a member's name in a case's text): the fallback is generic.
        need_publish(
            actor=assistant, need_id=need.pk, public_text="需要社会力量帮扶，详情认领后与助理员联系。"
        )
    return True


def _case_needs(assistants: dict[int, Any], result: SeedCharityResult) -> list[int]:
    """Draft and publish the cases' outside-policy needs that the household consented to publish."""
    households: list[int] = []
    for n, onp in enumerate(OutsidePolicyNeed.objects.filter(publish_consent=True).order_by("pk")):
        assistant = assistants.get(onp.township_id)
        if assistant is None:
            continue
        category = "daily_care" if "看望" in onp.text else CATEGORY_CYCLE[n % len(CATEGORY_CYCLE)]
        try:
            need = need_from_outside_need(actor=assistant, outside_need_id=onp.pk, category=category)
        except ApplicationError:
            continue
        _publish(need, assistant, PUBLIC_TEXTS[category][n % 3])
        households.append(need.household_id)
        result.needs += 1
    return households


def _board_needs(townships: list[tuple[Region, Any]], taken: set[int], result: SeedCharityResult) -> None:
    today = timezone.localdate()
    sources = (Need.Source.VISIT, Need.Source.MONITORING, Need.Source.MANUAL)
    n = 0
    for k, (township, assistant) in enumerate(townships):
        for g, group in enumerate(_groups(township, taken, today)[:GROUPS_PER_TOWNSHIP]):
            category = CATEGORY_CYCLE[(k + g) % len(CATEGORY_CYCLE)]
            for household_id in group[:PER_GROUP]:
                need = need_create(
                    actor=assistant,
                    household_id=household_id,
                    category=category,
                    text=f"入户走访记录：{PUBLIC_TEXTS[category][n % 3]}",
                    source=sources[n % len(sources)],
                    publish_consent=True,
                    share_consent=n % 4 != 3,
                    estimated_cost=COSTS[n % len(COSTS)],
                    quantity="1件" if category == "donation" else "",
                )
                _publish(need, assistant, PUBLIC_TEXTS[category][n % 3])
                taken.add(household_id)
                result.needs += 1
                n += 1


def _photo(n: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (320, 240), (60 + 20 * n % 180, 140, 90)).save(buf, "JPEG", quality=80)
    return buf.getvalue()


def _claims(orgs: list[Organisation], result: SeedCharityResult) -> None:
    """Claim public needs in turn by the vetted organisations and take each claim to its state."""
    public = list(
        Need.objects.filter(status=Need.Status.PUBLISHED)
        .exclude(visibility=Need.Visibility.VETTED_ONLY)
        .select_related("township")
        .order_by("published_at", "pk")
    )
    assistants = {t.pk: u for t, u in _assistants()}
    coordinator = _user("coordinator")
    members: list[tuple[Organisation, Any]] = [(org, org.members.order_by("pk").first()) for org in orgs]
    # Spread over the needs (every other one), so unclaimed ones stay on each township's board.
    targets = iter(public[::2] + public[1::2])
    made: dict[str, list[Claim]] = defaultdict(list)
    n = 0
    for state, count in CLAIM_PLAN:
        for _ in range(count):
            need = next(targets, None)
            if need is None:
                break
            _org, member = members[n % len(members)]
            n += 1
            made[state].append(need_claim(actor=member, public_id=need.public_id))
        if state == "released":
            # The sweep, not the seeder, releases: as if their contact deadline had passed.
            late = max((c.contact_due for c in made[state]), default=None)
            if late is not None:
                claim_sweep(today=late + dt.timedelta(days=1))
    for state, claims in made.items():
        for i, claim in enumerate(claims):
            member = claim.claimed_by
            if state == "released":
                continue
            if state != "active":
                claim_mark_contacted(actor=member, claim_id=claim.pk)
                claim_add_progress(actor=member, claim_id=claim.pk, text="已电话联系家庭，约定上门时间。")
            if state in ("reported", "disputed", "confirmed"):
                claim_report_completion(
                    actor=member,
                    claim_id=claim.pk,
                    text="已上门完成帮扶，家庭签收。",
                    in_kind=claim.need.get_category_display() + "服务",
                    value=Decimal("500") if i % 2 else None,
                    photos=[_photo(i)],
                )
            if state == "disputed":
                claim_resident_answer(actor=RESIDENT, token=claim.resident_token, answer="not_received")
            if state == "confirmed":
                answer = "partly" if i == 1 else "received"
                claim_resident_answer(actor=RESIDENT, token=claim.resident_token, answer=answer)
                claim_confirm(actor=assistants.get(claim.need.township_id) or coordinator, claim_id=claim.pk)
    for state, claims in made.items():
        result.claims[state] = len(claims)


def _funds_project_training(orgs: list[Organisation], result: SeedCharityResult) -> None:
    coordinator = _user("coordinator")
    today = timezone.localdate()
    if len(orgs) < 3 or coordinator is None:
        return
    for i, org in enumerate(orgs[:3]):
        pledge = fund_entry_record(
            actor=coordinator,
            organisation=org,
            kind=FundEntry.Kind.PLEDGE,
            amount=Decimal(20000 + 10000 * i),
            occurred_on=today - dt.timedelta(days=60),
            due_on=today - dt.timedelta(days=5) if i == 2 else today + dt.timedelta(days=60),
            donor_name="县青蟹商会会员企业" if i == 0 else "王先生",
            donor_consents_to_name=i == 0,
        )
        fund_entry_record(
            actor=coordinator,
            organisation=org,
            kind=FundEntry.Kind.RECEIPT,
            amount=Decimal(10000 + 5000 * i),
            occurred_on=today - dt.timedelta(days=30),
            pledge=pledge,
            donor_name=pledge.donor_name,
            donor_consents_to_name=pledge.donor_consents_to_name,
        )
        fund_entry_record(
            actor=coordinator,
            organisation=org,
            kind=FundEntry.Kind.SPENDING,
            amount=Decimal(3000 + 1000 * i),
            occurred_on=today - dt.timedelta(days=10),
            purpose="为困难家庭购置过冬物资",
        )
        result.fund_entries += 3
    org = orgs[0]
    member: Any = org.members.order_by("pk").first()
    call, _created = ProjectCall.objects.get_or_create(
        title=f"{today.year}年度公益创投",
        defaults={
            "year": today.year,
            "opens_on": today - dt.timedelta(days=60),
            "closes_on": today + dt.timedelta(days=30),
            "budget_total": Decimal("2000000"),
            "description": "面向社会组织的公益创投，重点支持困难老人、儿童和残疾人服务。",
        },
    )
    project = project_create(
        actor=member,
        organisation=org,
        call=call,
        title="独居老人“暖心陪伴”项目",
        summary="组织志愿者每周上门探访独居老人，提供陪伴、代购和安全检查。",
        budget_total=Decimal("60000"),
        beneficiaries_planned=80,
        township=org.township,
        starts_on=today - dt.timedelta(days=30),
        ends_on=today + dt.timedelta(days=300),
    )
    tranches = tranche_plan_set(
        actor=member,
        project=project,
        tranches=[
            (Decimal("30000"), today + dt.timedelta(days=5)),
            (Decimal("30000"), today + dt.timedelta(days=200)),
        ],
    )
    project_move(actor=member, project=project, to=Project.Status.SUBMITTED)
    project_move(actor=coordinator, project=project, to=Project.Status.APPROVED, note="评审通过")
    project_move(actor=coordinator, project=project, to=Project.Status.IN_PROGRESS)
    report = project_report_submit(
        actor=member,
        project=project,
        tranche=tranches[0],
        text="第一期：招募志愿者30名，完成首轮探访。",
        beneficiaries_reached=35,
    )
    project_report_review(actor=coordinator, report=report, approve=True)
    tranche_release(actor=coordinator, tranche=tranches[0])
    result.projects += 1
    start = timezone.now() - dt.timedelta(days=14)
    session = training_session_create(
        actor=coordinator,
        title="社会工作实务培训（第一期）",
        trainer="县社会工作服务站",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=3),
        hours=Decimal("3"),
        location="县社会组织服务中心",
    )
    for i in range(12):
        attendance_record(
            actor=coordinator,
            session=session,
            name=f"社工学员{i + 1}",
            phone=f"1390576{i:04d}",
            organisation=orgs[i % len(orgs)],
        )
        result.trainees += 1


def seed_charity() -> SeedCharityResult:
    """Vet, publish, claim and confirm through the charity services; the board once only."""
    coordinator = _user("coordinator")
    townships = _assistants()
    if coordinator is None or not townships:
        raise SeedCharityError("演示公益谷未生成：请先运行 county 阶段。")
    result = SeedCharityResult()
    orgs = _vet(coordinator, result)
    if Need.objects.exists():
        # The board's needs, claims and ledger are made once: a second run would only add more.
        result.skipped_board = True
        return result
    first = townships[:TOWNSHIPS]
    result.townships = tuple(t.name for t, _u in first)
    taken = set(_case_needs({t.pk: u for t, u in townships}, result))
    _board_needs(first, taken, result)
    result.public = (
        Need.objects.filter(status=Need.Status.PUBLISHED)
        .exclude(visibility=Need.Visibility.VETTED_ONLY)
        .count()
    )
    if orgs:
        _claims(orgs, result)
    _funds_project_training(orgs, result)
    return result
