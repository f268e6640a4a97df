"""The resident's rating form through HTTP: the household session alone rates; staff get 403."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client

from happiness_list.models import LowRatingTask, Rating
from happiness_list.sessions import SESSION_KEY
from referrals.models import Case

from .ratings_builders import closed_case

pytestmark = pytest.mark.django_db


def _resident(case: Case, *, token: str = "", client: Client | None = None) -> Client:
    """A browser holding the verified household session the list page opens after the SMS code."""
    client = client or Client()
    session = client.session
    session[SESSION_KEY] = {
        "household_id": case.application.household_id,
        "application_id": case.application_id,
        "method": "phone",
        "token": token or case.application.family_token,
        "expires_at": time.time() + 900,
    }
    session.save()
    return client


def _url(case: Case) -> str:
    return f"/happiness/{case.application.family_token}/rate/"


@pytest.fixture
def case(county_map: Any, personas: Any) -> Case:
    return closed_case(county_map.village_a1, assistant=personas.assistant_a)


def test_the_household_rates_its_case_once_and_a_second_attempt_shows_the_first(case: Case) -> None:
    client = _resident(case)
    page = client.get(_url(case))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'name="case" value="{case.pk}"' in html and 'type="radio"' in html and "<script" not in html
    body = {
        "case": case.pk,
        "efficiency": "4",
        "attitude": "5",
        "quality": "4",
        "tags": ["smooth"],
        "comment": "谢谢",
    }
    response = client.post(_url(case), body)
    assert response.status_code == 302 and response["Location"].endswith("#ratings")
    rating = Rating.objects.get(case=case)
    assert (rating.efficiency, rating.attitude, rating.quality, rating.tags) == (4, 5, 4, ["smooth"])
    assert rating.client_hash and rating.client_hash != "127.0.0.1"
    again = client.post(_url(case), {**body, "efficiency": "1"}, follow=True)
    assert Rating.objects.filter(case=case).count() == 1
    shown = again.content.decode() if again.status_code == 200 else ""
    page = client.get(_url(case)).content.decode()
    assert f'name="case" value="{case.pk}"' not in page  # no second form; the first rating is shown
    assert "谢谢" in page and shown is not None


def test_a_staff_session_gets_403_even_holding_a_household_session(case: Case, personas: Any) -> None:
    staff = Client()
    staff.force_login(personas.assistant_a)
    _resident(case, client=staff)
    body = {"case": case.pk, "efficiency": "5", "attitude": "5", "quality": "5"}
    assert staff.post(_url(case), body).status_code == 403
    assert staff.get(_url(case)).status_code == 403
    assert not Rating.objects.exists()


def test_without_a_live_session_the_resident_goes_back_to_the_phone_check(case: Case) -> None:
    body = {"case": case.pk, "efficiency": "5", "attitude": "5", "quality": "5"}
    response = Client().post(_url(case), body)
    assert (
        response.status_code == 302 and response["Location"] == f"/happiness/{case.application.family_token}/"
    )
    # A session opened under another token (another household's link) does not rate this one.
    other = _resident(case, token="another-token-0123456789")
    assert other.post(_url(case), body).status_code == 302
    assert not Rating.objects.exists()


def test_bad_input_is_refused_with_its_message_and_a_low_rating_opens_the_task(case: Case) -> None:
    client = _resident(case)
    missing = client.post(_url(case), {"case": case.pk, "efficiency": "5", "attitude": "9"})
    assert missing.status_code == 400
    assert "五个等级" in missing.content.decode() or "five levels" in missing.content.decode()
    wrong_tag = client.post(
        _url(case), {"case": case.pk, "efficiency": "5", "attitude": "5", "quality": "5", "tags": ["slow"]}
    )
    assert wrong_tag.status_code == 400 and not Rating.objects.exists()
    low = {"case": case.pk, "efficiency": "2", "attitude": "1", "quality": "2", "tags": ["unsolved"]}
    assert client.post(_url(case), {**low, "comment": "<script>alert(1)</script>"}).status_code == 302
    task = LowRatingTask.objects.get(rating__case=case)
    assert task.status == LowRatingTask.Status.OPEN
    page = client.get(_url(case)).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
