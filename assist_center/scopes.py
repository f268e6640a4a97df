"""The one module that decides what a user may see. Admin, HTML views and the API all use it."""

from __future__ import annotations

from typing import Any

from .models import Role, StaffProfile


def profile_of(user: Any) -> StaffProfile | None:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    try:
        return user.profile  # type: ignore[no-any-return]
    except StaffProfile.DoesNotExist:
        return None


def role_of(user: Any) -> Role | None:
    p = profile_of(user)
    return Role(p.role) if p else None
