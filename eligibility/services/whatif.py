"""Re-checking enrolled households in bulk, and the what-if of a new standard before it takes effect.

The engine loads a chunk of enrolled households (one query for the roster, one for every member's
pool records, standards once per run), computes each household's facts and runs the rules in
Python: no query per household, so 10,000 households are a few dozen queries. Monitoring and
discovery use the same loaders for the few households an import touched.

Members come from the household registry (applications.Person) with masked names only ("王*"):
the facts of a bulk run never carry personal data, and a reason still says whom it is about. The
registry knows no supporters (赡养人), so the extreme-poverty supporter criterion sees none; an
application's own report, not this run, decides that item.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import io
import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, NamedTuple

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications.models import Household, Person
from assist_center.actors import Actor
from assist_center.audit import audit_record
from assist_center.errors import ApplicationError, field_error
from assist_center.models import Region
from assist_center.pii import mask_name
from assist_center.scopes import is_county_wide

from ..facts import HouseholdFacts, LeanFacts, MemberInput, compute_facts, lean_facts
from ..models import PoolRecord, Standard
from ..rules import (
    ITEM_LABELS,
    ITEMS,
    OUTCOME_LABELS,
    ItemOutcome,
    ParamsError,
    Rules,
    validate_params,
)
from ..standards import in_force_q

CHUNK_HOUSEHOLDS = 5000
BASE_ITEMS = ("dibao", "low_income_edge", "extreme_poverty")
# Person.relation (to the head) -> the facts' relation words (eligibility.facts.RELATION_LABELS).
_RELATION = {"head": "self"}
GAIN, LOSE, UNCHANGED = "gain", "lose", "unchanged"


class PoolRow(NamedTuple):
    """A pool record as the facts read it (eligibility.facts.RecordLike); a tuple is cheap to build."""

    category: str
    department: str
    source_record_id: str
    effective_date: dt.date
    data: Mapping[str, Any]


@dataclass
class Roster:
    """An enrolled (or any) household as the registry has it: members without names."""

    household_id: int
    township_id: int
    village_id: int
    members: list[MemberInput] = field(default_factory=list)
    head_name: str = ""  # only ever shown masked


# --- loading -----------------------------------------------------------------------------------


@contextmanager
def gc_paused() -> Iterator[None]:
    """Cyclic garbage collection off for a bulk run, as it was before afterwards.

    A run keeps a chunk's few hundred thousand records, data dicts and facts alive at once, so the
    collector, triggered by every 700 allocations, scans them again and again: a third of the
    loading time. None of them is part of a cycle, so reference counting frees them as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_rosters(household_ids: Sequence[int]) -> dict[int, Roster]:
    """The households' members in one query, the head first (the facts' "applicant")."""
    rosters: dict[int, Roster] = {}
    if not household_ids:
        return rosters
    # A raw cursor, as load_records: the ORM's per-row machinery (and its IN list of thousands of
    # parameters, where one array is faster) costs more than the query. The columns are plain ones,
    # with no conversion from the database to miss.
    person, household = Person._meta.db_table, Household._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT p.household_id, h.township_id, h.village_id, p.id_number_hash, p.relation, "  # noqa: S608
            f"p.birth_date, p.sex, p.name FROM {person} p JOIN {household} h ON h.id = p.household_id "
            f"WHERE p.household_id = ANY(%s) ORDER BY p.household_id, p.id",
            [list(household_ids)],
        )
        fetched = cursor.fetchall()
    for household_id, township_id, village_id, person_hash, relation, birth, sex, name in fetched:
        roster = rosters.get(household_id)
        if roster is None:
            roster = rosters[household_id] = Roster(household_id, int(township_id or 0), village_id)
        role = "applicant" if relation == "head" and not roster.head_name else "member"
        if role == "applicant":
            roster.head_name = name
        key = f"m{len(roster.members) + 1}"
        # The masked name only ("王*"), so a reason names "王*（配偶）" rather than "m2（配偶）".
        roster.members.append(
            MemberInput(
                key, person_hash, role, _RELATION.get(relation, relation), birth, sex, mask_name(name)
            )
        )
    for roster in rosters.values():
        # A household without a registered head: its first member stands in, so the facts have one.
        if roster.members and not any(m.role == "applicant" for m in roster.members):
            first = roster.members[0]
            roster.members[0] = first._replace(role="applicant")
    return rosters


def load_records(person_hashes: Iterable[str], *, as_of: dt.date) -> dict[str, list[PoolRow]]:
    """Every pool record of these persons in effect by `as_of`, in one query, oldest first.

    A raw cursor and one json.loads: the ORM's per-row JSONField and model machinery cost several
    times the SELECT itself at 100,000+ rows.
    """
    hashes = list(dict.fromkeys(person_hashes))
    out: dict[str, list[PoolRow]] = defaultdict(list)
    if not hashes:
        return out
    with connection.cursor() as cursor:
        cursor.execute(
            # data::text: the jsonb arrives as plain text (no per-row Python typecaster), and is
            # parsed below in one call.
            f"SELECT person_hash, category, department, source_record_id, effective_date, data::text "  # noqa: S608
            f"FROM {PoolRecord._meta.db_table} WHERE person_hash = ANY(%s) AND effective_date <= %s",
            [hashes, as_of],
        )
        rows = cursor.fetchall()
    # Parsed as one array it costs about a third of a json.loads per row (the per-call overhead
    # dominates for small documents); the values are the same.
    datas: list[Any] = json.loads("[" + ",".join(row[5] for row in rows) + "]")
    for (person_hash, category, department, source_id, effective_date, _text), data in zip(
        rows, datas, strict=True
    ):
        out[person_hash].append(PoolRow(category, department, source_id, effective_date, data))
    # Oldest first, like eligibility.pool.selectors: sorting each person's few records here is
    # cheaper than an ORDER BY over the whole result.
    by_date = attrgetter("effective_date", "source_record_id")
    for records in out.values():
        records.sort(key=by_date)
    return out


class StandardsCache:
    """Standards in force on a date for each township (its own, else the county's); one query."""

    def __init__(self, as_of: dt.date) -> None:
        self.as_of = as_of
        self._by_region: dict[int, dict[str, Standard]] | None = None
        self._parent: dict[int, int | None] = {}
        self._resolved: dict[int, dict[str, Standard]] = {}

    def _load(self, township_ids: Iterable[int]) -> None:
        missing = [t for t in township_ids if t not in self._parent]
        if missing:
            self._parent.update(Region.objects.filter(pk__in=missing).values_list("pk", "parent_id"))
        if self._by_region is None:
            self._by_region = defaultdict(dict)
            for s in Standard.objects.filter(in_force_q(self.as_of)).select_related("region"):
                self._by_region[s.region_id][s.item] = s

    def for_townships(self, township_ids: Iterable[int]) -> dict[int, dict[str, Standard]]:
        ids = list(dict.fromkeys(township_ids))
        self._load(ids)
        assert self._by_region is not None
        out = {}
        for t in ids:
            if t not in self._resolved:
                county = self._parent.get(t)
                merged = dict(self._by_region.get(county, {})) if county is not None else {}
                merged.update(self._by_region.get(t, {}))
                self._resolved[t] = merged
            out[t] = self._resolved[t]
        return out


def facts_for(rosters: Iterable[Roster], *, as_of: dt.date) -> Iterator[tuple[Roster, HouseholdFacts]]:
    """Each roster's facts on `as_of`; the records of all of them in one query."""
    rosters = list(rosters)
    records = load_records((m.person_hash for r in rosters for m in r.members), as_of=as_of)
    for roster in rosters:
        yield roster, compute_facts(roster.members, records, as_of=as_of)


def lean_facts_for(rosters: Iterable[Roster], *, as_of: dt.date) -> Iterator[tuple[Roster, LeanFacts]]:
    """Each roster's lean facts on `as_of` (what the rules decide on, unexplained); one query."""
    rosters = list(rosters)
    records = load_records((m.person_hash for r in rosters for m in r.members), as_of=as_of)
    for roster in rosters:
        yield roster, lean_facts(roster.members, records, as_of=as_of)


def enrolled_ids(*, township_ids: Sequence[int] | None = None) -> list[int]:
    qs = Household.objects.filter(is_enrolled=True)
    if township_ids is not None:
        qs = qs.filter(township_id__in=list(township_ids))
    return list(qs.order_by("pk").values_list("pk", flat=True))


def enrolled_lean_facts(
    *, as_of: dt.date, township_ids: Sequence[int] | None = None, chunk: int = CHUNK_HOUSEHOLDS
) -> Iterator[tuple[Roster, LeanFacts]]:
    """Every enrolled household's lean facts, `chunk` households at a time (2 queries a chunk).

    Lean facts, not the explained ones: the re-check and the what-if only count outcomes.
    """
    ids = enrolled_ids(township_ids=township_ids)
    for start in range(0, len(ids), chunk):
        rosters = load_rosters(ids[start : start + chunk])
        yield from lean_facts_for(rosters.values(), as_of=as_of)


def params_of(standards: Mapping[str, Standard], items: Iterable[str] | None = None) -> dict[str, Any]:
    wanted = set(items) if items is not None else None
    return {k: s.params for k, s in standards.items() if wanted is None or k in wanted}


# --- re-check of the rolls ---------------------------------------------------------------------


@dataclass
class RecheckSummary:
    households: int = 0
    seconds: float = 0.0
    # item -> outcome -> households
    outcomes: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))


def recheck_enrolled(*, as_of: dt.date | None = None, chunk: int = CHUNK_HOUSEHOLDS) -> RecheckSummary:
    """Every enrolled household against every item's standard in force: outcome counts per item.

    Read-only (saves nothing): what a nightly re-check or the bench measures. Monitoring re-checks
    only the households an import changed, with the same functions.
    """
    started = time.perf_counter()
    as_of = as_of or timezone.localdate()
    cache = StandardsCache(as_of)
    summary = RecheckSummary()
    rules_by_township: dict[int, Rules] = {}
    # Households share a handful of outcome combinations: count those, then spread them per item.
    # Joined into one string, because hashing a tuple of enum members calls Enum.__hash__ for each.
    combinations: Counter[str] = Counter()
    with gc_paused():
        for roster, facts in enrolled_lean_facts(as_of=as_of, chunk=chunk):
            rules = rules_by_township.get(roster.township_id)
            if rules is None:
                rules = rules_by_township[roster.township_id] = Rules(
                    params_of(cache.for_townships([roster.township_id])[roster.township_id])
                )
            # Outcomes only (the rules without their explanations): the counts need no reasons.
            combinations["|".join(rules.decide(facts).values())] += 1
    for outcomes, households in combinations.items():
        for item, outcome in zip(ITEMS, outcomes.split("|"), strict=True):
            summary.outcomes[item][outcome] += households
        summary.households += households
    summary.seconds = time.perf_counter() - started
    return summary


def item_rules(params: Mapping[str, Any], item: str) -> Rules:
    """The rules one item's outcome depends on (the three basic items and itself), prepared once."""
    return Rules({k: v for k, v in params.items() if k == item or k in BASE_ITEMS})


# --- what-if ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WhatIfRow:
    household_id: int
    township: str
    village: str
    head: str  # masked
    old: str
    new: str
    change: str  # gain / lose


@dataclass
class TownshipCount:
    township_id: int
    township: str
    gain: int = 0
    lose: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.gain + self.lose + self.unchanged


@dataclass
class WhatIfResult:
    item: str
    params: dict[str, Any]
    region_code: str
    region_name: str
    as_of: dt.date
    households: int = 0
    by_township: list[TownshipCount] = field(default_factory=list)
    rows: list[WhatIfRow] = field(default_factory=list)  # households that gain or lose, only
    seconds: float = 0.0

    @property
    def gain(self) -> int:
        return sum(t.gain for t in self.by_township)

    @property
    def lose(self) -> int:
        return sum(t.lose for t in self.by_township)

    @property
    def unchanged(self) -> int:
        return sum(t.unchanged for t in self.by_township)


def _county() -> Region:
    county = Region.objects.filter(level=Region.Level.COUNTY).order_by("code").first()
    if county is None:
        raise ApplicationError(_("The county has not been set up."))
    return county


def whatif_run(
    *,
    actor: Actor,
    item: str,
    params: Mapping[str, Any],
    region: Region | None = None,
    as_of: dt.date | None = None,
    audit: bool = True,
) -> WhatIfResult:
    """Who of the enrolled households would gain or lose `item` if `params` replaced its standard.

    `region` is where the new standard would be published: the county (default) or a township.
    For the county, townships with their own standard of the item keep it, so their households are
    unchanged; for a township, only its households are run. Both sides use the facts on `as_of`
    (default today), so only the standard differs. Coordinators only; the run is audited.
    """
    if not is_county_wide(actor):
        raise PermissionDenied
    started = time.perf_counter()
    if item not in ITEMS:
        raise field_error("item", _("Unknown assistance item."))
    try:
        new_params = validate_params(item, params)
    except ParamsError as exc:
        raise ApplicationError(_("Check the standard's parameters."), {"fields": exc.fields}) from None
    county = _county()
    if region is None:
        region = county
    if region.level == Region.Level.VILLAGE:
        raise field_error("region", _("Standards are set for the county or a township."))
    as_of = as_of or timezone.localdate()
    townships = (
        [region.pk]
        if region.level == Region.Level.TOWNSHIP
        else list(Region.objects.filter(level=Region.Level.TOWNSHIP).values_list("pk", flat=True))
    )
    cache = StandardsCache(as_of)
    standards = cache.for_townships(townships)
    names = dict(
        Region.objects.filter(level__in=[Region.Level.TOWNSHIP, Region.Level.VILLAGE]).values_list(
            "pk", "name"
        )
    )
    counts = {t: TownshipCount(t, names.get(t, "")) for t in townships}
    result = WhatIfResult(item, new_params, region.code, region.name, as_of)
    old_by_township: dict[int, Rules] = {}
    new_by_township: dict[int, Rules | None] = {}
    for t in townships:
        old = params_of(standards[t])
        old_by_township[t] = item_rules(old, item)
        current = standards[t].get(item)
        # The new version replaces the standard of `region`; a township's own standard outranks the county's.
        applies = region.pk == t or current is None or current.region_id == region.pk
        new_by_township[t] = item_rules({**old, item: new_params}, item) if applies else None
    with gc_paused():
        for roster, facts in enrolled_lean_facts(as_of=as_of, township_ids=townships):
            count = counts[roster.township_id]
            result.households += 1
            new = new_by_township[roster.township_id]
            if new is None:
                count.unchanged += 1
                continue
            before = old_by_township[roster.township_id].decide(facts)[item]
            after = new.decide(facts)[item]
            if after == before or (ItemOutcome.ELIGIBLE not in (before, after)):
                count.unchanged += 1
                continue
            change = GAIN if after == ItemOutcome.ELIGIBLE else LOSE
            if change == GAIN:
                count.gain += 1
            else:
                count.lose += 1
            result.rows.append(
                WhatIfRow(
                    roster.household_id,
                    names.get(roster.township_id, ""),
                    names.get(roster.village_id, ""),
                    mask_name(roster.head_name),
                    str(before),
                    str(after),
                    change,
                )
            )
    result.by_township = sorted(counts.values(), key=lambda c: c.township)
    result.seconds = time.perf_counter() - started
    if audit:
        audit_record(
            actor=actor,
            action="standard.whatif",
            subject=("eligibility.standard", item),
            new={
                "item": item,
                "region": region.code,
                "as_of": as_of,
                "params": new_params,
                "households": result.households,
                "gain": result.gain,
                "lose": result.lose,
            },
        )
    return result


# --- download --------------------------------------------------------------------------------

_FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A cell a spreadsheet will not run as a formula (security.md: exports escape =, +, -, @)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_LEADS) else text


def whatif_csv(*, actor: Actor, result: WhatIfResult) -> HttpResponse:
    """The result as CSV (UTF-8 with BOM, which Excel needs for Chinese); the download is audited."""
    if not is_county_wide(actor):
        raise PermissionDenied
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    label = ITEM_LABELS[result.item]
    writer.writerow(["项目", label, "地区", result.region_name, "核对日期", result.as_of.isoformat()])
    writer.writerow(["新标准参数", json.dumps(result.params, ensure_ascii=False)])
    writer.writerow([])
    writer.writerow(["乡镇（街道）", "新增符合", "不再符合", "不变", "合计"])
    for t in result.by_township:
        writer.writerow([csv_cell(t.township), t.gain, t.lose, t.unchanged, t.total])
    writer.writerow([])
    writer.writerow(["家庭编号", "乡镇（街道）", "村（社区）", "户主", "现行标准结果", "新标准结果", "变化"])
    change_labels = {GAIN: "新增符合", LOSE: "不再符合"}
    for row in result.rows:
        writer.writerow(
            [
                row.household_id,
                csv_cell(row.township),
                csv_cell(row.village),
                csv_cell(row.head),
                OUTCOME_LABELS[ItemOutcome(row.old)],
                OUTCOME_LABELS[ItemOutcome(row.new)],
                change_labels[row.change],
            ]
        )
    audit_record(
        actor=actor,
        action="standard.whatif.export",
        subject=("eligibility.standard", result.item),
        new={"item": result.item, "region": result.region_code, "rows": len(result.rows)},
    )
    response = HttpResponse(
        "\ufeff" + buffer.getvalue(),
        content_type="text/csv; charset=utf-8",
        headers={"Cache-Control": "no-store"},
    )
    filename = f"whatif-{result.item}-{result.as_of.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
