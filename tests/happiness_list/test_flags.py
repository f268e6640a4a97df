"""Omission and duplicate flags (issue 12, "The cadre's view and the checks"): the rules at their
boundaries, the nightly check once-only and proportional to what changed, and the resolution."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from applications.models import Household
from assist_center.errors import ApplicationError, ConflictError
from assist_center.models import AuditEvent, Region
from benefits.models import BenefitEntry, Enrolment
from benefits.services.ledger import benefit_record
from eligibility.models import ItemDecision, VerificationReport
from happiness_list.models import FlagCheckRun, ListFlag
from happiness_list.services.flags import check_month_of, flag_check_nightly, flag_resolve, flags_detect

from .. import factories as f

TODAY = dt.date(2026, 11, 18)  # the check month is October 2026
OCT = dt.date(2026, 10, 1)
pytestmark = pytest.mark.django_db


def _hh(village: Region) -> Household:
    return f.household(village)


def _enrol(
    h: Household,
    *,
    since: dt.date,
    item: str = "dibao",
    ended_on: dt.date | None = None,
    amount: str | None = "800.00",
    kind: str = "",
    department: Any = None,
) -> Enrolment:
    ended = ended_on is not None
    return Enrolment.objects.create(
        household=h,
        township=h.township,
        item=item,
        since=since,
        monthly_amount=Decimal(amount) if amount is not None else None,
        kind=kind,
        department=department,
        source=Enrolment.Source.EXISTING_RECIPIENT,
        state=Enrolment.State.ENDED if ended else Enrolment.State.ACTIVE,
        ended_on=ended_on,
        end_reason=Enrolment.EndReason.DEPARTMENT if ended else "",
    )


def _entry(
    h: Household,
    key: str,
    *,
    period: dt.date,
    item: str = "dibao",
    provider: str = "civil_affairs",
    amount: str | None = "800.00",
    source: str = BenefitEntry.Source.PAYMENT_FILE,
    in_kind: str = "",
) -> BenefitEntry:
    entry, _ = benefit_record(
        actor=None,
        household_id=h.pk,
        source=source,
        source_key=key,
        period=period,
        item=item,
        provider_code=provider,
        provider_name={"civil_affairs": "民政局", "medical_security": "医疗保障局"}.get(provider, provider),
        amount=Decimal(amount) if amount is not None else None,
        in_kind=in_kind,
    )
    return entry


def _found(households: list[Household]) -> dict[int, list[tuple[str, str, str]]]:
    out: dict[int, list[tuple[str, str, str]]] = {h.pk: [] for h in households}
    for finding in flags_detect([h.pk for h in households], today=TODAY):
        out[finding.household_id].append((finding.kind, finding.reason, finding.item))
    return out


def test_the_check_month_is_the_last_complete_month() -> None:
    assert check_month_of(TODAY) == OCT
    assert check_month_of(dt.date(2026, 1, 1)) == dt.date(2025, 12, 1)


def test_an_enrolment_expects_its_month_at_the_period_edges(county_map: Any) -> None:
    v = county_map.village_a1
    since_last_day, since_next_month, ended_before, ended_first_day, paid = (_hh(v) for _ in range(5))
    _enrol(since_last_day, since=dt.date(2026, 10, 31))
    _enrol(since_next_month, since=dt.date(2026, 11, 1))
    _enrol(ended_before, since=dt.date(2026, 1, 1), ended_on=dt.date(2026, 9, 30))
    _enrol(ended_first_day, since=dt.date(2026, 1, 1), ended_on=dt.date(2026, 10, 1))
    _enrol(paid, since=dt.date(2026, 1, 1))
    _entry(paid, "file:dibao:paid-oct", period=OCT)

    found = _found([since_last_day, since_next_month, ended_before, ended_first_day, paid])

    omission = [("omission", "enrolled_not_paid", "dibao")]
    assert found[since_last_day.pk] == omission
    assert found[ended_first_day.pk] == omission
    assert found[since_next_month.pk] == []
    assert found[ended_before.pk] == []
    assert found[paid.pk] == []


def test_an_entry_of_another_month_or_item_does_not_count(county_map: Any) -> None:
    v = county_map.village_a1
    september, other_item = _hh(v), _hh(v)
    _enrol(september, since=dt.date(2026, 1, 1))
    _entry(september, "file:dibao:sep", period=dt.date(2026, 9, 1))
    _entry(september, "file:dibao:nov", period=dt.date(2026, 11, 1))
    _enrol(other_item, since=dt.date(2026, 1, 1))
    _entry(other_item, "file:temp:oct", period=OCT, item="temporary")
    found = _found([september, other_item])
    assert found[september.pk] == [("omission", "enrolled_not_paid", "dibao")]
    assert found[other_item.pk] == [("omission", "enrolled_not_paid", "dibao")]


def test_an_enrolment_in_kind_expects_one_delivery_from_the_month_after_it_began(county_map: Any) -> None:
    v = county_map.village_a1
    began_in_october, began_in_september, delivered = _hh(v), _hh(v), _hh(v)
    for h in (began_in_october, began_in_september, delivered):
        since = dt.date(2026, 10, 1) if h is began_in_october else dt.date(2026, 9, 30)
        _enrol(h, item="utility_relief", since=since, amount=None, kind="电费减免")
    _entry(
        delivered,
        "file:util:1",
        period=dt.date(2026, 9, 1),
        item="utility_relief",
        amount=None,
        in_kind="电费减免",
    )
    found = _found([began_in_october, began_in_september, delivered])
    assert found[began_in_october.pk] == []
    assert found[began_in_september.pk] == [("omission", "enrolled_not_paid", "utility_relief")]
    assert found[delivered.pk] == []


def test_a_pending_referral_of_the_item_suppresses_the_omission(county_map: Any) -> None:
    referral = f.ReferralFactory.create(pending=True, item="disability_living", village=county_map.village_a1)
    waiting = referral.case.application.household
    not_waiting = _hh(county_map.village_a1)
    for h in (waiting, not_waiting):
        _enrol(h, item="disability_living", since=dt.date(2026, 6, 1), amount="120.00")
    found = _found([waiting, not_waiting])
    assert ("omission", "enrolled_not_paid", "disability_living") not in found[waiting.pk]
    assert found[not_waiting.pk] == [("omission", "enrolled_not_paid", "disability_living")]

    # Once the department has finished, nothing is pending: the missing month is an omission.
    from referrals.models import Referral

    Referral.objects.filter(pk=referral.pk).update(status=Referral.Status.COMPLETED)
    found = _found([waiting])
    assert ("omission", "enrolled_not_paid", "disability_living") in found[waiting.pk]


def _report(county_map: Any, *, created: dt.datetime, items: list[str]) -> VerificationReport:
    app = f.ApplicationFactory.create(submitted=True, village=county_map.village_a1, needs=["dibao"])
    report = VerificationReport.objects.create(
        application=app,
        trigger=VerificationReport.Trigger.MONITORING,
        as_of=created.date(),
        input_hash="0" * 64,
        results=[{"item": i, "outcome": "eligible"} for i in items]
        + [{"item": "housing", "outcome": "not_eligible"}],
    )
    VerificationReport.objects.filter(pk=report.pk).update(created_at=created)
    report.refresh_from_db()
    return report


def test_a_verification_expects_the_eligible_items_by_the_end_of_the_next_month(county_map: Any) -> None:
    from django.utils import timezone

    tz = timezone.get_current_timezone()
    late_september = _report(
        county_map, created=dt.datetime(2026, 9, 30, 23, 0, tzinfo=tz), items=["disability_living"]
    )
    early_october = _report(
        county_map, created=dt.datetime(2026, 10, 1, 8, 0, tzinfo=tz), items=["disability_living"]
    )
    rejected = _report(
        county_map, created=dt.datetime(2026, 9, 5, 9, 0, tzinfo=tz), items=["medical", "education"]
    )
    ItemDecision.objects.create(
        application=rejected.application,
        report=rejected,
        item="medical",
        decision=ItemDecision.Decision.REJECT,
        reason="已由子女负担",
        decided_by=f.township_assistant(county_map.village_a1),
    )
    paid = _report(county_map, created=dt.datetime(2026, 9, 5, 9, 0, tzinfo=tz), items=["education"])
    _entry(paid.application.household, "outcome:edu", period=OCT, item="education", amount="500.00")

    households = [r.application.household for r in (late_september, early_october, rejected, paid)]
    found = _found(households)
    assert ("omission", "eligible_not_paid", "disability_living") in found[households[0].pk]
    assert not [x for x in found[households[1].pk] if x[1] == "eligible_not_paid"]
    assert [x for x in found[households[2].pk] if x[1] == "eligible_not_paid"] == [
        ("omission", "eligible_not_paid", "education")
    ]
    assert not [x for x in found[households[3].pk] if x[1] == "eligible_not_paid"]


def test_two_providers_in_one_month_are_a_duplicate_in_adjacent_months_not(county_map: Any) -> None:
    v = county_map.village_a1
    same_month, adjacent = _hh(v), _hh(v)
    _entry(same_month, "file:a:1", period=OCT, item="medical", provider="civil_affairs")
    _entry(same_month, "file:b:1", period=OCT, item="medical", provider="medical_security")
    _entry(adjacent, "file:a:2", period=dt.date(2026, 9, 1), item="medical", provider="civil_affairs")
    _entry(adjacent, "file:b:2", period=OCT, item="medical", provider="medical_security")
    found = _found([same_month, adjacent])
    assert found[same_month.pk] == [("duplicate", "two_providers", "medical")]
    assert found[adjacent.pk] == []


def test_enrolments_of_two_departments_overlap_by_a_day_adjacent_is_fine(county_map: Any) -> None:
    v, civil, medical = county_map.village_a1, county_map.dept_civil, county_map.dept_medical
    adjacent, overlapping, same_department = _hh(v), _hh(v), _hh(v)
    for h, second_since, second_dept in (
        (adjacent, dt.date(2026, 4, 1), medical),
        (overlapping, dt.date(2026, 3, 31), medical),
        (same_department, dt.date(2026, 3, 15), civil),
    ):
        _enrol(
            h,
            item="disability_care",
            since=dt.date(2026, 1, 1),
            ended_on=dt.date(2026, 3, 31),
            department=civil,
        )
        _enrol(h, item="disability_care", since=second_since, department=second_dept)
        _entry(h, f"file:care:{h.pk}", period=OCT, item="disability_care", provider=second_dept.code)
    found = _found([adjacent, overlapping, same_department])
    assert found[adjacent.pk] == []
    assert found[overlapping.pk] == [("duplicate", "two_providers", "disability_care")]
    assert found[same_department.pk] == []


def test_the_same_event_relieved_twice_in_a_month(county_map: Any) -> None:
    v = county_map.village_a1
    twice, next_month, monthly_item = _hh(v), _hh(v), _hh(v)
    _entry(
        twice,
        "outcome:t1",
        period=OCT,
        item="disaster",
        amount="3000.00",
        source=BenefitEntry.Source.REFERRAL_OUTCOME,
    )
    _entry(twice, "file:t2", period=OCT, item="disaster", amount="3000.00")
    _entry(next_month, "outcome:t3", period=dt.date(2026, 9, 1), item="disaster", amount="3000.00")
    _entry(next_month, "outcome:t4", period=OCT, item="disaster", amount="3000.00")
    # Two rows of a monthly item from one provider (a payment file's split) are not an event twice.
    _entry(monthly_item, "file:m1", period=OCT, item="dibao")
    _entry(monthly_item, "file:m2", period=OCT, item="dibao")
    found = _found([twice, next_month, monthly_item])
    assert found[twice.pk] == [("duplicate", "event_twice", "disaster")]
    assert found[next_month.pk] == []
    assert found[monthly_item.pk] == []


def test_an_organisations_help_duplicating_a_benefit_paid_in_the_two_months_before(county_map: Any) -> None:
    v = county_map.village_a1
    two_before, three_before, unrelated = _hh(v), _hh(v), _hh(v)
    charity = BenefitEntry.Source.CHARITY_COMPLETION
    for h, paid_month in ((two_before, dt.date(2026, 8, 1)), (three_before, dt.date(2026, 7, 1))):
        _entry(h, f"outcome:edu:{h.pk}", period=paid_month, item="education", amount="1000.00")
        _entry(
            h,
            f"charity-claim:{h.pk}",
            period=OCT,
            item="education",
            provider="org:1",
            amount=None,
            in_kind="学习用品一套",
            source=charity,
        )
    _entry(unrelated, "outcome:edu:u", period=OCT, item="education", amount="1000.00")
    _entry(
        unrelated,
        "charity-claim:u",
        period=OCT,
        item="comfort",
        provider="org:1",
        amount=None,
        in_kind="陪伴",
        source=charity,
    )
    found = _found([two_before, three_before, unrelated])
    assert found[two_before.pk] == [("duplicate", "charity_duplicates_paid", "education")]
    assert found[three_before.pk] == []
    assert found[unrelated.pk] == []


# --- the nightly run -------------------------------------------------------------------------


def test_the_nightly_check_runs_once_and_then_reads_only_the_changed_households(county_map: Any) -> None:
    v = county_map.village_a1
    households = [_hh(v) for _ in range(12)]
    for h in households:
        _enrol(h, since=dt.date(2026, 1, 1))
    for h in households[2:]:
        _entry(h, f"file:dibao:{h.pk}", period=OCT)

    first = flag_check_nightly(today=TODAY)
    assert first is not None and first.full and first.households == 12 and first.raised == 2
    assert ListFlag.objects.filter(kind="omission", reason="enrolled_not_paid").count() == 2
    # A second beat, a retry, a redelivered task: nothing more.
    assert flag_check_nightly(today=TODAY) is None
    assert FlagCheckRun.objects.count() == 1
    assert ListFlag.objects.count() == 2

    # The next night: one household got a second provider's October entry, one was resolved.
    flag = ListFlag.objects.filter(household=households[0]).get()
    flag_resolve(
        actor=f.township_assistant(v), flag_id=flag.pk, resolution="corrected", note="已补发10月低保金"
    )
    _entry(households[5], "file:dibao:dup", period=OCT, provider="medical_security")
    second = flag_check_nightly(today=TODAY + dt.timedelta(days=1))
    assert second is not None and not second.full
    assert second.households == 1 and second.raised == 1
    assert ListFlag.objects.filter(household=households[5], kind="duplicate").count() == 1
    # The resolved finding is not raised again; the open one is not doubled.
    assert ListFlag.objects.filter(household=households[0]).count() == 1
    assert ListFlag.objects.filter(household=households[1]).count() == 1

    # A new month: every household the month expects something of is read again.
    third = flag_check_nightly(today=dt.date(2026, 12, 1))
    assert third is not None and third.full and third.households == 12
    assert ListFlag.objects.filter(kind="omission", period=dt.date(2026, 11, 1)).count() == 12


def test_resolving_needs_a_reason_is_audited_and_scoped(county_map: Any, personas: Any) -> None:
    h = _hh(county_map.village_a1)
    _enrol(h, since=dt.date(2026, 1, 1))
    flag_check_nightly(today=TODAY)
    flag = ListFlag.objects.get()
    with pytest.raises(Http404):
        flag_resolve(actor=personas.assistant_b, flag_id=flag.pk, resolution="justified", note="x")
    with pytest.raises(PermissionDenied):
        flag_resolve(actor=personas.cadre_a1, flag_id=flag.pk, resolution="justified", note="x")
    with pytest.raises(Http404):
        flag_resolve(actor=personas.dept_civil, flag_id=flag.pk, resolution="justified", note="x")
    with pytest.raises(ApplicationError) as exc:
        flag_resolve(actor=personas.assistant_a, flag_id=flag.pk, resolution="justified", note="  ")
    assert "理由" in str(exc.value.message) or "reason" in str(exc.value.message)
    flag_resolve(
        actor=personas.assistant_a, flag_id=flag.pk, resolution="justified", note="10月暂停发放，已核实"
    )
    flag.refresh_from_db()
    assert flag.status == "resolved" and flag.resolved_by == personas.assistant_a
    event = AuditEvent.objects.get(action="happiness.flag_resolve")
    assert event.reason == "10月暂停发放，已核实"
    with pytest.raises(ConflictError):
        flag_resolve(actor=personas.assistant_a, flag_id=flag.pk, resolution="justified", note="again")
    assert ListFlag.objects.filter(pk=flag.pk).exists()


# --- the worklist over HTTP ------------------------------------------------------------------


def test_the_worklist_is_the_townships_another_townships_flag_is_404(
    county_map: Any, personas: Any, login: Any
) -> None:
    from django.urls import reverse

    mine = _hh(county_map.village_a1)
    theirs = _hh(county_map.village_b1)
    for h in (mine, theirs):
        _enrol(h, since=dt.date(2026, 1, 1))
    flag_check_nightly(today=TODAY)
    flag_a = ListFlag.objects.get(household=mine)
    flag_b = ListFlag.objects.get(household=theirs)
    assert flag_a.township == county_map.town_a

    a = login(personas.assistant_a)
    html = a.get(reverse("happiness-flags")).content.decode()
    assert f'data-flag="{flag_a.pk}"' in html
    assert f'data-flag="{flag_b.pk}"' not in html
    assert a.get(reverse("happiness-flag", args=[flag_b.pk])).status_code == 404
    assert a.get(reverse("happiness-household-flags", args=[theirs.pk])).status_code == 404
    assert (
        a.post(
            reverse("happiness-flag", args=[flag_b.pk]), {"resolution": "justified", "note": "x"}
        ).status_code
        == 404
    )

    detail = a.get(reverse("happiness-flag", args=[flag_a.pk]))
    assert detail.status_code == 200
    page = detail.content.decode()
    enrolment = Enrolment.objects.get(household=mine)
    assert reverse("admin:benefits_enrolment_change", args=[enrolment.pk]) in page
    assert reverse("staff-household", args=[mine.pk]) in page
    from applications.models import HouseholdAccess

    assert HouseholdAccess.objects.filter(household_id=mine.pk, purpose="flag_review").count() == 1

    # No reason: refused with the form again, nothing changed.
    refused = a.post(reverse("happiness-flag", args=[flag_a.pk]), {"resolution": "justified", "note": " "})
    assert refused.status_code == 400
    flag_a.refresh_from_db()
    assert flag_a.status == "open"
    done = a.post(
        reverse("happiness-flag", args=[flag_a.pk]), {"resolution": "justified", "note": "已核实：10月停发"}
    )
    assert done.status_code == 302
    flag_a.refresh_from_db()
    assert flag_a.status == "resolved" and flag_a.resolution_note == "已核实：10月停发"
    assert f'data-flag="{flag_a.pk}"' not in a.get(reverse("happiness-flags")).content.decode()
    resolved = a.get(reverse("happiness-flags"), {"status": "resolved"}).content.decode()
    assert f'data-flag="{flag_a.pk}"' in resolved

    # The household's own page of flags and its card.
    own = a.get(reverse("happiness-household-flags", args=[mine.pk])).content.decode()
    assert f'data-flag="{flag_a.pk}"' in own
    assert HouseholdAccess.objects.filter(household_id=mine.pk, purpose="flag_review").count() == 3

    # The coordinator sees both; a village cadre reads its village's but may not resolve.
    c = login(personas.coordinator).get(reverse("happiness-flags")).content.decode()
    assert f'data-flag="{flag_b.pk}"' in c
    cadre = login(personas.cadre_a1)
    reopened = ListFlag.objects.create(
        household=mine,
        township=mine.township,
        kind="omission",
        reason="enrolled_not_paid",
        item="dibao",
        period=OCT,
        dedupe_key="test:cadre",
    )
    assert f'data-flag="{reopened.pk}"' in cadre.get(reverse("happiness-flags")).content.decode()
    assert (
        cadre.post(
            reverse("happiness-flag", args=[reopened.pk]), {"resolution": "justified", "note": "x"}
        ).status_code
        == 403
    )

    # Departments and organisations have no worklist.
    for user in (personas.dept_civil, personas.org_member_1):
        client = login(user)
        assert client.get(reverse("happiness-flags")).status_code in (302, 403)
        assert client.get(reverse("happiness-flag", args=[flag_a.pk])).status_code in (302, 403)


def test_the_application_page_links_to_the_households_flags_and_card(
    county_map: Any, personas: Any, login: Any
) -> None:
    from django.urls import reverse

    app = f.ApplicationFactory.create(submitted=True, village=county_map.village_a1)
    household = app.household
    _enrol(household, since=dt.date(2026, 1, 1))
    flag_check_nightly(today=TODAY)
    page = login(personas.assistant_a).get(reverse("admin:applications_application_change", args=[app.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert reverse("happiness-household-flags", args=[household.pk]) in html
    flags_page = login(personas.assistant_a).get(reverse("happiness-household-flags", args=[household.pk]))
    assert f'data-flag="{ListFlag.objects.get(household=household).pk}"' in flags_page.content.decode()


def test_a_nights_queries_follow_the_changed_households_not_the_county(county_map: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    v = county_map.village_a1

    def add(n: int) -> list[Household]:
        made = [_hh(v) for _ in range(n)]
        for h in made:
            _enrol(h, since=dt.date(2026, 1, 1))
            _entry(h, f"file:dibao:{h.pk}", period=OCT)
        return made

    def night_after_one_change(day: dt.date, household: Household) -> tuple[int, int]:
        _entry(household, f"file:dibao:second:{household.pk}", period=OCT, provider="medical_security")
        with CaptureQueriesContext(connection) as queries:
            run = flag_check_nightly(today=day)
        assert run is not None and not run.full
        return run.households, len(queries.captured_queries)

    small = add(5)
    flag_check_nightly(today=TODAY)
    few = night_after_one_change(TODAY + dt.timedelta(days=1), small[0])
    add(60)
    flag_check_nightly(today=TODAY + dt.timedelta(days=2))  # reads the 60 new households once
    many = night_after_one_change(TODAY + dt.timedelta(days=3), small[1])
    assert few[0] == many[0] == 1
    assert few[1] == many[1]


def test_an_omission_the_next_night_no_longer_shows_is_closed_by_the_system_audited(county_map: Any) -> None:
    late, still_missing = _hh(county_map.village_a1), _hh(county_map.village_a1)
    for h in (late, still_missing):
        _enrol(h, since=dt.date(2026, 1, 1))
    flag_check_nightly(today=TODAY)
    assert ListFlag.objects.filter(status="open").count() == 2
    _entry(late, "file:dibao:late", period=OCT)  # October's payment arrives late
    flag_check_nightly(today=TODAY + dt.timedelta(days=1))
    closed = ListFlag.objects.get(household=late)
    assert closed.status == "resolved" and closed.resolved_by is None and "已到账" in closed.resolution_note
    assert ListFlag.objects.get(household=still_missing).status == "open"
    event = AuditEvent.objects.get(action="happiness.flag_resolve", subject_id=str(closed.pk))
    assert event.actor is None and "已到账" in event.reason


@pytest.mark.django_db(transaction=True)
def test_two_beats_at_the_same_moment_run_the_night_once(county_map: Any) -> None:
    import threading

    from django.db import connection

    h = _hh(county_map.village_a1)
    _enrol(h, since=dt.date(2026, 1, 1))
    results: list[Any] = []
    barrier = threading.Barrier(2)

    def beat() -> None:
        try:
            barrier.wait()
            results.append(flag_check_nightly(today=TODAY))
        finally:
            connection.close()

    threads = [threading.Thread(target=beat) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 2
    assert sorted(r is None for r in results) == [False, True]
    assert FlagCheckRun.objects.count() == 1
    assert ListFlag.objects.count() == 1
