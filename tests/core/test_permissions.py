"""Every predicate of assist_center.permissions against every persona, a superuser and inactive accounts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from assist_center import permissions as p

from .. import factories as f

pytestmark = pytest.mark.django_db

CENTRE = {"coordinator", "assistant_a", "assistant_b", "root"}

# predicate -> the personas it lets through (everyone else is refused).
EXPECTED: dict[Callable[[Any], bool], set[str]] = {
    p.is_centre: CENTRE,
    p.may_move_application: CENTRE,
    p.may_upload_paper: CENTRE,
    p.may_download_form: CENTRE,
    p.may_regenerate_form: CENTRE,
    p.may_run_verification: CENTRE,
    p.may_handle_monitoring: CENTRE,
    p.may_change_rolls: CENTRE,
    p.may_use_workbench: CENTRE | {"dept_civil", "dept_medical"},
    p.is_department_staff: {"dept_civil", "dept_medical"},
    # 代办 is the township assistant's alone: not the coordinator's, not a superuser's.
    p.may_submit_on_behalf: {"assistant_a", "assistant_b"},
    p.is_county_wide: {"coordinator", "root"},
    p.may_handle_low_ratings: {"coordinator", "root"},
    p.may_review_rating_disputes: {"coordinator", "root"},
    p.may_dispute_rating: CENTRE | {"dept_civil", "dept_medical", "org_member_1", "org_member_2"},
    p.may_view_evaluation: CENTRE | {"dept_civil", "dept_medical", "org_member_1", "org_member_2"},
    p.may_vet_organisations: {"coordinator", "root"},
    p.may_publish_needs: CENTRE,
    p.may_handle_claims: CENTRE,
}


@pytest.fixture
def everyone(personas: Any) -> dict[str, Any]:
    users = dict(vars(personas))
    users["root"] = f.UserFactory(username="root", is_superuser=True)
    return users


def test_every_predicate_of_the_module_is_in_the_table() -> None:
    # A new predicate without its row would let any role through unnoticed. (acts_for_department
    # takes a department too: its own test below.)
    public = {
        fn
        for name, fn in vars(p).items()
        if callable(fn) and getattr(fn, "__module__", "") == p.__name__ and name.startswith(("may_", "is_"))
    }
    assert public - set(EXPECTED) == set()


@pytest.mark.parametrize("predicate", list(EXPECTED), ids=lambda fn: fn.__name__)
def test_each_predicate_lets_through_exactly_its_roles(
    everyone: dict[str, Any], predicate: Callable[[Any], bool]
) -> None:
    allowed = {name for name, user in everyone.items() if predicate(user)}
    assert allowed == EXPECTED[predicate]


@pytest.mark.parametrize("predicate", list(EXPECTED), ids=lambda fn: fn.__name__)
def test_an_inactive_account_may_do_nothing(
    everyone: dict[str, Any], predicate: Callable[[Any], bool]
) -> None:
    for name in EXPECTED[predicate]:
        user = everyone[name]
        user.is_active = False
        assert not predicate(user), name


def test_only_a_departments_own_staff_act_for_it(everyone: dict[str, Any], county_map: Any) -> None:
    civil = county_map.dept_civil.pk
    acting = {name for name, user in everyone.items() if p.acts_for_department(user, civil)}
    # Neither the coordinator nor a superuser acts for a department (the audit trail would record a
    # department's decision by someone outside it).
    assert acting == {"dept_civil"}
    assert not p.acts_for_department(everyone["dept_civil"], None)


def test_the_role_tuples_are_the_predicates_roles(everyone: dict[str, Any]) -> None:
    from assist_center.scopes import role_of

    centre_roles = {role_of(everyone[n]) for n in CENTRE - {"root"}}
    assert set(p.CENTRE_ROLES) == centre_roles
    assert set(p.REFERRAL_ROLES) == centre_roles | {role_of(everyone["dept_civil"])}
