"""Fill a development database with demo applications and cases (run after seed_demo and seed_pool)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from applications.models import Application
from referrals.demo import DEFAULT_COUNT, DEFAULT_SEED, SeedCasesError, seed_cases
from referrals.models import Colour


class Command(BaseCommand):
    help = (
        "Create demo applications through the real services: some awaiting the family's signatures, "
        "some under review, some decided with open (blue, yellow, red) or closed cases."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--count",
            type=int,
            default=DEFAULT_COUNT,
            help="Applications to create (default %(default)s).",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when any application exists (what `make run` uses).",
        )
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help="Random seed (default %(default)s)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Demo applications name synthetic people and send SMS: never on a production database.
        if not settings.DEBUG:
            raise CommandError("seed_cases 会写入演示申请和案件，只能在 DEBUG=true 时运行。")
        count: int = options["count"]
        if count < 1:
            raise CommandError("--count 至少为 1。")
        if options["if_empty"] and Application.objects.exists():
            self.stdout.write("演示案件未生成：数据库中已有申请。")
            return
        started = time.monotonic()
        try:
            result = seed_cases(count=count, seed=options["seed"])
        except SeedCasesError as exc:
            raise CommandError(str(exc)) from exc
        stages = result.stages
        colours = result.colours
        self.stdout.write(
            f"演示案件已生成（{time.monotonic() - started:.1f} 秒，{'、'.join(result.townships)}）："
            f"申请 {result.applications} 件（待家庭授权 {stages['awaiting']}、审核中 {stages['review']}、"
            f"已决定 {stages['open'] + stages['closed'] + stages['rejected']}），"
            f"核验报告 {result.reports} 份，电子申请表 {result.forms} 份；"
            f"案件办理中 {result.cases_open} 件、已办结 {result.cases_closed} 件；"
            f"未办结转办 {result.referrals_open} 件（红 {colours[Colour.RED]}、黄 {colours[Colour.YELLOW]}、"
            f"蓝 {colours[Colour.BLUE]}）。"
        )
