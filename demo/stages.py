"""The stages of `manage.py seed_demo`, in the order each builds on the ones before.

A stage is a function of the command's options and its console. Each one is safe to run again
and, with `if_empty`, leaves alone what an earlier run made; the next issues' stages (the charity
board) go at the end of STAGES.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.utils.translation import gettext as _
from tqdm import tqdm

from applications.models import Application, Household
from assist_center.models import Region
from benefits.models import BenefitEntry, Enrolment
from charity.models import Claim, Need
from eligibility.models import DiscoveryLead, MonitoringWarning, PoolRecord
from referrals.models import Colour

from . import cases as demo_cases
from . import pool as demo_pool
from .cases import SeedCasesError, seed_cases
from .charity import SeedCharityError, seed_charity
from .checks import SeedChecksError, seed_checks
from .county import build
from .happiness import SeedHappinessError, seed_happiness
from .monitoring import SeedMonitoringError, seed_monitoring
from .password import get_or_create_demo_password
from .pool import SeedPoolResult, seed_pool_records, seed_standards
from .rolls import seed_rolls

DEFAULT_HOUSEHOLDS = 10_000


class StageError(Exception):
    """A stage cannot run on this database; the message says which stage to run first."""


@dataclass(frozen=True)
class Options:
    if_empty: bool = False
    households: int = DEFAULT_HOUSEHOLDS
    reset_passwords: bool = False
    # The households' seed; None draws a fresh one per top-up (see county.seed_households).
    seed: int | None = None
    pool_seed: int = demo_pool.DEFAULT_SEED
    count: int = demo_cases.DEFAULT_COUNT
    cases_seed: int = demo_cases.DEFAULT_SEED


@dataclass(frozen=True)
class Console:
    stdout: Callable[[str], None]
    stderr: Callable[[str], None]
    interactive: bool = False

    @contextmanager
    def progress(self, total: int) -> Iterator[Callable[[int], None]]:
        """A progress bar counted in households, on stderr and only in a terminal."""
        bar = tqdm(total=total, unit="户", file=sys.stderr, disable=not self.interactive, leave=False)
        try:
            yield bar.update
        finally:
            bar.close()


def county(options: Options, console: Console) -> None:
    """Regions, demo accounts, organisations and households (topped up to `households`)."""
    if options.if_empty and Region.objects.exists():
        console.stdout(_("Demo data not loaded: the database already has regions."))
        return
    password = get_or_create_demo_password()
    started = time.monotonic()
    with console.progress(options.households) as progress:
        result = build(
            households=options.households,
            password=password,
            reset_passwords=options.reset_passwords,
            seed=options.seed,
            progress=progress,
        )
    if result.password_mismatch:
        console.stderr(
            _("Existing demo accounts keep their earlier password; run with --reset-passwords to change it.")
        )
    console.stdout(
        _(
            "Demo county ready in %(seconds).1f s: %(regions)d regions, %(users)d accounts and "
            "%(organisations)d organisations created; %(households)d households (%(persons)d persons) "
            "added, %(total)d in all."
        )
        % {
            "seconds": time.monotonic() - started,
            "regions": result.regions_created,
            "users": result.users_created,
            "organisations": result.organisations_created,
            "households": result.households_created,
            "persons": result.persons_created,
            "total": result.households_total,
        }
    )


def pool(options: Options, console: Console) -> None:
    """The standards (always completed) and the pool's records of every household."""
    started = time.monotonic()
    result = SeedPoolResult()
    seed_standards(result)
    # The county stage's 户籍 records do not count: they are how the county's households came in.
    if options.if_empty and PoolRecord.objects.exclude(category="hukou").exists():
        console.stdout(_("Demo pool records not loaded: the pool already has records."))
    else:
        with console.progress(Household.objects.count()) as progress:
            seed_pool_records(result, seed=options.pool_seed, progress=progress)
    console.stdout(
        _(
            "Demo pool ready in %(seconds).1f s: %(records)d records for %(households)d households, "
            "%(standards)d standards published."
        )
        % {
            "seconds": time.monotonic() - started,
            "records": result.records,
            "households": result.households,
            "standards": result.standards,
        }
    )


def cases(options: Options, console: Console) -> None:
    """`count` applications through the real services, decided and referred, some cases closed."""
    if options.if_empty and Application.objects.exists():
        console.stdout("演示案件未生成：数据库中已有申请。")
        return
    started = time.monotonic()
    try:
        result = seed_cases(count=options.count, seed=options.cases_seed)
    except SeedCasesError as exc:
        raise StageError(str(exc)) from exc
    stages = result.stages
    colours = result.colours
    console.stdout(
        f"演示案件已生成（{time.monotonic() - started:.1f} 秒，{'、'.join(result.townships)}）："
        f"申请 {result.applications} 件（待家庭授权 {stages['awaiting']}、审核中 {stages['review']}、"
        f"已认定 {stages['open'] + stages['closed'] + stages['rejected']}），"
        f"核验报告 {result.reports} 份，电子申请表 {result.forms} 份；"
        f"案件办理中 {result.cases_open} 件、已办结 {result.cases_closed} 件；"
        f"未办结转办 {result.referrals_open} 件（红 {colours[Colour.RED]}、黄 {colours[Colour.YELLOW]}、"
        f"蓝 {colours[Colour.BLUE]}）。"
    )


def rolls(options: Options, console: Console) -> None:
    """The rolls from granted outcomes and the existing recipients' list, and a year of the ledger."""
    # Not "any enrolment": the cases stage's granted outcomes already enrol as they are recorded.
    if options.if_empty and (
        Enrolment.objects.filter(source=Enrolment.Source.EXISTING_RECIPIENT).exists()
        or BenefitEntry.objects.filter(source=BenefitEntry.Source.ENROLMENT_MONTH).exists()
    ):
        console.stdout("演示在册名单未生成：数据库中已有在册记录。")
        return
    started = time.monotonic()
    result = seed_rolls()
    tasks = sum(result.tasks.values())
    first, last = (result.months[0], result.months[-1]) if result.months else ("-", "-")
    console.stdout(
        f"演示在册名单已生成（{time.monotonic() - started:.1f} 秒）：转办给付入册 {result.granted} 项，"
        f"存量救助对象入册 {result.existing} 户（已在册 {result.already_enrolled}），"
        f"比对任务 {tasks} 件；{first} 至 {last} 待遇台账 {result.ledger_entries} 条。"
    )


def monitoring(options: Options, console: Console) -> None:
    """Monitoring warnings and discovery leads in the first townships, so those pages can be tried."""
    if options.if_empty and (MonitoringWarning.objects.exists() or DiscoveryLead.objects.exists()):
        console.stdout("演示监测预警未生成：数据库中已有监测预警或主动发现线索。")
        return
    started = time.monotonic()
    try:
        result = seed_monitoring()
    except SeedMonitoringError as exc:
        raise StageError(str(exc)) from exc
    console.stdout(
        f"演示监测预警已生成（{time.monotonic() - started:.1f} 秒，{'、'.join(result.townships)}）："
        f"监测预警 {result.warnings} 条，主动发现线索 {result.leads} 条。"
    )


def charity(options: Options, console: Console) -> None:
    """The 公益谷: organisations vetted, needs published across townships, claims in every state."""
    if options.if_empty and (Need.objects.exists() or Claim.objects.exists()):
        console.stdout("演示公益谷未生成：数据库中已有公益需求。")
        return
    started = time.monotonic()
    try:
        result = seed_charity()
    except SeedCharityError as exc:
        raise StageError(str(exc)) from exc
    if result.skipped_board:
        console.stdout(f"演示公益谷：审核通过组织 {result.vetted} 家；公益需求已存在，未再生成。")
        return
    claims = result.claims
    console.stdout(
        f"演示公益谷已生成（{time.monotonic() - started:.1f} 秒，{'、'.join(result.townships)}）："
        f"审核通过组织 {result.vetted} 家、待审核 {result.waiting} 家；发布需求 {result.needs} 条"
        f"（公众可见 {result.public} 条）；认领 {sum(claims.values())} 件（已认领 {claims.get('active', 0)}、"
        f"已联系 {claims.get('contacted', 0)}、待居民确认 {claims.get('reported', 0)}、"
        f"有争议 {claims.get('disputed', 0)}、已确认 {claims.get('confirmed', 0)}、"
        f"超时释放 {claims.get('released', 0)}）；资金流水 {result.fund_entries} 条，"
        f"公益创投项目 {result.projects} 个，培训学员 {result.trainees} 人。"
    )


def checks(options: Options, console: Console) -> None:
    """The 幸福清单's omissions and duplicates in the first township, found by the nightly check."""
    started = time.monotonic()
    try:
        result = seed_checks()
    except SeedChecksError as exc:
        if options.if_empty:  # a whole run on a county too small for it: say why, run the rest
            console.stdout(str(exc))
            return
        raise StageError(str(exc)) from exc
    console.stdout(
        f"演示遗漏与重复已生成（{time.monotonic() - started:.1f} 秒，{result.township}）："
        f"埋设遗漏 {result.planted['omission']} 户、重复 {result.planted['duplicate']} 户；"
        f"待核查：遗漏 {result.open_flags['omission']} 条、重复 {result.open_flags['duplicate']} 条、"
        f"回访未收到 {result.open_flags['receipt']} 条。"
    )


def happiness(options: Options, console: Console) -> None:
    """The 幸福清单: 幸福签 cards of the first township's households that received help this year."""
    started = time.monotonic()
    try:
        result = seed_happiness()
    except SeedHappinessError as exc:
        if options.if_empty:  # as for the checks: a whole run goes on
            console.stdout(str(exc))
            return
        raise StageError(str(exc)) from exc
    console.stdout(
        f"演示幸福清单已生成（{time.monotonic() - started:.1f} 秒，{result.township}）："
        f"幸福签 {result.cards} 张（新发 {result.issued} 张）。"
    )


# In the order they run: the pool describes the county's households, the cases are made from both,
# the rolls from the cases' granted outcomes and the pool's list of existing recipients.
STAGES: dict[str, Callable[[Options, Console], None]] = {
    "county": county,
    "pool": pool,
    "cases": cases,
    "rolls": rolls,
    "monitoring": monitoring,  # warnings and leads, from imports of changed records
    "charity": charity,  # the 公益谷 board, from the cases' and the county's households
    "checks": checks,  # the happiness list's omission and duplicate flags (after rolls and charity)
    "happiness": happiness,  # the 幸福签 cards of the households with a year on their lists
}
