"""The public statistics of 公益谷 (/charity/stats/): every figure one SQL aggregate over the records.

Nothing here is typed in: each figure is computed from the ledger, projects, training and (once
the board exists) needs and claims, and each has a definition (DEFINITIONS) the page links to.
Township cells under 5 are suppressed (SMALL_CELL), with a second cell hidden where a single
suppressed cell could be worked out from the county total.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db.models import Count, F, Min, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, ExtractYear
from django.utils import timezone

from assist_center.models import Region

from .funds_selectors import ZERO, current
from .models import Attendance, FundEntry, Organisation, Project

K = FundEntry.Kind
SMALL_CELL = 5
SUPPRESSED = "<5"

DEFINITIONS: list[tuple[str, str, str]] = [
    (
        "orgs",
        "入驻组织",
        "在本平台登记的社会组织、社会企业、企业、商会、乡贤、志愿团队和四社联动枢纽，按类型计数。",
    ),
    (
        "orgs-vetted",
        "已审核组织",
        "经县中心审核通过且在有效期内的组织（审核有效期 12 个月，过期或暂停的不计）。",
    ),
    (
        "funds-pledged",
        "认捐金额",
        "资金台账中“认捐”记录的金额之和，按认捐日期所在年份；被更正的记录以更正后的为准。",
    ),
    (
        "funds-received",
        "到账金额",
        "资金台账中“到账”记录的金额之和（含公益创投各期拨付），按到账日期所在年份；以更正后的为准。",
    ),
    ("funds-spent", "支出金额", "资金台账中“支出”记录的金额之和，按支出日期所在年份；以更正后的为准。"),
    (
        "projects",
        "公益创投项目",
        "县中心批准立项的公益创投项目（含实施中、已结项、已终止），按所属批次年份计数；未获批准和草稿不计。",
    ),
    ("projects-completed", "已结项项目", "状态为“已结项”的公益创投项目，按所属批次年份。"),
    ("beneficiaries", "项目受益人数", "立项项目经审核通过的报告中记录的受益人数之和。"),
    (
        "trained",
        "培训社工人数",
        "参加过至少一次社工培训的不同人数（按手机号识别，一人多次只计一次），按培训开始日期所在年份；"
        "合计栏为全部年份的不同人数，不是各年相加。",
    ),
    ("person-hours", "培训人次学时", "每一次培训签到计入的学时之和（一人参加多次则每次都计）。"),
    (
        "needs-published",
        "发布需求",
        "经助理员审核、居民同意后在公益谷公开发布过的需求数，按发布日期所在年份（含之后撤回的）。",
    ),
    ("needs-claimed", "认领需求", "至少被一个组织认领过的需求数，按首次认领日期所在年份。"),
    ("needs-completed", "完成需求", "认领后经乡镇助理员确认完成的需求数，按确认日期所在年份。"),
    ("people-helped", "受助人数", "已完成需求所属家庭的成员人数，每人只计一次，按确认日期所在年份。"),
    (
        "township",
        "分乡镇数据",
        "按项目服务乡镇、培训举办乡镇、需求所在乡镇统计；1 至 4 的格子显示为“<5”，"
        "以免认出具体家庭或个人，必要时另隐去一格，使其无法由合计推算。",
    ),
]


def _model(name: str) -> Any:
    """A model of the needs board, or None while it is not installed (built by another part of the app)."""
    try:
        return apps.get_model("charity", name)
    except LookupError:
        return None


@dataclass
class YearRow:
    year: int
    pledged: Decimal = ZERO
    received: Decimal = ZERO
    spent: Decimal = ZERO
    projects: int = 0
    projects_completed: int = 0
    beneficiaries: int = 0
    trained: int = 0
    person_hours: Decimal = Decimal("0.0")
    needs_published: int = 0
    needs_claimed: int = 0
    needs_completed: int = 0
    people_helped: int = 0


@dataclass
class TownshipRow:
    name: str
    cells: list[int | str]


@dataclass
class Stats:
    kinds: list[dict[str, Any]]
    orgs_total: int
    orgs_vetted: int
    years: list[YearRow]
    total: YearRow
    township_columns: list[tuple[str, str]]
    townships: list[TownshipRow]
    has_needs: bool
    definitions: list[tuple[str, str, str]] = field(default_factory=lambda: DEFINITIONS)


def organisations_by_kind() -> tuple[list[dict[str, Any]], int, int]:
    vetted_q = _vetted_q()
    rows = Organisation.objects.values("kind").annotate(n=Count("id"), vetted=Count("id", filter=vetted_q))
    labels = dict(Organisation.Kind.choices)
    by_kind = {r["kind"]: r for r in rows}
    kinds = [
        {"kind": k, "label": labels[k], "n": by_kind[k]["n"], "vetted": by_kind[k]["vetted"]}
        for k in labels
        if k in by_kind
    ]
    return kinds, sum(k["n"] for k in kinds), sum(k["vetted"] for k in kinds)


def _vetted_q() -> Q:
    # is_vetted is kept equal to "approved" by the vetting services; an expiry date, where the
    # model has one, must not have passed.
    q = Q(is_vetted=True)
    if any(f.name == "vetted_until" for f in Organisation._meta.get_fields()):
        q &= Q(vetted_until__isnull=True) | Q(vetted_until__gte=timezone.localdate())
    return q


def _by_year(rows: Iterable[dict[str, Any]], years: dict[int, YearRow], attr: str, key: str = "n") -> None:
    for r in rows:
        if r["y"] is None:
            continue
        row = years.setdefault(r["y"], YearRow(year=r["y"]))
        setattr(row, attr, r[key] or 0)


def _funds(years: dict[int, YearRow]) -> None:
    rows = (
        current(FundEntry.objects.all())
        .annotate(y=ExtractYear("occurred_on"))
        .values("y")
        .annotate(
            pledged=Coalesce(Sum("amount", filter=Q(kind=K.PLEDGE)), Value(ZERO)),
            received=Coalesce(Sum("amount", filter=Q(kind=K.RECEIPT)), Value(ZERO)),
            spent=Coalesce(Sum("amount", filter=Q(kind=K.SPENDING)), Value(ZERO)),
        )
    )
    for r in rows:
        row = years.setdefault(r["y"], YearRow(year=r["y"]))
        row.pledged, row.received, row.spent = r["pledged"], r["received"], r["spent"]


def _projects(years: dict[int, YearRow]) -> None:
    rows = (
        Project.objects.filter(status__in=Project.PUBLIC_STATUSES)
        .values(y=F("call__year"))
        .annotate(
            n=Count("id"),
            done=Count("id", filter=Q(status=Project.Status.COMPLETED)),
            people=Coalesce(Sum("beneficiaries_reached"), Value(0)),
        )
    )
    for r in rows:
        row = years.setdefault(r["y"], YearRow(year=r["y"]))
        row.projects, row.projects_completed, row.beneficiaries = r["n"], r["done"], r["people"]


def _training(years: dict[int, YearRow]) -> None:
    rows = (
        Attendance.objects.annotate(y=ExtractYear("session__starts_at"))
        .values("y")
        .annotate(n=Count("trainee", distinct=True), hours=Coalesce(Sum("hours"), Value(Decimal("0.0"))))
    )
    for r in rows:
        row = years.setdefault(r["y"], YearRow(year=r["y"]))
        row.trained, row.person_hours = r["n"], r["hours"]


def _needs(years: dict[int, YearRow], total: YearRow) -> bool:
    need, claim, person = _model("Need"), _model("Claim"), apps.get_model("applications", "Person")
    if need is None or claim is None:
        return False
    published = need.objects.filter(published_at__isnull=False)
    _by_year(
        published.annotate(y=ExtractYear("published_at")).values("y").annotate(n=Count("id")),
        years,
        "needs_published",
    )
    total.needs_published = published.count()
    first_claims = claim.objects.values("need_id").annotate(first=Min("claimed_at"))
    claimed_rows: dict[int, int] = {}
    for r in first_claims:
        claimed_rows[r["first"].year] = claimed_rows.get(r["first"].year, 0) + 1
    _by_year(({"y": y, "n": n} for y, n in claimed_rows.items()), years, "needs_claimed")
    total.needs_claimed = sum(claimed_rows.values())
    confirmed = claim.objects.filter(status="confirmed", need__status="completed", confirmed_at__isnull=False)
    _by_year(
        confirmed.annotate(y=ExtractYear("confirmed_at"))
        .values("y")
        .annotate(n=Count("need", distinct=True)),
        years,
        "needs_completed",
    )
    total.needs_completed = confirmed.values("need").distinct().count()
    helped = person.objects.filter(household__in=confirmed.values("need__household")).annotate(
        y=ExtractYear(_first_confirmation(claim))
    )
    _by_year(helped.values("y").annotate(n=Count("id", distinct=True)), years, "people_helped")
    total.people_helped = person.objects.filter(household__in=confirmed.values("need__household")).count()
    return True


def _first_confirmation(claim: Any) -> Any:
    """The first confirmation of a need of the person's household: the year the person was helped."""
    return Subquery(
        claim.objects.filter(
            status="confirmed", need__household=OuterRef("household"), confirmed_at__isnull=False
        )
        .order_by("confirmed_at")
        .values("confirmed_at")[:1]
    )


def suppress(column: list[int]) -> list[int | str]:
    """Cells 1-4 become "<5"; if exactly one is hidden, the next smallest non-zero one is too."""
    out: list[int | str] = [SUPPRESSED if 0 < v < SMALL_CELL else v for v in column]
    hidden = [i for i, v in enumerate(out) if v == SUPPRESSED]
    if len(hidden) == 1:
        others = sorted((v, i) for i, v in enumerate(column) if isinstance(out[i], int) and v > 0)
        if others:
            out[others[0][1]] = SUPPRESSED
    return out


def _townships(has_needs: bool) -> tuple[list[tuple[str, str]], list[TownshipRow]]:
    towns = list(
        Region.objects.filter(level=Region.Level.TOWNSHIP).order_by("code").values_list("pk", "name")
    )
    projects = dict(
        Project.objects.filter(status__in=Project.PUBLIC_STATUSES, township__isnull=False)
        .values_list("township")
        .annotate(n=Count("id"))
    )
    trained = dict(
        Attendance.objects.filter(session__township__isnull=False)
        .values_list("session__township")
        .annotate(n=Count("trainee", distinct=True))
    )
    columns = [("projects", "公益创投项目"), ("trained", "培训社工人数")]
    series = [[projects.get(pk, 0) for pk, _n in towns], [trained.get(pk, 0) for pk, _n in towns]]
    need = _model("Need")
    if has_needs and need is not None:
        published = dict(
            need.objects.filter(published_at__isnull=False).values_list("township").annotate(n=Count("id"))
        )
        columns.append(("needs-published", "发布需求"))
        series.append([published.get(pk, 0) for pk, _n in towns])
    cols = [suppress(s) for s in series]
    rows = [TownshipRow(name=name, cells=[c[i] for c in cols]) for i, (_pk, name) in enumerate(towns)]
    return columns, rows


def public_stats() -> Stats:
    kinds, orgs_total, orgs_vetted = organisations_by_kind()
    years: dict[int, YearRow] = {}
    _funds(years)
    _projects(years)
    _training(years)
    total = YearRow(year=0)
    has_needs = _needs(years, total)
    ordered = [years[y] for y in sorted(years, reverse=True)]
    for attr in (
        "pledged",
        "received",
        "spent",
        "projects",
        "projects_completed",
        "beneficiaries",
        "person_hours",
    ):
        setattr(total, attr, sum((getattr(r, attr) for r in ordered), getattr(total, attr)))
    # Distinct over all years: a person trained in 2025 and 2026 is one person trained.
    total.trained = Attendance.objects.aggregate(n=Count("trainee", distinct=True))["n"] or 0
    columns, townships = _townships(has_needs)
    return Stats(
        kinds=kinds,
        orgs_total=orgs_total,
        orgs_vetted=orgs_vetted,
        years=ordered,
        total=total,
        township_columns=columns,
        townships=townships,
        has_needs=has_needs,
    )
