"""Seed the working-day calendar for 2004–2026 from chinese-calendar.

Only the days that break the plain rule (Monday–Friday work, Saturday–Sunday rest) are stored:
every statutory holiday day, including the weekend days inside a holiday period and the in-lieu
weekdays (调休), and every make-up working day (补班) on a weekend. Ordinary weekdays and weekends
follow the rule in assist_center.workdays and need no row. Each seeded year is marked confirmed.

The library's data was checked against the State Council notice of 4 November 2025 for 2026
(stack.md) and agrees with it day for day; tests/core/test_workdays.py checks every 2026 date.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import migrations

FIRST_YEAR = 2004
# The library's last year; 2027 onwards is entered with `manage.py calendar_import`.
LAST_YEAR = 2026

# The library names holidays in English; staff read Chinese.
CHINESE_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def _source() -> str:
    import chinese_calendar

    return f"chinese-calendar {chinese_calendar.__version__}"


def _in_range(d: dt.date) -> bool:
    return FIRST_YEAR <= d.year <= LAST_YEAR


def seed(apps: Any, schema_editor: Any) -> None:
    import chinese_calendar

    CalendarDay = apps.get_model("assist_center", "CalendarDay")
    CalendarYear = apps.get_model("assist_center", "CalendarYear")

    rows = []
    for day, english in sorted(chinese_calendar.holidays.items()):
        if not _in_range(day):
            continue
        name = CHINESE_NAMES.get(english, english)
        if day in chinese_calendar.in_lieu_days:
            name += "（调休）"
        rows.append(CalendarDay(date=day, is_workday=False, kind="holiday", name=name, confirmed=True))
    for day, english in sorted(chinese_calendar.workdays.items()):
        if not _in_range(day):
            continue
        name = CHINESE_NAMES.get(english, english) + "（补班）"
        rows.append(CalendarDay(date=day, is_workday=True, kind="makeup", name=name, confirmed=True))
    CalendarDay.objects.bulk_create(rows, batch_size=1000)

    source = _source()
    CalendarYear.objects.bulk_create(
        [CalendarYear(year=y, confirmed=True, source=source) for y in range(FIRST_YEAR, LAST_YEAR + 1)]
    )


def unseed(apps: Any, schema_editor: Any) -> None:
    CalendarDay = apps.get_model("assist_center", "CalendarDay")
    CalendarYear = apps.get_model("assist_center", "CalendarYear")
    # The whole seeded range goes, including later admin corrections to those years: without the
    # seed, a half-corrected year would be worse than none.
    CalendarDay.objects.filter(date__year__gte=FIRST_YEAR, date__year__lte=LAST_YEAR).delete()
    CalendarYear.objects.filter(year__gte=FIRST_YEAR, year__lte=LAST_YEAR).delete()


class Migration(migrations.Migration):
    dependencies = [("assist_center", "0002_audit_event_append_only")]

    operations = [migrations.RunPython(seed, unseed, elidable=False)]
