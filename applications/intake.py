"""The intake contract: the JSON body of `POST /api/v1/public/applications/` (minus `otp`), checked.

Every caller (the public API, the phone form, the on-behalf page) turns its input into this body and
calls `parse_application_input`, so a resident sees the same words whichever way they applied.
Errors are one flat dict keyed by dotted paths ("members.0.id_number"); no message ever echoes a
value: they reach pages, API answers and logs, and the values are ID numbers and phones.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from assist_center.errors import ApplicationError
from assist_center.identity import ERROR_MESSAGES as ID_ERROR_MESSAGES
from assist_center.identity import InvalidIdNumber, ResidentId, parse_id_number
from assist_center.models import Region
from assist_center.phones import InvalidPhone, normalise_mobile

from .models import ApplicationMember, NeedItem

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

__all__ = [
    "CONSENT_VERSION",
    "GUARDIAN_AGE",
    "MAX_ADDRESS_LENGTH",
    "MAX_MEMBERS",
    "MAX_NAME_LENGTH",
    "MAX_NEED_NOTE_LENGTH",
    "MAX_SUPPORTERS",
    "MEMBER_RELATIONS",
    "SUPPORTER_RELATIONS",
    "ApplicationInput",
    "PersonInput",
    "parse_application_input",
]

# The version of the notice and consent text the resident saw; stored on every application and
# signature, and printed under the notice, so that a changed text gets a new version here.
CONSENT_VERSION = "2026-11-v1"

MAX_MEMBERS = 10
MAX_SUPPORTERS = 6
MAX_NAME_LENGTH = 50
MAX_ADDRESS_LENGTH = 200
MAX_NEED_NOTE_LENGTH = 1000
# PIPL art. 31: personal information of a child under 14 needs the guardian's consent.
GUARDIAN_AGE = 14

MEMBER_RELATIONS = frozenset(
    r.value for r in ApplicationMember.Relation if r != ApplicationMember.Relation.SELF
)
SUPPORTER_RELATIONS = frozenset(
    {
        ApplicationMember.Relation.CHILD.value,
        ApplicationMember.Relation.PARENT.value,
        ApplicationMember.Relation.SPOUSE.value,
        ApplicationMember.Relation.SIBLING.value,
        ApplicationMember.Relation.GRANDCHILD.value,
        ApplicationMember.Relation.OTHER.value,
    }
)
_NEED_CODES = frozenset(NeedItem.values)

_TOP_KEYS = frozenset(
    {
        "region_code",
        "village_code",
        "address",
        "applicant",
        "members",
        "supporters",
        "needs",
        "need_note",
        "consents",
        "guardian_confirmed",
    }
)
_APPLICANT_KEYS = frozenset({"name", "id_number", "phone"})
_MEMBER_KEYS = frozenset({"name", "id_number", "relation"})
_SUPPORTER_KEYS = frozenset({"name", "id_number", "relation", "phone"})
_CONSENT_KEYS = frozenset({"data_check", "share_with_organisations", "publish_need"})
# A hostile body may carry thousands of unknown keys: report enough of them to be useful.
_MAX_REPORTED_ERRORS = 50
_MAX_KEY_SHOWN = 40
_REGION_CODE_LENGTH = 12
_NOTE_WHITESPACE = frozenset("\n\r\t")

REQUIRED = pgettext_lazy("form", "This field is required.")
NOT_TEXT = _("Must be text.")
NOT_BOOLEAN = _("Must be true or false.")
NOT_LIST = _("Must be a list.")
NOT_OBJECT = _("Must be an object.")
UNKNOWN_KEY = _("Unknown field.")
CONTROL_CHARACTER = _("Contains a control character or an invalid character.")
PHONE_MESSAGES: Mapping[str, StrOrPromise] = {
    "empty": _("Enter the mobile phone number."),
    "invalid": _("Enter a valid mobile phone number."),
    "not_mobile": _("Enter a mobile phone number (not a landline)."),
}


@dataclass(frozen=True)
class PersonInput:
    """A person as declared: `id_number` normalised (ASCII, upper-case X), `phone` in E.164 or ""."""

    name: str
    id_number: str
    relation: str
    phone: str = ""


@dataclass(frozen=True)
class ApplicationInput:
    region_code: str
    village_code: str
    address: str
    applicant: PersonInput
    members: tuple[PersonInput, ...]
    supporters: tuple[PersonInput, ...]
    needs: tuple[str, ...]
    need_note: str
    consent_data_check: bool
    consent_share: bool
    consent_publish: bool
    guardian_confirmed: bool

    def people(self) -> tuple[PersonInput, ...]:
        """The applicant, the other members, then the supporters: the order of their positions."""
        return (self.applicant, *self.members, *self.supporters)


class _Errors:
    """A flat, ordered dict of path -> message; the first message per path wins."""

    def __init__(self) -> None:
        self.fields: dict[str, StrOrPromise] = {}

    def add(self, path: str, message: StrOrPromise) -> None:
        if path not in self.fields and len(self.fields) < _MAX_REPORTED_ERRORS:
            self.fields[path] = message

    def has(self, path: str) -> bool:
        return path in self.fields

    def raise_if_any(self) -> None:
        if not self.fields:
            return
        fields = {path: str(message) for path, message in self.fields.items()}
        if len(fields) == 1:
            message: StrOrPromise = next(iter(fields.values()))
        else:
            message = _("Please correct the marked fields.")
        raise ApplicationError(message, {"fields": fields})


def _shown_key(key: Any) -> str:
    """A client's unknown key as it may appear in an error path: short and encodable."""
    text = key if isinstance(key, str) else repr(key)
    # A lone surrogate ("\\ud800" in JSON) cannot be encoded as UTF-8: the error response would fail.
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text[:_MAX_KEY_SHOWN]


def _check_keys(obj: Mapping[str, Any], allowed: frozenset[str], prefix: str, errors: _Errors) -> None:
    for key in obj:
        if key not in allowed:
            errors.add(f"{prefix}{_shown_key(key)}", UNKNOWN_KEY)


def _is_clean(text: str, *, multiline: bool = False) -> bool:
    """No NUL (PostgreSQL refuses it), no other control character, nothing UTF-8 cannot encode."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    for c in text:
        if unicodedata.category(c) == "Cc" and not (multiline and c in _NOTE_WHITESPACE):
            return False
    return True


def _text(
    obj: Mapping[str, Any],
    key: str,
    path: str,
    errors: _Errors,
    *,
    required: bool,
    max_length: int,
    multiline: bool = False,
    too_long: StrOrPromise | None = None,
) -> str:
    value = obj.get(key)
    if value is None:
        if required:
            errors.add(path, REQUIRED)
        return ""
    if not isinstance(value, str):
        errors.add(path, NOT_TEXT)
        return ""
    if not _is_clean(value, multiline=multiline):
        errors.add(path, CONTROL_CHARACTER)
        return ""
    value = value.strip()
    if required and not value:
        errors.add(path, REQUIRED)
        return ""
    if len(value) > max_length:
        errors.add(path, too_long or _("At most %(n)d characters.") % {"n": max_length})
        return ""
    return value


def _boolean(obj: Mapping[str, Any], key: str, path: str, errors: _Errors) -> bool:
    value = obj.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        errors.add(path, NOT_BOOLEAN)
        return False
    return value


def _object(value: Any, path: str, errors: _Errors) -> Mapping[str, Any] | None:
    if value is None:
        errors.add(path, REQUIRED)
        return None
    if not isinstance(value, Mapping):
        errors.add(path, NOT_OBJECT)
        return None
    return value


def _list(value: Any, path: str, errors: _Errors) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.add(path, NOT_LIST)
        return []
    return value


def _id_number(obj: Mapping[str, Any], path: str, errors: _Errors) -> ResidentId | None:
    value = obj.get("id_number")
    if value is None or value == "":
        errors.add(path, REQUIRED)
        return None
    if not isinstance(value, str):
        errors.add(path, NOT_TEXT)
        return None
    try:
        return parse_id_number(value)
    except InvalidIdNumber as exc:
        # One message per reason (length, characters, check character, date, future, before 1900,
        # province); none of them contains the number.
        errors.add(path, ID_ERROR_MESSAGES.get(exc.code, ID_ERROR_MESSAGES["characters"]))
        return None


def _phone(obj: Mapping[str, Any], path: str, errors: _Errors, *, required: bool) -> str:
    value = obj.get("phone")
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.add(path, PHONE_MESSAGES["empty"])
        return ""
    if not isinstance(value, str):
        errors.add(path, NOT_TEXT)
        return ""
    try:
        return normalise_mobile(value)
    except InvalidPhone as exc:
        errors.add(path, PHONE_MESSAGES.get(exc.code, PHONE_MESSAGES["invalid"]))
        return ""


def _relation(obj: Mapping[str, Any], path: str, errors: _Errors, allowed: frozenset[str]) -> str:
    value = obj.get("relation")
    if value is None or value == "":
        errors.add(path, REQUIRED)
        return ""
    if not isinstance(value, str):
        errors.add(path, NOT_TEXT)
        return ""
    if value not in allowed:
        errors.add(path, _("Choose one of the listed relations."))
        return ""
    return value


@dataclass
class _Parsed:
    person: PersonInput
    resident_id: ResidentId | None
    path: str


def _person(
    raw: Any,
    prefix: str,
    errors: _Errors,
    *,
    keys: frozenset[str],
    relations: frozenset[str] | None,
    phone_required: bool,
) -> _Parsed | None:
    obj = _object(raw, prefix, errors)
    if obj is None:
        return None
    _check_keys(obj, keys, f"{prefix}.", errors)
    name = _text(
        obj,
        "name",
        f"{prefix}.name",
        errors,
        required=True,
        max_length=MAX_NAME_LENGTH,
        too_long=_("A name may have at most %(n)d characters.") % {"n": MAX_NAME_LENGTH},
    )
    resident_id = _id_number(obj, f"{prefix}.id_number", errors)
    relation = (
        _relation(obj, f"{prefix}.relation", errors, relations)
        if relations is not None
        else ApplicationMember.Relation.SELF.value
    )
    phone = _phone(obj, f"{prefix}.phone", errors, required=phone_required) if "phone" in keys else ""
    person = PersonInput(
        name=name,
        id_number=resident_id.number if resident_id is not None else "",
        relation=relation,
        phone=phone,
    )
    return _Parsed(person=person, resident_id=resident_id, path=f"{prefix}.id_number")


def _people(
    value: Any,
    path: str,
    errors: _Errors,
    *,
    limit: int,
    too_many: StrOrPromise,
    keys: frozenset[str],
    relations: frozenset[str],
    phone_required: bool,
) -> list[_Parsed]:
    items = _list(value, path, errors)
    if len(items) > limit:
        errors.add(path, too_many)
        return []
    parsed: list[_Parsed] = []
    for index, raw in enumerate(items):
        person = _person(
            raw,
            f"{path}.{index}",
            errors,
            keys=keys,
            relations=relations,
            phone_required=phone_required,
        )
        if person is not None:
            parsed.append(person)
    return parsed


def _regions(obj: Mapping[str, Any], errors: _Errors) -> tuple[str, str]:
    region_code = _text(obj, "region_code", "region_code", errors, required=True, max_length=32)
    village_code = _text(obj, "village_code", "village_code", errors, required=True, max_length=32)
    region = None
    if region_code:
        region = _region_by_code(region_code)
        if region is None:
            errors.add("region_code", _("This assist code's region does not exist."))
    if region is not None and village_code:
        village = _region_by_code(village_code)
        if village is None or village.level != Region.Level.VILLAGE or not _within(village, region):
            errors.add("village_code", _("Choose a village within the assist code's region."))
    return region_code, village_code


def _region_by_code(code: str) -> Region | None:
    # ASCII digits only: the column is checked as [0-9]{12}, and other scripts' digits never match.
    if len(code) != _REGION_CODE_LENGTH or any(c not in "0123456789" for c in code):
        return None
    return Region.objects.filter(code=code).select_related("township").first()


def _within(village: Region, region: Region) -> bool:
    if village.pk == region.pk or village.township_id == region.pk or village.parent_id == region.pk:
        return True
    # A county's assist code covers every village of its townships.
    return village.township is not None and village.township.parent_id == region.pk


def _needs(obj: Mapping[str, Any], errors: _Errors) -> tuple[str, ...]:
    items = _list(obj.get("needs"), "needs", errors)
    needs: list[str] = []
    for item in items:
        if not isinstance(item, str) or item not in _NEED_CODES:
            errors.add("needs", _("Choose needs from the listed items."))
            return ()
        if item in needs:
            errors.add("needs", _("Each need may be chosen once."))
            return ()
        needs.append(item)
    return tuple(needs)


def parse_application_input(data: Mapping[str, Any]) -> ApplicationInput:
    """Check the application body strictly and return it normalised, or raise ApplicationError.

    The error's extra is `{"fields": {dotted path: message}}`. Unknown keys at any level, wrong
    types, NUL and other control characters, over-long text, bad ID numbers (one message per
    reason), non-mobile phones, the same ID number twice, children under 14 without the guardian
    confirmation, and regions that do not exist or do not contain the village are refused.
    Markup and SQL fragments are ordinary text: stored as typed, escaped wherever shown.
    """
    errors = _Errors()
    if not isinstance(data, Mapping):
        raise ApplicationError(_("The request body must be a JSON object."))
    _check_keys(data, _TOP_KEYS, "", errors)

    region_code, village_code = _regions(data, errors)
    address = _text(
        data,
        "address",
        "address",
        errors,
        required=True,
        max_length=MAX_ADDRESS_LENGTH,
        too_long=_("The address may have at most %(n)d characters.") % {"n": MAX_ADDRESS_LENGTH},
    )

    applicant = _person(
        data.get("applicant"),
        "applicant",
        errors,
        keys=_APPLICANT_KEYS,
        relations=None,
        # Required for the self channel only, which application_submit checks: on behalf, a
        # resident without a mobile can still apply.
        phone_required=False,
    )
    members = _people(
        data.get("members"),
        "members",
        errors,
        limit=MAX_MEMBERS,
        too_many=_("At most %(n)d household members besides the applicant.") % {"n": MAX_MEMBERS},
        keys=_MEMBER_KEYS,
        relations=MEMBER_RELATIONS,
        phone_required=False,
    )
    supporters = _people(
        data.get("supporters"),
        "supporters",
        errors,
        limit=MAX_SUPPORTERS,
        too_many=_("At most %(n)d supporters.") % {"n": MAX_SUPPORTERS},
        keys=_SUPPORTER_KEYS,
        relations=SUPPORTER_RELATIONS,
        # Supporters authorise the data check by SMS code: they need a mobile.
        phone_required=True,
    )

    seen: set[str] = set()
    for parsed in ([applicant] if applicant else []) + members + supporters:
        if parsed.resident_id is None:
            continue
        if parsed.resident_id.number in seen:
            errors.add(parsed.path, _("This person is already listed in the application."))
        seen.add(parsed.resident_id.number)

    needs = _needs(data, errors)
    need_note = _text(
        data,
        "need_note",
        "need_note",
        errors,
        required=False,
        max_length=MAX_NEED_NOTE_LENGTH,
        multiline=True,
        too_long=_("Other needs may have at most %(n)d characters.") % {"n": MAX_NEED_NOTE_LENGTH},
    )
    if not needs and not need_note and not errors.has("needs") and not errors.has("need_note"):
        errors.add("needs", _("Choose at least one need, or describe what you need."))

    consent_data_check = consent_share = consent_publish = False
    consents = _object(data.get("consents"), "consents", errors)
    if consents is not None:
        _check_keys(consents, _CONSENT_KEYS, "consents.", errors)
        consent_data_check = _boolean(consents, "data_check", "consents.data_check", errors)
        consent_share = _boolean(
            consents, "share_with_organisations", "consents.share_with_organisations", errors
        )
        consent_publish = _boolean(consents, "publish_need", "consents.publish_need", errors)
        if not consent_data_check and not errors.has("consents.data_check"):
            errors.add(
                "consents.data_check",
                _("The data check needs your consent; without it the application cannot be handled."),
            )

    guardian_confirmed = _boolean(data, "guardian_confirmed", "guardian_confirmed", errors)
    today = timezone.localdate()
    household = ([applicant] if applicant else []) + members
    has_child = any(
        p.resident_id is not None and p.resident_id.age_on(today) < GUARDIAN_AGE for p in household
    )
    if has_child and not guardian_confirmed and not errors.has("guardian_confirmed"):
        errors.add(
            "guardian_confirmed",
            _(
                "A household member is under 14: confirm that you are the guardian or have the "
                "guardian's consent."
            ),
        )

    errors.raise_if_any()
    assert applicant is not None  # an absent applicant is an error above
    return ApplicationInput(
        region_code=region_code,
        village_code=village_code,
        address=address,
        applicant=applicant.person,
        members=tuple(p.person for p in members),
        supporters=tuple(p.person for p in supporters),
        needs=needs,
        need_note=need_note,
        consent_data_check=consent_data_check,
        consent_share=consent_share,
        consent_publish=consent_publish,
        guardian_confirmed=guardian_confirmed,
    )
