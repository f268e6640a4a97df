"""Evaluation pages and the centre's rating pages through HTTP, per persona."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import timezone

from assist_center.models import AuditEvent
from happiness_list.models import LowRatingTask, RatingDispute

from .ratings_builders import closed_case, rate

pytestmark = pytest.mark.django_db


def _page(login: Any, user: Any, url: str) -> Any:
    return login(user).get(url)


def _text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_no_average_below_five_ratings_then_the_averages_and_the_low_one_without_who(
    county_map: Any, personas: Any, login: Any
) -> None:
    cases = [closed_case(county_map.village_a1, assistant=personas.assistant_a) for _ in range(5)]
    for case in cases[:3]:
        rate(case, (5, 4, 5))
    rate(cases[3], (2, 3, 3), tags=("slow",), comment="跑了三趟")
    url = f"/staff/evaluation/assistant/{personas.assistant_a.pk}/"
    page = _page(login, personas.assistant_a, url)
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    text = _text(page)
    assert 'class="ev-count">4<' in text and "ev-no-average" in text and 'class="ev-avg"' not in text
    assert "跑了三趟" in text  # the low rating's comment, without the household
    household = cases[3].application.household
    assert household is not None and f"/staff/households/{household.pk}/" not in text
    assert cases[3].application.receipt_code not in text
    rate(cases[4], (5, 5, 5))
    text = _text(_page(login, personas.assistant_a, url))
    # efficiency (5+5+5+2+5)/5 = 4.4, attitude (4+4+4+3+5)/5 = 4.0, quality (5+5+5+3+5)/5 = 4.6
    assert 'class="ev-count">5<' in text and "ev-no-average" not in text
    assert re.findall(r'class="ev-avg">([^<]+)<', text) == ["4.4", "4.0", "4.6"]
    # The township's page is the assistant's unit too; the coordinator's table lists everyone.
    assert (
        _page(login, personas.assistant_a, f"/staff/evaluation/township/{county_map.town_a.pk}/").status_code
        == 200
    )
    overview = _text(
        _page(login, personas.coordinator, f"/staff/evaluation/?year={timezone.localdate().year}")
    )
    assert "assistant_a" in overview and "海游街道" in overview and "民政局" in overview


def test_another_units_evaluation_is_404_and_roles_without_one_get_403(
    county_map: Any, personas: Any, login: Any
) -> None:
    case = closed_case(county_map.village_a1, assistant=personas.assistant_a)
    rate(case, (1, 1, 1), comment="没人管")
    a = personas.assistant_a.pk
    civil, medical = county_map.dept_civil.pk, county_map.dept_medical.pk
    assert _page(login, personas.assistant_b, f"/staff/evaluation/assistant/{a}/").status_code == 404
    assert (
        _page(login, personas.assistant_b, f"/staff/evaluation/township/{county_map.town_a.pk}/").status_code
        == 404
    )
    assert _page(login, personas.dept_medical, f"/staff/evaluation/department/{civil}/").status_code == 404
    assert _page(login, personas.dept_civil, f"/staff/evaluation/assistant/{a}/").status_code == 404
    assert _page(login, personas.dept_civil, f"/staff/evaluation/department/{civil}/").status_code == 200
    assert _page(login, personas.dept_medical, f"/staff/evaluation/department/{medical}/").status_code == 200
    assert _page(login, personas.coordinator, f"/staff/evaluation/assistant/{a}/").status_code == 200
    assert _page(login, personas.coordinator, "/staff/evaluation/assistant/999999/").status_code == 404
    assert _page(login, personas.coordinator, f"/staff/evaluation/nonsense/{a}/").status_code == 404
    # Each lands on its own page.
    home = _page(login, personas.assistant_b, "/staff/evaluation/")
    assert (
        home.status_code == 302
        and f"/staff/evaluation/assistant/{personas.assistant_b.pk}/" in home["Location"]
    )
    for persona in (personas.cadre_a1, personas.auditor):
        assert _page(login, persona, f"/staff/evaluation/assistant/{a}/").status_code == 403
        assert _page(login, persona, "/staff/evaluation/").status_code == 403
    assert _page(login, personas.anonymous, "/staff/evaluation/").status_code == 302  # to the login


def test_the_centre_handles_a_low_rating_task_and_reviews_a_dispute_over_http(
    county_map: Any, personas: Any, login: Any
) -> None:
    case = closed_case(county_map.village_a1, assistant=personas.assistant_a)
    rating = rate(case, (2, 2, 1), tags=("unsolved",), comment="问题没解决")
    task = LowRatingTask.objects.get(rating=rating)
    coordinator = login(personas.coordinator)
    centre = coordinator.get("/staff/ratings/")
    assert centre.status_code == 200 and f'data-task="{task.pk}"' in centre.content.decode()
    # The township's assistants (perhaps the one rated) never reach the task or the centre's page.
    assistant = login(personas.assistant_a)
    assert assistant.get("/staff/ratings/").status_code == 403
    assert assistant.get(f"/staff/ratings/tasks/{task.pk}/").status_code == 404
    assert assistant.post(f"/staff/ratings/tasks/{task.pk}/contact/", {"text": "x"}).status_code == 404
    page = coordinator.get(f"/staff/ratings/tasks/{task.pk}/")
    assert page.status_code == 200 and "问题没解决" in page.content.decode()
    empty = coordinator.post(f"/staff/ratings/tasks/{task.pk}/contact/", {"text": ""})
    assert empty.status_code == 200 and "errorlist" in empty.content.decode()
    assert coordinator.post(f"/staff/ratings/tasks/{task.pk}/answer/", {"text": "早了"}).status_code == 200
    assert (
        coordinator.post(f"/staff/ratings/tasks/{task.pk}/contact/", {"text": "已电话联系"}).status_code
        == 302
    )
    assert coordinator.post(f"/staff/ratings/tasks/{task.pk}/answer/", {"text": "已补办"}).status_code == 302
    task.refresh_from_db()
    assert task.status == LowRatingTask.Status.ANSWERED and task.answer == "已补办"

    # The rated assistant disputes it from the evaluation page; another township's cannot.
    url = f"/staff/ratings/{rating.pk}/dispute/"
    assert login(personas.assistant_b).post(url, {"reason": "x"}).status_code == 404
    assert login(personas.cadre_a1).post(url, {"reason": "x"}).status_code == 404  # no ratings in scope
    assert assistant.post(url, {"reason": "该户已搬走，评价对象有误"}).status_code == 302
    dispute = RatingDispute.objects.get(rating=rating)
    review = f"/staff/ratings/disputes/{dispute.pk}/review/"
    assert assistant.post(review, {"decision": "upheld", "reason": "自己审"}).status_code == 403
    assert coordinator.post(review, {"decision": "rejected", "reason": "已核实，评价属实"}).status_code == 302
    dispute.refresh_from_db()
    assert dispute.status == RatingDispute.Status.REJECTED and dispute.reviewed_by == personas.coordinator
    assert AuditEvent.objects.filter(action="rating.dispute_review", subject_id=str(dispute.pk)).exists()
