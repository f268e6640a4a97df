"""Database sessions that carry their user, and the rule that a change of rights ends them.

MLPS 2.0 (and issue 14): all of a user's sessions end on password change, deactivation and role
change. Django already refuses a session after a password change (the session keeps a hash of the
password) and after deactivation (ModelBackend refuses an inactive user), but a change of role,
region, department, organisation, group or permission left the open sessions running with the
old rights cached in nobody's mind but the user's: a township assistant moved to another
township kept browsing the old one until the idle timeout.

`SESSION_ENGINE = "assist_center.sessions"` stores sessions in `StaffSession`, which records the
user; `sessions_end_for` deletes a user's rows. The triggers are signals, against house-style's
"no business rules in signals", on purpose: rights change through the admin's user form, its
profile inline, the organisations' member lists, services and the shell, and a rule that must
hold on every path belongs at the model boundary, not in each caller.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore as DbSessionStore
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_save, pre_save

# Many-to-many relations that grant rights, as "app_label.Model.field". Strings, not imports: the
# organisations' member list lives in an app above this one (tests/test_layering.py).
ROLE_RELATIONS = (
    "auth.User.groups",
    "auth.User.user_permissions",
    "auth.Group.permissions",
    "charity.Organisation.members",
)
_USER_FIELDS = ("is_active", "is_staff", "is_superuser", "password")
_PROFILE_FIELDS = ("role", "region_id", "department_id", "user_id")


class SessionStore(DbSessionStore):
    @classmethod
    def get_model_class(cls) -> Any:
        from assist_center.models import StaffSession

        return StaffSession

    def create_model_instance(self, data: dict[str, Any]) -> Any:
        obj: Any = super().create_model_instance(data)
        user_id = data.get(SESSION_KEY)
        try:
            obj.user_id = int(user_id) if user_id is not None else None
        except (TypeError, ValueError):
            obj.user_id = None
        return obj


def sessions_end_for(*, user_ids: Iterable[int], reason: str) -> int:
    """Delete every session of these users (after the current transaction commits); return how many."""
    from assist_center.audit import audit_record
    from assist_center.models import StaffSession

    ids = sorted({int(i) for i in user_ids if i is not None})
    if not ids:
        return 0
    count = StaffSession.objects.filter(user_id__in=ids).count()
    if count:
        StaffSession.objects.filter(user_id__in=ids).delete()
        for user_id in ids:
            audit_record(
                actor=None,
                action="staff.sessions_ended",
                subject=("auth.user", str(user_id)),
                new={"reason": reason},
            )
    return count


def _changed(old: Model, new: Model, fields: tuple[str, ...]) -> list[str]:
    return [f for f in fields if getattr(old, f) != getattr(new, f)]


def _on_user_pre_save(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    if raw or instance.pk is None:
        return
    if update_fields is not None and not set(update_fields) & set(_USER_FIELDS):
        return  # e.g. last_login on every sign-in: nothing that grants rights
    old = sender.objects.filter(pk=instance.pk).only(*_USER_FIELDS).first()
    instance._rights_changed = _changed(old, instance, _USER_FIELDS) if old is not None else []


def _on_user_post_save(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    changed = getattr(instance, "_rights_changed", [])
    instance._rights_changed = []
    if created or not changed:
        return
    # A password change through Django's own views keeps the changer's current session
    # (update_session_auth_hash cycles its key after this), and ends all the others.
    _end_later([instance.pk], "+".join(changed))


def _on_profile_pre_save(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if raw or instance.pk is None:
        instance._rights_changed = []
        return
    old = sender.objects.filter(pk=instance.pk).only(*_PROFILE_FIELDS).first()
    instance._rights_changed = _changed(old, instance, _PROFILE_FIELDS) if old is not None else []
    if old is not None and old.user_id != instance.user_id:
        instance._old_user_id = old.user_id


def _on_profile_post_save(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    changed = getattr(instance, "_rights_changed", [])
    instance._rights_changed = []
    if created:
        # A first profile gives an account a role it did not have: sessions opened before it end.
        changed = ["role"]
    if changed:
        _end_later([instance.user_id, getattr(instance, "_old_user_id", None)], "role")


def _on_m2m_changed(
    sender: Any, instance: Any, action: str, reverse: bool, model: Any, **kwargs: Any
) -> None:
    if sender not in _role_throughs() or action not in {"post_add", "post_remove", "pre_clear"}:
        return
    user_model = get_user_model()
    pk_set = kwargs.get("pk_set") or set()
    if isinstance(instance, user_model):
        user_ids = [instance.pk]
    elif model is user_model:
        user_ids = list(pk_set) if action != "pre_clear" else _related_user_ids(sender, instance)
    elif instance._meta.label == "auth.Group":
        user_ids = list(instance.user_set.values_list("pk", flat=True))
    else:
        return
    _end_later(user_ids, "role")


def _related_user_ids(through: Any, instance: Model) -> list[int]:
    """Users about to lose a relation through `clear()` (m2m_changed gives no pk_set there)."""
    user_model = get_user_model()
    for field in through._meta.get_fields():
        if getattr(field, "related_model", None) is user_model:
            source = next(
                f.name
                for f in through._meta.get_fields()
                if getattr(f, "related_model", None) is type(instance) and f.name != field.name
            )
            return list(
                through.objects.filter(**{source: instance}).values_list(f"{field.name}_id", flat=True)
            )
    return []


def _end_later(user_ids: Iterable[Any], reason: str) -> None:
    ids = [int(i) for i in user_ids if i is not None]
    if ids:
        # On commit: a rolled-back change of rights must not sign anyone out; and the change is
        # visible to every request that could start after the delete.
        transaction.on_commit(lambda: sessions_end_for(user_ids=ids, reason=reason))


_THROUGHS: set[Any] | None = None


def _role_throughs() -> set[Any]:
    global _THROUGHS
    if _THROUGHS is None:
        found = set()
        for dotted in ROLE_RELATIONS:
            app_label, model_name, field = dotted.split(".")
            try:
                model = apps.get_model(app_label, model_name)
            except LookupError:
                continue
            found.add(getattr(model, field).through)
        _THROUGHS = found
    return _THROUGHS


def connect() -> None:
    """Wire the triggers (AppConfig.ready)."""
    from assist_center.models import StaffProfile

    user_model = get_user_model()
    pre_save.connect(_on_user_pre_save, sender=user_model, dispatch_uid="sessions-user-pre")
    post_save.connect(_on_user_post_save, sender=user_model, dispatch_uid="sessions-user-post")
    pre_save.connect(_on_profile_pre_save, sender=StaffProfile, dispatch_uid="sessions-profile-pre")
    post_save.connect(_on_profile_post_save, sender=StaffProfile, dispatch_uid="sessions-profile-post")
    m2m_changed.connect(_on_m2m_changed, dispatch_uid="sessions-m2m")
