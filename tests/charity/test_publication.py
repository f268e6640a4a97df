"""Publication rules: consent, the text check, withdrawal, the allowlist, no village names, k-anonymity."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client

from assist_center.errors import ApplicationError
from assist_center.models import Region
from charity.models import Need
from charity.selectors import PUBLIC_FIELDS
from charity.services.needs import need_publish, need_withdraw_consent

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
    body = Client().get("/api/v1/public/charity/needs/").json()
    assert body["count"] == 1  # the first four were published while fewer than 5 shared the profile
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
    shown = needs[-1]  # the first four were published while fewer than 5 shared the profile
    pages += [c.get(f"/charity/needs/{shown.public_id}/"), c.get(f"/charity/report/need/{shown.public_id}/")]
    villages = list(Region.objects.filter(level=Region.Level.VILLAGE).values_list("name", flat=True))
    for r in pages:
        assert r.status_code == 200
        text = r.content.decode()
        for v in villages:
            assert v not in text, v


@pytest.mark.parametrize("others, visibility", [(3, "vetted_only"), (4, "full"), (5, "full")])
def test_fewer_than_five_households_sharing_a_profile_generalise_it(
    personas: Any, county_map: Any, others: int, visibility: str
) -> None:
    """With the need itself, 4 households → not shown at township level; 5 and 6 → shown in full."""
    for _ in range(others):
        published_need(personas.coordinator, county_map.village_a1, birth=dt.date(1950, 1, 1))
    need = published_need(personas.coordinator, county_map.village_a1, birth=dt.date(1950, 1, 1))
    assert need.visibility == visibility
    if visibility == "full":
        assert need.public_township == county_map.town_a
        assert need.public_age_band == "60-79"
    else:
        assert need.public_township is None
        assert need.public_id not in Client().get("/api/v1/public/charity/needs/").content.decode()


def test_a_widened_profile_shows_the_township_with_broader_bands(personas: Any, county_map: Any) -> None:
    # Four households aged 80+ and one aged 65: together "60岁以上" in the township.
    for _ in range(4):
        published_need(personas.coordinator, county_map.village_a1, birth=dt.date(1935, 1, 1))
    need = published_need(personas.coordinator, county_map.village_a1, birth=dt.date(1960, 1, 1))
    assert need.visibility == Need.Visibility.WIDENED
    assert need.public_township == county_map.town_a
    assert need.public_age_band == "senior"
