"""Who may do what: one predicate per permission, named for what it allows.

What a user may *see* is assist_center.scopes (out of scope is a 404); this module says what a user
who can see an object may *do* with it (a refusal is a 403). Services call these predicates, and the
pages and the admin ask the same ones to decide which buttons to offer, so the two cannot drift.

Superusers: a superuser is the county coordinator and nothing more (scopes.is_county_wide, which
also requires an active account). It sees the county and may do what the coordinator may; it does
not act for a department or submit on a resident's behalf, because the audit trail would then
record a department's decision or a township's 代办 by someone who is neither (security.md: department
staff act on their own referrals; 代办 is the township assistant's).
"""

from __future__ import annotations

from typing import Any

from .models import Role
from .scopes import is_county_wide, profile_of, role_of

__all__ = [
    "CENTRE_ROLES",
    "REFERRAL_ROLES",
    "acts_for_department",
    "is_centre",
    "is_county_wide",
    "is_department_staff",
    "may_dispute_rating",
    "may_download_form",
    "may_handle_claims",
    "may_handle_low_ratings",
    "may_handle_monitoring",
    "may_move_application",
    "may_publish_needs",
    "may_regenerate_form",
    "may_review_rating_disputes",
    "may_run_verification",
    "may_submit_on_behalf",
    "may_upload_paper",
    "may_use_workbench",
    "may_vet_organisations",
    "may_view_evaluation",
]

# The centre: the county coordinator and the township assistants, who handle the cases of their
# township. The admin's role attributes take this tuple; code asks `is_centre`.
CENTRE_ROLES: tuple[Role, ...] = (Role.COORDINATOR, Role.TOWNSHIP_ASSISTANT)
# Everyone who works on referrals: the centre and the departments.
REFERRAL_ROLES: tuple[Role, ...] = (*CENTRE_ROLES, Role.DEPARTMENT_STAFF)


def is_centre(user: Any) -> bool:
    """The coordinator (or a superuser) and township assistants: the people who handle cases.

    Township assistants act within their township only; the scope (404) has decided that before
    any of the predicates below is asked.
    """
    return is_county_wide(user) or role_of(user) == Role.TOWNSHIP_ASSISTANT


def is_department_staff(user: Any) -> bool:
    return role_of(user) == Role.DEPARTMENT_STAFF


def acts_for_department(user: Any, department_id: int | None) -> bool:
    """Staff of that department, and only they (not the coordinator, not a superuser)."""
    p = profile_of(user)
    return (
        p is not None
        and department_id is not None
        and role_of(user) == Role.DEPARTMENT_STAFF
        and p.department_id == department_id
    )


# --- applications ----------------------------------------------------------------------------


def may_move_application(user: Any) -> bool:
    """Change an application's status (village cadres see their village's applications read-only)."""
    return is_centre(user)


def may_upload_paper(user: Any) -> bool:
    """Upload the scan of a member's signed paper authorisation."""
    return is_centre(user)


def may_download_form(user: Any) -> bool:
    """Download the archived application form; each download is audited like a reveal.

    The form carries names, addresses, needs and every signature (ID numbers and phones masked).
    """
    return is_centre(user)


def may_regenerate_form(user: Any) -> bool:
    """Regenerate an application's archived form, with a reason."""
    return is_centre(user)


def may_submit_on_behalf(user: Any) -> bool:
    """Submit an application on a resident's behalf (代办): the township assistant alone."""
    return role_of(user) == Role.TOWNSHIP_ASSISTANT


# --- eligibility -----------------------------------------------------------------------------


def may_run_verification(user: Any) -> bool:
    """Run a verification by hand and decide the items of its report."""
    return is_centre(user)


def may_handle_monitoring(user: Any) -> bool:
    """Resolve monitoring warnings and dismiss or convert discovery leads."""
    return is_centre(user)


def may_change_rolls(user: Any) -> bool:
    """Enrol, start or take back a gradual exit, end an enrolment (benefits.services.enrolments)."""
    return is_centre(user)


# --- referrals (what may be done to one referral: referrals.permissions) ---------------------


def may_use_workbench(user: Any) -> bool:
    """Open the referral workbench: the centre and department staff."""
    return is_centre(user) or is_department_staff(user)


# --- happiness list: ratings and evaluation --------------------------------------------------


def may_handle_low_ratings(user: Any) -> bool:
    """Contact the resident of a 差评 and answer it: the county centre, so the rated never learns who."""
    return is_county_wide(user)


def may_dispute_rating(user: Any) -> bool:
    """Contest a rating of one's own work (the scope limits it to ratings of the user's unit)."""
    return is_centre(user) or is_department_staff(user) or role_of(user) == Role.ORGANISATION


def may_review_rating_disputes(user: Any) -> bool:
    """Uphold or reject a disputed rating, with a reason: the coordinator alone."""
    return is_county_wide(user)


def may_view_evaluation(user: Any) -> bool:
    """Open the evaluation pages: whoever is rated (each sees its own) and the coordinator."""
    return may_dispute_rating(user)


# --- charity (公益谷) ---------------------------------------------------------------------------


def may_vet_organisations(user: Any) -> bool:
    """Approve, refuse, suspend or renew an organisation: the county coordinator."""
    return is_county_wide(user)


def may_publish_needs(user: Any) -> bool:
    """Edit and approve a need's public wording, publish or withdraw it (own township by scope)."""
    return is_centre(user)


def may_handle_claims(user: Any) -> bool:
    """Confirm or return a completion, record a resident's phoned answer, reassign or cancel a claim."""
    return is_centre(user)
