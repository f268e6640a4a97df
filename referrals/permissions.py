"""What a user may do to a referral: one table, enforced by the services and rendered by the workbench.

An action is allowed when the user's role allows it on this referral (else the service answers 403)
and the referral's status allows it (else 409, checked again on the locked row). The workbench
offers exactly `referral_allowed_actions(user, referral)`, so the page cannot offer a button the
service would refuse, nor hide one it would accept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from django.core.exceptions import PermissionDenied

from assist_center.actors import Actor
from assist_center.permissions import acts_for_department, is_centre, is_county_wide
from assist_center.scopes import profile_of

from .models import Referral

S = Referral.Status

ReferralAction = Literal[
    "accept", "request_info", "return", "complete", "answer_info", "reassign", "extend", "cancel"
]

# The page lists them in this order.
REFERRAL_ACTIONS: tuple[ReferralAction, ...] = (
    "accept",
    "request_info",
    "return",
    "complete",
    "answer_info",
    "reassign",
    "extend",
    "cancel",
)


def _department(user: Actor, referral: Referral) -> bool:
    return acts_for_department(user, referral.department_id)


def _centre(user: Actor, referral: Referral) -> bool:
    # A township assistant answers for their own township; the scoped fetch has already turned any
    # other township's referral into a 404, this keeps the function right on its own.
    if is_county_wide(user):
        return True
    p = profile_of(user)
    return is_centre(user) and p is not None and p.region_id == referral.township_id


def _county(user: Actor, referral: Referral) -> bool:
    return is_county_wide(user)


# Who may: the department acts on its referral, the centre answers and changes deadlines or the
# department, and only the coordinator withdraws a referral.
_ROLE: dict[ReferralAction, Callable[[Actor, Referral], bool]] = {
    "accept": _department,
    "request_info": _department,
    "return": _department,
    "complete": _department,
    "answer_info": _centre,
    "reassign": _centre,
    "extend": _centre,
    "cancel": _county,
}


def _answerable(r: Referral) -> bool:
    return r.status == S.INFO_REQUESTED and r.paused_since is not None


# When: the statuses in which each action applies.
_STATUS: dict[ReferralAction, Callable[[Referral], bool]] = {
    "accept": lambda r: r.status == S.PENDING,
    # The clock runs: asking pauses it, completing ends it.
    "request_info": lambda r: r.status in Referral.CLOCK_STATUSES,
    "complete": lambda r: r.status in Referral.CLOCK_STATUSES,
    "return": lambda r: r.status in Referral.OPEN_STATUSES,
    "answer_info": _answerable,
    # A returned referral waits in the centre's queue to be sent elsewhere.
    "reassign": lambda r: r.status in (*Referral.OPEN_STATUSES, S.RETURNED),
    "extend": lambda r: r.status in Referral.OPEN_STATUSES,
    "cancel": lambda r: r.status not in Referral.FINISHED_STATUSES,
}


def referral_role_allows(user: Actor, referral: Referral, action: ReferralAction) -> bool:
    """Whether the user's role lets them take `action` on this referral, whatever its status."""
    return _ROLE[action](user, referral)


def referral_status_allows(referral: Referral, action: ReferralAction) -> bool:
    """Whether the referral's status admits `action` (the services ask it on the locked row)."""
    return _STATUS[action](referral)


def referral_allowed_actions(user: Actor, referral: Referral) -> frozenset[ReferralAction]:
    """The actions the user may take on the referral now: what the workbench offers."""
    return frozenset(
        a
        for a in REFERRAL_ACTIONS
        if referral_role_allows(user, referral, a) and referral_status_allows(referral, a)
    )


def require_referral_role(user: Actor, referral: Referral, action: ReferralAction) -> None:
    """PermissionDenied (403) unless the user's role allows `action` on this referral."""
    if not referral_role_allows(user, referral, action):
        raise PermissionDenied
