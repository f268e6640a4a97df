"""Fill a development database with the demo county, its data pool and its cases (docs/domain-data.md)."""

from __future__ import annotations

import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from demo.stages import DEFAULT_HOUSEHOLDS, STAGES, Console, Options, StageError


class Command(BaseCommand):
    help = (
        "Create or complete the demo data, stage by stage: the county (regions, demo accounts, "
        "organisations, households), the pool (data-pool records and standards) and the cases "
        "(applications in every state, with cases and coloured referrals)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        defaults = Options()
        parser.add_argument(
            "--stage",
            action="append",
            choices=list(STAGES),
            help="Run only this stage (repeatable); default: every stage, in order.",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help=(
                "Skip what is already there: the county when any region exists, the pool's records "
                "when it has any, the cases when any application exists (what `make run` uses)."
            ),
        )
        parser.add_argument(
            "--households",
            type=int,
            default=DEFAULT_HOUSEHOLDS,
            help="county: total households wanted (default %(default)s); only the missing ones are added.",
        )
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="county: set every demo account's password to the current demo password.",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=None,
            help="county: random seed of the households, for a reproducible run.",
        )
        parser.add_argument(
            "--pool-seed",
            type=int,
            default=defaults.pool_seed,
            help="pool: random seed (default %(default)s).",
        )
        parser.add_argument(
            "--count",
            type=int,
            default=defaults.count,
            help="cases: applications to create (default %(default)s).",
        )
        parser.add_argument(
            "--cases-seed",
            type=int,
            default=defaults.cases_seed,
            help="cases: random seed (default %(default)s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Demo accounts share one known password: a production database must never get them.
        if not settings.DEBUG:
            raise CommandError(_("seed_demo creates demo accounts and runs only with DEBUG=true."))
        if options["households"] < 0:
            raise CommandError(_("--households must be zero or more."))
        if options["count"] < 1:
            raise CommandError("--count 至少为 1。")
        chosen = set(options["stage"] or STAGES)
        run = Options(
            if_empty=options["if_empty"],
            households=options["households"],
            reset_passwords=options["reset_passwords"],
            seed=options["seed"],
            pool_seed=options["pool_seed"],
            count=options["count"],
            cases_seed=options["cases_seed"],
        )
        console = Console(
            stdout=self.stdout.write,
            stderr=self.stderr.write,
            interactive=sys.stderr.isatty() and options["verbosity"] > 0,
        )
        for name, stage in STAGES.items():
            if name in chosen:
                try:
                    stage(run, console)
                except StageError as exc:
                    raise CommandError(str(exc)) from exc
