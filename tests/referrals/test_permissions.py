"""referral_allowed_actions is what the services accept and what the workbench offers, for everyone.

Every persona (and a superuser) tries every action on a referral in every status through the real
services: an allowed action succeeds, a refused role gets 403, a refused status 409, an unseen
referral 404. The referral page offers a form for exactly the allowed actions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404

from assist_center.errors import ApplicationError, ConflictError
from referrals.models import Referral
from referrals.permissions import REFERRAL_ACTIONS, ReferralAction, referral_allowed_actions
from referrals.selectors import referral_list_visible_to
from referrals.services import actions, cases

from .. import factories as f
from .test_workbench import NOW, make_referral

pytestmark = pytest.mark.django_db

S = Referral.Status
STATUSES = (S.PENDING, S.ACCEPTED, S.INFO_REQUESTED, S.RETURNED, S.COMPLETED, S.CANCELLED)
ACTORS = ("dept_civil", "dept_medical", "assistant_a", "assistant_b", "coordinator", "cadre_a1", "root")


class _Undo(Exception):
    """Raised to roll each attempt back, so every attempt sees the referral as it was."""


def _calls(other_department_id: int) -> dict[ReferralAction, Callable[[Any, Referral], Any]]:
    return {
        "accept": lambda a, r: actions.referral_accept(actor=a, referral_id=r.pk),
        "request_info": lambda a, r: actions.referral_request_info(
            actor=a, referral_id=r.pk, question="请补充材料"
        ),
        "return": lambda a, r: actions.referral_return(
            actor=a, referral_id=r.pk, reason_code=Referral.ReturnReason.NOT_OURS
        ),
        "complete": lambda a, r: actions.referral_complete(
            actor=a,
            referral_id=r.pk,
            outcomes=[actions.OutcomeInput(item="dibao", granted=True, benefit_kind="低保金")],
        ),
        "answer_info": lambda a, r: actions.referral_answer_info(actor=a, referral_id=r.pk, answer="已补充"),
        "reassign": lambda a, r: cases.referral_reassign(
            actor=a, referral_id=r.pk, department_id=other_department_id, reason="转医保局"
        ),
        "extend": lambda a, r: cases.referral_extend(actor=a, referral_id=r.pk, days=2, reason="节假日"),
        "cancel": lambda a, r: cases.referral_cancel(actor=a, referral_id=r.pk, reason="不再需要"),
    }


def _attempt(call: Callable[[], Any]) -> str:
    try:
        with transaction.atomic():
            call()
            raise _Undo
    except _Undo:
        return "ok"
    except Http404:
        return "404"
    except PermissionDenied:
        return "403"
    except ConflictError:
        return "409"
    except ApplicationError as exc:  # a bad input: the matrix gives every service valid input
        return f"400 {exc.message}"


@pytest.fixture
def world(county_map: Any, personas: Any) -> dict[str, Any]:
    actors = {name: getattr(personas, name) for name in ACTORS if name != "root"}
    actors["root"] = f.UserFactory(username="root", is_superuser=True)
    with time_machine.travel(NOW, tick=False):
        referrals = {
            status: make_referral(
                village=county_map.village_a1,
                department=county_map.dept_civil,
                items=["dibao"],
                status=status,
            )
            for status in STATUSES
        }
    return {"actors": actors, "referrals": referrals, "other": county_map.dept_medical.pk}


def test_the_services_accept_exactly_the_allowed_actions(world: dict[str, Any]) -> None:
    calls = _calls(world["other"])
    mismatches = []
    seen: set[str] = set()
    with time_machine.travel(NOW, tick=False):
        for name, actor in world["actors"].items():
            visible = set(referral_list_visible_to(user=actor).values_list("pk", flat=True))
            for status, referral in world["referrals"].items():
                allowed = referral_allowed_actions(actor, referral)
                for action in REFERRAL_ACTIONS:
                    got = _attempt(lambda a=actor, r=referral, c=calls[action]: c(a, r))  # type: ignore[misc]
                    if referral.pk not in visible:
                        want = "404"
                    elif action in allowed:
                        want = "ok"
                    else:
                        # Is it the role or the status? The same referral in a status that admits
                        # the action tells: allowed there means the role may, so here it is 409.
                        role_may = any(
                            action in referral_allowed_actions(actor, other)
                            for other in world["referrals"].values()
                        )
                        want = "409" if role_may else "403"
                    seen.add(got)
                    if got != want:
                        mismatches.append((name, status, action, got, want))
    assert mismatches == []
    assert seen == {"ok", "403", "409", "404"}


def test_the_superuser_acts_as_the_coordinator_not_as_a_department(world: dict[str, Any]) -> None:
    root, coordinator = world["actors"]["root"], world["actors"]["coordinator"]
    pending = world["referrals"][S.PENDING]
    assert referral_allowed_actions(root, pending) == referral_allowed_actions(coordinator, pending)
    assert referral_allowed_actions(root, pending) == {"reassign", "extend", "cancel"}
    assert _attempt(lambda: actions.referral_accept(actor=root, referral_id=pending.pk)) == "403"


def _offered(html: str) -> set[str]:
    return {m.replace("-", "_") for m in re.findall(r'class="rw-action rw-([a-z-]+)"', html)}


def test_the_page_offers_a_form_for_exactly_the_allowed_actions(world: dict[str, Any], login: Any) -> None:
    shown = 0
    with time_machine.travel(NOW, tick=False):
        for name in ("dept_civil", "assistant_a", "coordinator", "root"):
            actor = world["actors"][name]
            client = login(actor)
            for status, referral in world["referrals"].items():
                response = client.get(f"/staff/referrals/{referral.pk}/")
                assert response.status_code == 200, (name, status)
                offered = _offered(response.content.decode())
                assert offered == set(referral_allowed_actions(actor, referral)), (name, status)
                shown += len(offered)
    assert shown > 0
