"""Enter a year's official holiday arrangement from a CSV file, and optionally confirm the year."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_create_with_history

from assist_center.audit import audit_record
from assist_center.models import CalendarDay, CalendarYear
from assist_center.workdays import calendar_changed

COLUMNS = ["date", "kind", "name"]
KINDS = {CalendarDay.Kind.HOLIDAY.value: False, CalendarDay.Kind.MAKEUP.value: True}
NAME_MAX = CalendarDay._meta.get_field("name").max_length or 64
# A real file is a few dozen rows; anything far bigger is the wrong file.
MAX_ROWS = 366
MAX_BYTES = 256 * 1024


class Command(BaseCommand):
    help = (
        "Replace the stored holidays and make-up working days of YEAR with the rows of FILE "
        "(CSV, UTF-8, header date,kind,name; kind is holiday or makeup). With --confirm "
        "the year is marked confirmed and its days take effect; without it they are stored but the "
        "year keeps counting weekends only. One transaction; writes an audit event."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("year", type=int)
        parser.add_argument("file", type=Path)
        parser.add_argument("--confirm", action="store_true", help="Mark the year confirmed.")
        parser.add_argument("--actor", default="", help="Username of the staff member doing the import.")
        parser.add_argument(
            "--source", default="", help="Where the arrangement comes from (default: the notice file)."
        )

    def handle(
        self, *args: Any, year: int, file: Path, confirm: bool, actor: str, source: str, **options: Any
    ) -> None:
        if not 1900 <= year <= 2200:
            raise CommandError(_("Year %(year)s is out of range.") % {"year": year})
        user = None
        if actor:
            user = get_user_model().objects.filter(username=actor, is_active=True).first()
            if user is None:
                raise CommandError(_("No active account named %(name)r.") % {"name": actor})
        raw = _read(file)
        rows = _parse(raw, year, file.name)
        source = source or f"calendar_import {file.name} sha256:{hashlib.sha256(raw).hexdigest()[:16]}"

        with transaction.atomic():
            current = CalendarYear.objects.select_for_update().filter(year=year).first()
            was_confirmed = bool(current and current.confirmed)
            if was_confirmed and not confirm:
                # Without --confirm the year would silently fall back to weekends only.
                raise CommandError(
                    _("%(year)s is already confirmed; pass --confirm to replace its days.") % {"year": year}
                )
            old = CalendarDay.objects.filter(date__year=year)
            old_count = old.count()
            old.delete()
            for row in rows:
                row.confirmed = confirm
            bulk_create_with_history(rows, CalendarDay)
            CalendarYear.objects.update_or_create(
                year=year, defaults={"confirmed": confirm, "source": source[:200]}
            )
            audit_record(
                actor=user,
                action="calendar.import",
                subject=("calendar_year", str(year)),
                old={"confirmed": was_confirmed, "days": old_count},
                new={
                    "confirmed": confirm,
                    "days": len(rows),
                    "holidays": sum(1 for r in rows if r.kind == CalendarDay.Kind.HOLIDAY),
                    "makeup_days": sum(1 for r in rows if r.kind == CalendarDay.Kind.MAKEUP),
                    "source": source[:200],
                },
            )
            calendar_changed()

        self.stdout.write(
            str(_("Imported %(count)s days for %(year)s.") % {"count": len(rows), "year": year})
        )
        if confirm:
            self.stdout.write(str(_("The year is confirmed.")))
        else:
            self.stdout.write(
                str(_("The year is NOT confirmed: it still counts weekends only; run again with --confirm."))
            )


def _read(file: Path) -> bytes:
    try:
        with file.open("rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError as e:
        raise CommandError(_("Cannot read %(file)s: %(error)s") % {"file": file, "error": e.strerror}) from e
    if len(raw) > MAX_BYTES:
        raise CommandError(_("%(file)s is too large for a holiday arrangement.") % {"file": file})
    return raw


def _parse(raw: bytes, year: int, file_name: str) -> list[CalendarDay]:
    """Validate every row and report all problems at once, with line numbers."""
    try:
        text = raw.decode("utf-8-sig")  # Excel writes a BOM.
    except UnicodeDecodeError as e:
        raise CommandError(_("The file is not UTF-8 text.")) from e
    if "\x00" in text:
        raise CommandError(_("The file contains NUL bytes."))
    lines = text.splitlines()
    reader = csv.reader(lines)
    header = [h.strip().lower() for h in next(reader, [])]
    if header != COLUMNS:
        raise CommandError(_("The first line must be the header: %(header)s") % {"header": ",".join(COLUMNS)})

    errors: list[str] = []
    rows: list[CalendarDay] = []
    seen: dict[dt.date, int] = {}
    for fields in reader:
        line = reader.line_num
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != len(COLUMNS):
            errors.append(
                _("line %(line)s: expected 3 columns, found %(n)s") % {"line": line, "n": len(fields)}
            )
            continue
        date_text, kind, name = (f.strip() for f in fields)
        try:
            day = dt.date.fromisoformat(date_text)
            if len(date_text) != 10:
                raise ValueError(date_text)
        except ValueError:
            errors.append(
                _("line %(line)s: %(value)r is not a date like 2027-01-01")
                % {"line": line, "value": date_text}
            )
            continue
        if day.year != year:
            errors.append(
                _("line %(line)s: %(date)s is not in %(year)s") % {"line": line, "date": day, "year": year}
            )
        if day in seen:
            errors.append(
                _("line %(line)s: %(date)s already appears on line %(first)s")
                % {"line": line, "date": day, "first": seen[day]}
            )
        seen.setdefault(day, line)
        kind = kind.lower()
        if kind not in KINDS:
            errors.append(
                _("line %(line)s: kind must be holiday or makeup, not %(kind)r")
                % {"line": line, "kind": kind}
            )
        elif kind == CalendarDay.Kind.MAKEUP and day.weekday() < 5:
            errors.append(
                _("line %(line)s: %(date)s is a weekday; a make-up working day is a Saturday or Sunday")
                % {"line": line, "date": day}
            )
        if not name:
            errors.append(_("line %(line)s: the name is empty") % {"line": line})
        elif len(name) > NAME_MAX:
            errors.append(
                _("line %(line)s: the name is longer than %(max)s characters")
                % {"line": line, "max": NAME_MAX}
            )
        if kind in KINDS:
            rows.append(CalendarDay(date=day, kind=kind, is_workday=KINDS[kind], name=name))
        if len(seen) > MAX_ROWS:
            raise CommandError(
                _("More than %(max)s rows: this is not one year's arrangement.") % {"max": MAX_ROWS}
            )

    if not errors and not rows:
        errors.append(str(_("The file has no rows after the header.")))
    if errors:
        raise CommandError(
            "\n".join([_("%(file)s has errors; nothing was imported:") % {"file": file_name}, *errors])
        )
    return rows
