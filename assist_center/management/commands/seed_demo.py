"""Fill a development database with the demo county (see docs/domain-data.md)."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from tqdm import tqdm

from assist_center.demo.builder import build
from assist_center.demo.password import get_or_create_demo_password
from assist_center.models import Region

DEFAULT_HOUSEHOLDS = 10_000


class Command(BaseCommand):
    help = (
        "Create or complete the demo county: regions, departments, demo accounts, organisations, households."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--households",
            type=int,
            default=DEFAULT_HOUSEHOLDS,
            help="Total households wanted (default %(default)s); only the missing ones are added.",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when any region exists (what `make run` uses).",
        )
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="Set every demo account's password to the current demo password.",
        )
        parser.add_argument("--seed", type=int, default=None, help="Random seed, for a reproducible run.")

    def handle(self, *args: Any, **options: Any) -> None:
        # Demo accounts share one known password: a production database must never get them.
        if not settings.DEBUG:
            raise CommandError(_("seed_demo creates demo accounts and runs only with DEBUG=true."))
        target: int = options["households"]
        if target < 0:
            raise CommandError(_("--households must be zero or more."))
        if options["if_empty"] and Region.objects.exists():
            self.stdout.write(_("Demo data not loaded: the database already has regions."))
            return

        password = get_or_create_demo_password()
        interactive = sys.stderr.isatty() and options["verbosity"] > 0
        started = time.monotonic()
        bar = tqdm(total=target, unit="户", file=sys.stderr, disable=not interactive, leave=False)
        try:
            result = build(
                households=target,
                password=password,
                reset_passwords=options["reset_passwords"],
                seed=options["seed"],
                progress=bar.update,
            )
        finally:
            bar.close()
        elapsed = time.monotonic() - started

        if result.password_mismatch:
            self.stderr.write(
                _(
                    "Existing demo accounts keep their earlier password; "
                    "run with --reset-passwords to change it."
                )
            )
        self.stdout.write(
            _(
                "Demo county ready in %(seconds).1f s: %(regions)d regions, %(departments)d departments, "
                "%(users)d accounts and %(organisations)d organisations created; %(households)d households "
                "(%(persons)d persons) added, %(total)d in all."
            )
            % {
                "seconds": elapsed,
                "regions": result.regions_created,
                "departments": result.departments_created,
                "users": result.users_created,
                "organisations": result.organisations_created,
                "households": result.households_created,
                "persons": result.persons_created,
                "total": result.households_total,
            }
        )
