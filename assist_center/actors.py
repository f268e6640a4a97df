"""Who a service acts for: the types every service's `actor=` argument is annotated with.

A view passes `request.user`, which is a staff account or, on the login-free pages, an
AnonymousUser; the services decide what either may do (assist_center.permissions) and see
(assist_center.scopes). Background work acts as the system (None), and a few entry points name
themselves with a label ("manage.py import_pool") that the audit trail records as the actor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    # Imported for the type checker only: this module is imported while apps are still loading.
    from django.contrib.auth.models import AnonymousUser, User

# A signed-in account; its role and region are `user.profile` (assist_center.models.StaffProfile).
Staff: TypeAlias = "User"
# Whoever made the request: a staff account, or an anonymous resident (who is refused by scope).
Actor: TypeAlias = "User | AnonymousUser"
# What the audit trail accepts as the one who acted: an Actor, None (the system) or a label.
AuditActor: TypeAlias = "User | AnonymousUser | str | None"


def account_of(actor: AuditActor) -> User | None:
    """The user account behind an actor, for a foreign key such as `created_by`; None otherwise."""
    from django.contrib.auth.models import User

    return actor if isinstance(actor, User) and actor.is_authenticated else None


def staff_account(actor: Actor) -> User:
    """The account of an actor that a permission check let through; PermissionDenied otherwise.

    For a non-null foreign key such as `decided_by`: the check before it has refused everyone else,
    so this only tells the type checker (and fails closed should the check ever be removed).
    """
    from django.contrib.auth.models import User
    from django.core.exceptions import PermissionDenied

    if not isinstance(actor, User) or not actor.is_authenticated:
        raise PermissionDenied
    return actor
