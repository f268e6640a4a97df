"""The resident's phone application form (/apply/<region_code>/): plain HTML, no JavaScript needed.

The form only collects and shapes the input; every rule (ID numbers, phones, ages, duplicates,
consents) lives in `applications.intake.parse_application_input` and the submission service, so
that the page, the JSON API and the on-behalf channel refuse exactly the same things with the same
Chinese messages. Django-level checks here are limited to what protects the server (lengths, NUL
bytes, a village outside the scanned region).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.forms.formsets import BaseFormSet, formset_factory
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from assist_center.models import Region

from .intake import MAX_ADDRESS_LENGTH, MAX_MEMBERS, MAX_NAME_LENGTH, MAX_NEED_NOTE_LENGTH, MAX_SUPPORTERS
from .models import ApplicationMember, NeedItem

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# The data-processing notice (apply_notice.html) promises this; records management deletes after it.
RETENTION_YEARS_AFTER_CLOSURE = 10
# Empty rows shown for members and supporters, and how many more "add more rows" brings.
MEMBER_ROWS = 3
SUPPORTER_ROWS = 2
ADD_ROWS = 3
# secrets.token_urlsafe(24) makes 32 characters; anything else posted is ignored.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{20,64}")

_BLANK_CHOICE: list[tuple[str, StrOrPromise]] = [("", _("— choose —"))]
# Relations of other people to the applicant: "self" is the applicant's own.
_RELATIONS = [(value, label) for value, label in ApplicationMember.Relation.choices if value != "self"]


class CodeInput(forms.TextInput):
    """A one-time code box that never renders its value back: a code is used once (issue 3)."""

    def format_value(self, value: Any) -> str | None:
        return None


def _text(label: StrOrPromise, max_length: int, **kwargs: Any) -> forms.CharField:
    # required=False: the intake parser reports missing values, with the same words as the API.
    return forms.CharField(label=label, max_length=max_length, required=False, **kwargs)


def _attrs(**attrs: str) -> dict[str, str]:
    return {"autocomplete": "off", **attrs}


_ID_ATTRS = _attrs(autocapitalize="characters", spellcheck="false", inputmode="text")
_PHONE_ATTRS = {"autocomplete": "tel", "inputmode": "tel"}


def village_choices(region: Region) -> tuple[list[Any], bool]:
    """The villages a resident of `region`'s assist code may choose, and whether the choice is fixed.

    A village's code fixes the village; a township's lists its villages; the county's lists every
    village grouped by township (rendered as <optgroup>).
    """
    if region.level == Region.Level.VILLAGE:
        return [(region.code, region.name)], True
    villages = Region.objects.filter(level=Region.Level.VILLAGE).order_by("code")
    if region.level == Region.Level.TOWNSHIP:
        return [*_BLANK_CHOICE, *((v.code, v.name) for v in villages.filter(township=region))], False
    groups: dict[int, tuple[str, list[tuple[str, str]]]] = {}
    townships = Region.objects.filter(parent=region, level=Region.Level.TOWNSHIP).order_by("code")
    for township in townships:
        groups[township.pk] = (township.name, [])
    county_villages = list(villages.filter(township__in=townships))
    # Some village names occur in two townships (issue 16): a closed <select> shows only the
    # option's label, so a repeated name carries its township and no two labels are the same.
    counts = Counter(v.name for v in county_villages)
    for village in county_villages:
        assert village.township_id is not None
        township_name = groups[village.township_id][0]
        label = f"{village.name}（{township_name}）" if counts[village.name] > 1 else village.name
        groups[village.township_id][1].append((village.code, label))
    return [*_BLANK_CHOICE, *((name, items) for name, items in groups.values() if items)], False


class ApplyForm(forms.Form):
    """The applicant, the household's place, its needs and the consents."""

    name = _text(_("Your full name"), MAX_NAME_LENGTH, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    id_number = _text(
        _("Your ID card number"),
        40,
        help_text=_("18 characters; the last one may be X."),
        widget=forms.TextInput(attrs=_ID_ATTRS),
    )
    phone = _text(
        _("Your mobile phone number"),
        32,
        help_text=_("We send a 6-digit code to this phone."),
        widget=forms.TextInput(attrs={**_PHONE_ATTRS, "type": "tel"}),
    )
    otp = _text(
        _("SMS code"),
        12,
        help_text=_("The 6 digits in the text message."),
        widget=CodeInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    village = forms.ChoiceField(label=_("Village or community"), required=False)
    address = _text(
        _("Home address"),
        MAX_ADDRESS_LENGTH,
        help_text=_("Road or village group and house number, for example 12 Xingfu Road."),
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    needs = forms.MultipleChoiceField(
        label=_("What help do you need?"),
        required=False,
        choices=NeedItem.choices,
        help_text=_("Tick all that apply. Not sure? Tick what seems closest; staff will check everything."),
        widget=forms.CheckboxSelectMultiple,
    )
    need_note = _text(
        _("Other difficulties or needs"),
        MAX_NEED_NOTE_LENGTH,
        help_text=_("Optional. Say it in your own words."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    consent_data_check = forms.BooleanField(
        label=_("I agree that my household's records are checked"),
        required=False,
        help_text=_(
            "We look up the income, property and other records of everyone listed here, to see "
            "which assistance you can get. Without this we cannot handle the application."
        ),
    )
    consent_share = forms.BooleanField(
        label=_("I agree to share my need with a helping organisation"),
        required=False,
        help_text=_(
            "If no policy covers a difficulty, the charity that takes it on gets your name, phone "
            "and address to help you."
        ),
    )
    consent_publish = forms.BooleanField(
        label=_("I agree to publish my need without personal details"),
        required=False,
        help_text=_(
            "Only the township, an age range and what is needed are shown; never your name, phone or village."
        ),
    )
    guardian_confirmed = forms.BooleanField(
        label=_("I am the guardian of the children under 14 listed here and agree to the check for them"),
        required=False,
        help_text=_(
            "Tick this if anyone in the household is under 14: for children under 14 the law asks for "
            "the guardian's consent, which you give here. (Everyone aged 18 or over signs on the "
            "family page after you submit.)"
        ),
    )
    token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, region: Region, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.region = region
        choices, fixed = village_choices(region)
        village = self.fields["village"]
        assert isinstance(village, forms.ChoiceField)
        village.choices = choices
        self.village_fixed = fixed
        if fixed:
            village.initial = region.code
            village.widget = forms.HiddenInput()

    def clean_token(self) -> str:
        token = str(self.cleaned_data.get("token") or "")
        return token if TOKEN_PATTERN.fullmatch(token) else ""


class MemberForm(forms.Form):
    """Another person of the household (the applicant is one already)."""

    name = _text(_("Full name"), MAX_NAME_LENGTH)
    id_number = _text(_("ID card number"), 40, widget=forms.TextInput(attrs=_ID_ATTRS))
    relation = forms.ChoiceField(
        label=_("Relation to you"), required=False, choices=[*_BLANK_CHOICE, *_RELATIONS]
    )


class SupporterForm(MemberForm):
    """A person legally obliged to support the household who lives elsewhere (赡养/抚养/扶养人)."""

    phone = _text(_("Mobile phone number"), 32, widget=forms.TextInput(attrs={**_PHONE_ATTRS, "type": "tel"}))


class RowFormSet(BaseFormSet):
    """Rows left blank are ignored; the rest become the list sent to the intake parser."""

    def used_rows(self) -> list[tuple[int, dict[str, Any]]]:
        """(row index on the page, cleaned values) of every row with something typed in it."""
        rows = []
        for index, form in enumerate(self.forms):
            data = getattr(form, "cleaned_data", None) or {}
            if any(str(value).strip() for value in data.values()):
                rows.append((index, data))
        return rows


MemberFormSet = cast(
    type[RowFormSet],
    formset_factory(
        MemberForm,
        formset=RowFormSet,
        extra=MEMBER_ROWS,
        max_num=MAX_MEMBERS,
        absolute_max=MAX_MEMBERS,
        validate_max=True,
    ),
)
SupporterFormSet = cast(
    type[RowFormSet],
    formset_factory(
        SupporterForm,
        formset=RowFormSet,
        extra=SUPPORTER_ROWS,
        max_num=MAX_SUPPORTERS,
        absolute_max=MAX_SUPPORTERS,
        validate_max=True,
    ),
)


@dataclass
class ApplyPage:
    """The three parts of the page, bound together, and the mapping of list positions to rows."""

    form: ApplyForm
    members: RowFormSet
    supporters: RowFormSet
    member_rows: list[int] = field(default_factory=list)
    supporter_rows: list[int] = field(default_factory=list)
    general_errors: list[str] = field(default_factory=list)

    def is_valid(self) -> bool:
        # Every part is validated (no short-circuit) so that all errors show at once.
        results = [self.form.is_valid(), self.members.is_valid(), self.supporters.is_valid()]
        return all(results)

    def to_data(self) -> dict[str, Any]:
        """The JSON body of POST /api/v1/public/applications/ (issue 3) without `otp`."""
        cd = self.form.cleaned_data
        members = self.members.used_rows()
        supporters = self.supporters.used_rows()
        self.member_rows = [index for index, _row in members]
        self.supporter_rows = [index for index, _row in supporters]
        return {
            "region_code": self.form.region.code,
            "village_code": cd.get("village") or "",
            "address": cd.get("address", ""),
            "applicant": {
                "name": cd.get("name", ""),
                "id_number": cd.get("id_number", ""),
                "phone": cd.get("phone", ""),
            },
            "members": [
                {
                    "name": row.get("name", ""),
                    "id_number": row.get("id_number", ""),
                    "relation": row.get("relation", ""),
                }
                for _index, row in members
            ],
            "supporters": [
                {
                    "name": row.get("name", ""),
                    "id_number": row.get("id_number", ""),
                    "relation": row.get("relation", ""),
                    "phone": row.get("phone", ""),
                }
                for _index, row in supporters
            ],
            "needs": list(cd.get("needs") or []),
            "need_note": cd.get("need_note", ""),
            "consents": {
                "data_check": bool(cd.get("consent_data_check")),
                "share_with_organisations": bool(cd.get("consent_share")),
                "publish_need": bool(cd.get("consent_publish")),
            },
            "guardian_confirmed": bool(cd.get("guardian_confirmed")),
        }

    def add_errors(self, fields: Mapping[str, Any]) -> None:
        """Put the intake parser's errors (flat, dotted paths) on the fields the resident sees."""
        for path, messages in fields.items():
            for message in _as_list(messages):
                self._add_error(str(path), message)

    def _add_error(self, path: str, message: str) -> None:
        parts = path.split(".")
        head = parts[0]
        if head in ("members", "supporters"):
            formset = self.members if head == "members" else self.supporters
            rows = self.member_rows if head == "members" else self.supporter_rows
            if len(parts) == 1 or not parts[1].isdigit() or int(parts[1]) >= len(rows):
                _formset_error(formset, message)
                return
            row_form = formset.forms[rows[int(parts[1])]]
            name = parts[2] if len(parts) > 2 and parts[2] in row_form.fields else None
            _form_error(row_form, name, message)
            return
        name = _FIELD_PATHS.get(path) or _FIELD_PATHS.get(head)
        if name is None:
            self.general_errors.append(message)
        else:
            _form_error(self.form, name, message)

    def error_summary(self) -> list[tuple[str, str]]:
        """(anchor id, "label: message") for each error, in the order of the page (issue 16).

        The page shows the applicant and the address, then the member and supporter rows, then
        needs and consents: the summary follows it, whatever order the checks reported in.
        """
        summary: list[tuple[str, str]] = [("", message) for message in self.general_errors]
        summary += _form_summary(self.form, "", fields=PAGE_ORDER_BEFORE_ROWS)
        for formset, title in (
            (self.members, _("Family member %(n)s")),
            (self.supporters, _("Supporter %(n)s")),
        ):
            summary += [(f"{formset.prefix}-section", str(error)) for error in formset.non_form_errors()]
            for index, row_form in enumerate(formset.forms):
                summary += _form_summary(row_form, str(title) % {"n": index + 1} + " · ")
        rest = [name for name in self.form.fields if name not in PAGE_ORDER_BEFORE_ROWS]
        summary += _form_summary(self.form, "", fields=rest, with_non_field=False)
        return summary


# ApplyForm's fields shown above the member rows (sections 1 and 2 of apply.html); the rest follow them.
PAGE_ORDER_BEFORE_ROWS = ("name", "id_number", "phone", "otp", "village", "address")


# Dotted paths of the intake contract -> ApplyForm field names.
_FIELD_PATHS = {
    "applicant.name": "name",
    "applicant.id_number": "id_number",
    "applicant.phone": "phone",
    "phone": "phone",
    "otp": "otp",
    "village_code": "village",
    "address": "address",
    "needs": "needs",
    "need_note": "need_note",
    "consents.data_check": "consent_data_check",
    "consents.share_with_organisations": "consent_share",
    "consents.publish_need": "consent_publish",
    "consents": "consent_data_check",
    "guardian_confirmed": "guardian_confirmed",
}


def _as_list(messages: Any) -> list[str]:
    if isinstance(messages, str | Promise):
        return [str(messages)]
    if isinstance(messages, Iterable):
        return [str(m) for m in messages]
    return [str(messages)]


def _form_error(form: forms.Form, name: str | None, message: str) -> None:
    existing = [str(error) for error in form.errors.get(name or NON_FIELD_ERRORS) or ()]
    if message not in existing:  # the form's own check and the parser may say the same thing
        form.add_error(name, message)


def _formset_error(formset: RowFormSet, message: str) -> None:
    errors = formset.non_form_errors()
    if message not in errors:
        errors.append(message)


def _form_summary(
    form: forms.Form, prefix: str, *, fields: Sequence[str] | None = None, with_non_field: bool = True
) -> list[tuple[str, str]]:
    """The form's errors in its fields' order (or `fields`' order), its non-field errors first."""
    order: list[str] = [NON_FIELD_ERRORS] if with_non_field else []
    order += list(fields) if fields is not None else list(form.fields)
    summary = []
    for name in order:
        errors = form.errors.get(name)
        if not errors:
            continue
        if name in form.fields:
            bound = form[name]
            anchor = str(bound.id_for_label or bound.auto_id)
            where = f"{prefix}{bound.label}"
        else:
            anchor, where = "", prefix.rstrip(" ·")
        for error in errors:
            # Chinese puts a full-width colon here; the catalogue decides.
            text = _("%(field)s: %(message)s") % {"field": where, "message": error} if where else str(error)
            summary.append((anchor, str(text)))
    return summary


def with_more_rows(data: Any, prefixes: Sequence[str], limits: Mapping[str, int]) -> Any:
    """A copy of POST data whose formsets named in `prefixes` have ADD_ROWS more (capped) rows."""
    data = data.copy()
    for prefix in prefixes:
        key = f"{prefix}-TOTAL_FORMS"
        raw = str(data.get(key, ""))
        current = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 4 else 0
        data[key] = str(min(current + ADD_ROWS, limits[prefix]))
    return data
