"""Fill the data pool and the standards for the demo county (run after seed_demo)."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from tqdm import tqdm

from applications.models import Household
from eligibility.demo import SeedPoolResult, seed_pool_records, seed_standards
from eligibility.models import PoolRecord


class Command(BaseCommand):
    help = (
        "Fill the data pool with demo records for the demo county's households, and publish demo standards."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty", action="store_true", help="Add no pool records when the pool already has some."
        )
        parser.add_argument("--seed", type=int, default=331022, help="Random seed (default %(default)s).")

    def handle(self, *args: Any, **options: Any) -> None:
        # Synthetic records about real-looking people must never reach a production pool.
        if not settings.DEBUG:
            raise CommandError(_("seed_pool writes demo data and runs only with DEBUG=true."))
        started = time.monotonic()
        result = SeedPoolResult()
        seed_standards(result)
        if options["if_empty"] and PoolRecord.objects.exists():
            self.stdout.write(_("Demo pool records not loaded: the pool already has records."))
        else:
            interactive = sys.stderr.isatty() and options["verbosity"] > 0
            bar = tqdm(
                total=Household.objects.count(),
                unit="户",
                file=sys.stderr,
                disable=not interactive,
                leave=False,
            )
            try:
                seed_pool_records(result, seed=options["seed"], progress=bar.update)
            finally:
                bar.close()
        self.stdout.write(
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
