"""Publication rules: consent, the text check, withdrawal, the allowlist, no village names, k-anonymity."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client

from assist_center.errors import ApplicationError
from assist_center.models import AuditEvent, OutboxMessage, Region
from charity.models import Need
from charity.selectors import PUBLIC_FIELDS
from charity.services.needs import (
    PROFILES_CHECKED_KEY,
    PROFILES_TASK,
    need_create,
    need_profiles_refresh,
    need_publish,
    need_withdraw_consent,
    public_profile,
)

from .. import factories as f
from .helpers import draft_need, published_need, visible_need

pytestmark = pytest.mark.django_db


def test_a_need_without_publication_consent_is_never_published(personas: Any, county_map: Any) -> None:
    need = draft_need(personas.coordinator, county_map.village_a1, consent=False)
    with pytest.raises(ApplicationError, match="未同意公开"):
        need_publish(actor=personas.coordinator, need_id=need.pk, public_text="需要一台轮椅。")
    assert Need.objects.get(pk=need.pk).status == Need.Status.DRAFT
    assert Client().get(f"/charity/needs/{need.public_id}/").status_code == 404


@pytest.mark.parametrize(
    "text, problem",
    [
        ("联系电话13800138000", "电话"),
        ("身份证110105199001010010", "身份证"),
        ("住在上叶村东头", "村"),
    ],
)
def test_the_check_blocks_ids_phones_and_village_names(
    personas: Any, county_map: Any, text: str, problem: str
) -> None:
    need = draft_need(personas.coordinator, county_map.village_a1)
    with pytest.raises(ApplicationError, match=problem):
        need_publish(actor=personas.coordinator, need_id=need.pk, public_text=text)


def test_the_check_blocks_a_household_members_name(personas: Any, county_map: Any) -> None:
    need = draft_need(personas.coordinator, county_map.village_a1)
    name = need.household.members.first().name
    with pytest.raises(ApplicationError, match="姓名"):
        need_publish(actor=personas.coordinator, need_id=need.pk, public_text=f"{name}需要轮椅")


def test_withdrawal_takes_the_need_off_the_board_feed_and_share_page_at_once(
    personas: Any, county_map: Any
) -> None:
    need = visible_need(personas.coordinator, county_map.village_a1)
    c = Client()
    assert need.public_id in c.get("/charity/").content.decode()
    assert need.public_id in c.get("/api/v1/public/charity/needs/").content.decode()
    need_withdraw_consent(actor=personas.coordinator, need_id=need.pk, reason="家庭要求")
    # The board and feed are cached; withdrawal bumps the cache version, so nothing stale is served.
    assert need.public_id not in c.get("/charity/").content.decode()
    assert need.public_id not in c.get("/api/v1/public/charity/needs/").content.decode()
    assert c.get(f"/charity/needs/{need.public_id}/").status_code == 404


def test_the_public_json_holds_only_allowlisted_fields_and_no_pii(personas: Any, county_map: Any) -> None:
    need = visible_need(personas.coordinator, county_map.village_a1, phone="13800138000")
    # The first four were published while fewer than 5 households shared the profile; the rule,
    # re-applied by the worker once the fifth household is there, shows them all.
    need_profiles_refresh()
    body = Client().get("/api/v1/public/charity/needs/").json()
    assert body["count"] == 5
    row = next(r for r in body["results"] if r["id"] == need.public_id)
    assert set(row) == set(PUBLIC_FIELDS)
    raw = str(body)
    person = need.household.members.first()
    assert person.name not in raw
    assert "13800138000" not in raw
    assert not re.search(r"\d{17}[\dX]", raw)
    assert need.household.address not in raw
    assert str(need.pk) != row["id"]


def test_no_village_name_appears_on_any_public_page_or_json(personas: Any, county_map: Any) -> None:
    needs = [published_need(personas.coordinator, county_map.village_a1) for _ in range(5)]
    c = Client()
    pages = [c.get("/charity/"), c.get("/api/v1/public/charity/needs/")]
    shown = needs[-1]
    pages += [c.get(f"/charity/needs/{shown.public_id}/"), c.get(f"/charity/report/need/{shown.public_id}/")]
    villages = list(Region.objects.filter(level=Region.Level.VILLAGE).values_list("name", flat=True))
    for r in pages:
        assert r.status_code == 200
        text = r.content.decode()
        for v in villages:
            assert v not in text, v


def _households(
    village: Region, n: int, *, birth: dt.date = dt.date(1950, 1, 1), members: int = 1
) -> list[Any]:
    """Households of the registry without any need: they make the crowd a card hides in."""
    out = []
    for _ in range(n):
        h = f.household(village, members=0)
        f.person(h, birth=birth)
        for _ in range(members - 1):
            f.person(h, relation="child", birth=dt.date(1985, 1, 1))
        out.append(h)
    return out


@pytest.mark.parametrize("others, visibility", [(3, "vetted_only"), (4, "full"), (5, "full")])
def test_fewer_than_five_county_households_sharing_a_profile_generalise_it(
    personas: Any, county_map: Any, others: int, visibility: str
) -> None:
    """The need's household and 3 others (4) → hidden from the public; with 4 or 5 others → in full.

    The others have no need at all: the rule counts the registry's households, not published needs.
    """
    _households(county_map.village_a2, others)
    need = published_need(personas.coordinator, county_map.village_a1, birth=dt.date(1950, 1, 1))
    assert Need.objects.filter(status=Need.Status.PUBLISHED).count() == 1
    assert need.visibility == visibility
    feed = Client().get("/api/v1/public/charity/needs/").content.decode()
    if visibility == "full":
        assert need.public_township == county_map.town_a
        assert need.public_age_band == "60-79"
        assert need.public_id in feed
    else:
        assert need.public_township is None
        assert need.public_id not in feed
        assert Client().get(f"/charity/needs/{need.public_id}/").status_code == 404


def test_households_of_another_profile_or_township_do_not_make_the_crowd(
    personas: Any, county_map: Any
) -> None:
    # Township A: four households of two people each beside the need's 1-person household; township B:
    # three 1-person households aged 60-79 and one that moved out of the county.
    _households(county_map.village_a2, 4, members=2)
    _households(county_map.village_b1, 3)
    _households(county_map.village_b1, 1)[0].members.update(registry_status="moved_out")
    need = published_need(personas.coordinator, county_map.village_a1, birth=dt.date(1950, 1, 1))
    # Only one 1-person 60-79 household in A; five "1-2人户, 60岁以上" in A (widened).
    assert need.visibility == Need.Visibility.WIDENED
    assert (need.public_township, need.public_age_band, need.public_size_band) == (
        county_map.town_a,
        "senior",
        "1-2",
    )
    # In B, the new need's household and three others: four, as the moved-out one does not count.
    other = draft_need(personas.coordinator, county_map.village_b1, category="medical_escort")
    assert public_profile(other)[0] == Need.Visibility.COUNTY


def test_the_rule_is_applied_again_when_the_registry_changes(
    personas: Any, county_map: Any, django_capture_on_commit_callbacks: Any
) -> None:
    crowd = _households(county_map.village_a2, 4)
    need = published_need(personas.coordinator, county_map.village_a1, birth=dt.date(1950, 1, 1))
    assert need.visibility == Need.Visibility.FULL
    # One of the five households leaves the county: 4 left, the card must not stay as precise.
    crowd[0].members.update(registry_status="deceased")
    c = Client()
    # The board is built afresh (the cache is empty): it queues the rule's re-application, which the
    # worker runs; its change moves the board's cache version, so the next pages no longer show it.
    c.get("/charity/")
    queued = OutboxMessage.objects.filter(task_name=PROFILES_TASK)
    assert queued.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert need_profiles_refresh() == 1
    assert need.public_id not in c.get("/charity/").content.decode()
    assert need.public_id not in c.get("/api/v1/public/charity/needs/").content.decode()
    assert c.get(f"/charity/needs/{need.public_id}/").status_code == 404
    need.refresh_from_db()
    assert need.visibility == Need.Visibility.VETTED_ONLY and need.public_township is None
    assert AuditEvent.objects.filter(action="need.reprofile", subject_id=str(need.pk)).count() == 1
    # A fifth household again (the hourly beat re-applies the rule): the card comes back in full.
    _households(county_map.village_a1, 1)
    assert need_profiles_refresh() == 1
    assert need_profiles_refresh() == 0
    need.refresh_from_db()
    assert need.visibility == Need.Visibility.FULL and need.public_township == county_map.town_a
    cache.delete(PROFILES_CHECKED_KEY)
    assert need.public_id in c.get("/charity/").content.decode()
    assert need.public_id in c.get("/api/v1/public/charity/needs/").content.decode()


def test_a_widened_profile_shows_the_township_with_broader_bands(personas: Any, county_map: Any) -> None:
    # Four households aged 80+ and one aged 65: together "60岁以上" in the township.
    for _ in range(4):
        published_need(personas.coordinator, county_map.village_a1, birth=dt.date(1935, 1, 1))
    need = published_need(personas.coordinator, county_map.village_a1, birth=dt.date(1960, 1, 1))
    assert need.visibility == Need.Visibility.WIDENED
    assert need.public_township == county_map.town_a
    assert need.public_age_band == "senior"


def test_only_the_needs_own_township_assistant_or_the_coordinator_publishes(
    personas: Any, county_map: Any, login: Any
) -> None:
    need = draft_need(personas.assistant_a, county_map.village_a1)
    text = "老人行动不便，需要一台轮椅。"
    # Another township's assistant: the need does not exist for them (404), in the service and page.
    with pytest.raises(Http404):
        need_publish(actor=personas.assistant_b, need_id=need.pk, public_text=text)
    with pytest.raises(Http404):
        need_withdraw_consent(actor=personas.assistant_b, need_id=need.pk)
    page = f"/charity/staff/needs/{need.pk}/"
    other = login(personas.assistant_b)
    assert other.get(page).status_code == 404
    assert other.post(page, {"public_text": text, "action": "publish"}).status_code == 404
    # A role without the right (department staff, an organisation member): 403.
    with pytest.raises(PermissionDenied):
        need_publish(actor=personas.dept_civil, need_id=need.pk, public_text=text)
    with pytest.raises(PermissionDenied):
        need_publish(actor=personas.org_member_1, need_id=need.pk, public_text=text)
    assert (
        login(personas.dept_civil).post(page, {"public_text": text, "action": "publish"}).status_code == 403
    )
    assert Need.objects.get(pk=need.pk).status == Need.Status.DRAFT
    # Nor can another township's assistant record a need for a household of township A.
    with pytest.raises(Http404):
        need_create(
            actor=personas.assistant_b,
            household_id=need.household_id,
            category="donation",
            text="需要一台轮椅",
            publish_consent=True,
        )
    # The need's own assistant publishes through the page.
    r = login(personas.assistant_a).post(page, {"public_text": text, "action": "publish"})
    assert r.status_code == 302
    assert Need.objects.get(pk=need.pk).status == Need.Status.PUBLISHED
    assert Need.objects.get(pk=need.pk).approved_by == personas.assistant_a
