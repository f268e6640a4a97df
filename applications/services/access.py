"""The household access log's writes: one cheap row per read of a household's personal data.

Every view that shows a household's personal data to someone other than the resident calls
`household_access_record` once per view (tests/test_household_access_routes.py walks the URLconf
and the admin and fails for a read path that is not mapped to a purpose). The resident sees the
rows on the happiness list, labelled by department, organisation or role with a staff code
(applications.selectors_access), never a staff member's name.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Model

from assist_center.actors import Actor, AuditActor, account_of
from assist_center.audit import RESIDENT, audit_record
from assist_center.redaction import redact_value
from assist_center.scopes import is_county_wide, profile_of

from ..models import AccessPurpose, HouseholdAccess
from ..selectors_access import AccessLogEntry, household_access_log
from ..staff_codes import normalise_staff_code, staff_code

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from assist_center.models import Department

__all__ = [
    "household_access_log_read",
    "household_access_record",
    "household_access_record_many",
    "staff_code",
    "staff_code_resolve",
]


def _row(
    actor: AuditActor,
    household_id: int,
    purpose: AccessPurpose | str,
    subject: Model | tuple[str, str] | None,
    department: Department | None,
    organisation_id: int | None,
    organisation_name: str,
    reason: str,
) -> HouseholdAccess:
    user = account_of(actor)
    # The profile is usually loaded already: the view's scope check read it from the same user.
    profile = profile_of(user) if user is not None else None
    if profile is not None:
        role = profile.role
    else:
        role = "superuser" if user is not None and user.is_superuser else ""
    if department is not None:
        department_id: int | None = department.pk
    else:
        department_id = profile.department_id if profile is not None else None
    subject_type, subject_id = "", ""
    if isinstance(subject, Model):
        subject_type, subject_id = subject._meta.label_lower, str(subject.pk)
    elif subject is not None:
        subject_type, subject_id = str(subject[0])[:64], str(subject[1])[:64]
    return HouseholdAccess(
        household_id=household_id,
        actor=user,
        role=role[:24],
        department_id=department_id,
        organisation_id=organisation_id,
        organisation_name=organisation_name[:200],
        purpose=AccessPurpose(purpose).value,
        subject_type=subject_type,
        subject_id=subject_id,
        reason=redact_value(reason or "")[:200],
    )


def household_access_record(
    *,
    actor: AuditActor,
    household_id: int | None,
    purpose: AccessPurpose | str,
    subject: Model | tuple[str, str] | None = None,
    department: Department | None = None,
    organisation_id: int | None = None,
    organisation_name: str = "",
    reason: str = "",
) -> None:
    """Log one read of a household's data: one INSERT, no audit event, no payload.

    `actor` is the reader (a staff or organisation account; None or a label for the system). The
    role and the department are copied from the account's profile unless `department` is given;
    an organisation (charity, above this app) passes its id and name. `reason` is the reveal's
    or the download's reason, shown to the resident. A call without a household (a record not
    yet linked to one) writes nothing.
    """
    if household_id is None:
        return
    row = _row(actor, household_id, purpose, subject, department, organisation_id, organisation_name, reason)
    row.save(force_insert=True)


def household_access_record_many(
    *,
    actor: AuditActor,
    household_ids: Iterable[int],
    purpose: AccessPurpose | str,
    subject: Model | tuple[str, str] | None = None,
    reason: str = "",
) -> int:
    """Log one read of each of many households' data (a table or an export): one multi-row INSERT.

    Returns the number of rows written.
    """
    first = _row(actor, 0, purpose, subject, None, None, "", reason)
    rows = []
    for hid in dict.fromkeys(household_ids):
        row = HouseholdAccess(
            **{f.attname: getattr(first, f.attname) for f in HouseholdAccess._meta.concrete_fields}
        )
        row.pk = None
        row.household_id = hid
        rows.append(row)
    HouseholdAccess.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def staff_code_resolve(*, actor: Actor, code: str) -> User | None:
    """The account behind a staff code a resident quoted, for the county centre only; audited.

    Anyone else gets PermissionDenied. None when no account has that code.
    """
    if not is_county_wide(actor):
        raise PermissionDenied
    wanted = normalise_staff_code(code)
    found: User | None = None
    if wanted:
        # A few hundred staff accounts: computing every code is cheaper than storing a column
        # that a leaked dump would join straight back to the names.
        for pk in get_user_model().objects.values_list("pk", flat=True).iterator():
            if staff_code(pk) == wanted:
                found = get_user_model().objects.get(pk=pk)
                break
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="staff_code_resolve",
            subject=("auth.user", str(found.pk) if found is not None else "-"),
            new={"code": wanted or code[:16], "found": found is not None},
        )
    return found


def household_access_log_read(
    *, actor: AuditActor, household_id: int, year: int, assisted: bool = False
) -> list[AccessLogEntry]:
    """The year's access log of a household, and the trace of this reading.

    The caller has established who may read it: the resident's verified session (actor
    "resident", or the assistant's account with `assisted=True` at the township window), or a
    staff page that fetched the household in scope. A resident's own reading is an audit event;
    a staff member's is a row of the log itself (purpose access_log_read), so the resident sees it.
    """
    entries = household_access_log(household_id, year)
    if account_of(actor) is None:
        audit_record(
            actor=actor if isinstance(actor, str) else RESIDENT,
            action="access_log_read",
            subject=("applications.household", str(household_id)),
            new={"year": year},
        )
    else:
        household_access_record(
            actor=actor,
            household_id=household_id,
            purpose=AccessPurpose.ASSISTED_LIST if assisted else AccessPurpose.ACCESS_LOG_READ,
            subject=("applications.household", str(household_id)),
        )
    return entries
