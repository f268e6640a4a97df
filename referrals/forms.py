"""Forms of the department workbench and the centre's pages: each feeds exactly one service."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.forms import BaseFormSet, formset_factory
from django.utils.translation import gettext_lazy as _

from assist_center.models import Department

from .models import Colour, Referral, ReferralOutcome

# The longest free text a department types; PostgreSQL takes more, but a brief is not an essay.
TEXT_MAX = 1000


def _no_nul(value: str) -> None:
    # PostgreSQL rejects NUL bytes in text (stack.md): refuse them here with a message, not a 500.
    if "\x00" in value:
        raise ValidationError(_("The text contains a character that is not allowed."))


def _text(label: Any, *, required: bool = True, max_length: int = TEXT_MAX) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[_no_nul],
    )


class WorkbenchFilterForm(forms.Form):
    """GET filters of the workbench list: codes only, never personal data, in the URL."""

    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Open")), *Referral.Status.choices, ("all", _("All statuses"))],
    )
    colour = forms.ChoiceField(
        label=_("Warning"), required=False, choices=[("", _("All warnings")), *Colour.choices]
    )


class _CentreActionForm(forms.Form):
    """Several of the centre's forms share a page and field names: each gets its own element ids."""

    id_prefix = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"id_{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class RequestInfoForm(forms.Form):
    question = _text(_("Question to the centre"))


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; the service checks their type and size by content."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        if not data:
            return []
        single = super().clean
        rows = data if isinstance(data, list | tuple) else [data]
        return [single(d, initial) for d in rows]


class AnswerInfoForm(forms.Form):
    answer = _text(_("Answer"))
    attachments = MultipleFileField(
        label=_("Attachments (optional)"),
        required=False,
        help_text=_(
            "Photos (JPEG, PNG) or PDF files, up to 5; only this department and the centre can open them."
        ),
    )


class ReturnForm(forms.Form):
    reason_code = forms.ChoiceField(label=_("Reason for returning"), choices=Referral.ReturnReason.choices)
    note = _text(_("Note"), required=False)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("reason_code") == Referral.ReturnReason.OTHER and not data.get("note"):
            self.add_error("note", _("Say why when the reason is “other”."))
        return data


class ReassignForm(_CentreActionForm):
    id_prefix = "reassign"
    department = forms.ModelChoiceField(
        label=_("New department"),
        queryset=Department.objects.filter(takes_referrals=True).order_by("code"),
        empty_label=_("Choose a department"),
    )
    reason = _text(_("Reason (kept in the history)"))

    def __init__(self, *args: Any, exclude_department_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if exclude_department_id is not None:
            field = self.fields["department"]
            assert isinstance(field, forms.ModelChoiceField) and field.queryset is not None
            field.queryset = field.queryset.exclude(pk=exclude_department_id)


class ExtendForm(_CentreActionForm):
    id_prefix = "extend"
    days = forms.IntegerField(label=_("Extra working days"), min_value=1, max_value=30)
    reason = _text(_("Reason (kept in the history)"))


class CancelForm(_CentreActionForm):
    id_prefix = "cancel"
    reason = _text(_("Reason (kept in the history)"))


class OutcomeForm(forms.Form):
    """The outcome of one item: granted with what, or not granted and why."""

    GRANTED_CHOICES = [("yes", _("Granted")), ("no", _("Not granted"))]

    granted = forms.ChoiceField(
        label=_("Outcome of this item"), choices=GRANTED_CHOICES, widget=forms.RadioSelect
    )
    benefit_kind = forms.CharField(label=_("Benefit"), required=False, max_length=100, validators=[_no_nul])
    amount = forms.DecimalField(
        label=_("Amount (yuan)"),
        required=False,
        min_value=Decimal("0"),
        max_digits=12,
        decimal_places=2,
    )
    period = forms.ChoiceField(
        label=_("Period"), required=False, choices=[("", "—"), *ReferralOutcome.Period.choices]
    )
    start_date = forms.DateField(
        label=_("Start date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = _text(_("Reason for not granting"), required=False)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        granted = data.get("granted")
        if granted == "yes":
            if not data.get("benefit_kind"):
                self.add_error("benefit_kind", _("Say what is granted."))
            if not data.get("period"):
                self.add_error("period", _("Choose the period."))
            if not data.get("start_date"):
                self.add_error("start_date", _("Give the start date."))
        elif granted == "no" and not data.get("reason"):
            self.add_error("reason", _("Give the reason for not granting."))
        return data

    def outcome_fields(self) -> dict[str, Any]:
        """Cleaned values in the shape of OutcomeInput, minus the item (the formset adds it)."""
        d = self.cleaned_data
        if d["granted"] == "yes":
            start: dt.date | None = d.get("start_date")
            return {
                "granted": True,
                "benefit_kind": d["benefit_kind"],
                "amount": d.get("amount"),
                "period": d["period"],
                "start_date": start,
                "reason": "",
            }
        return {"granted": False, "reason": d["reason"]}


class BaseOutcomeFormSet(BaseFormSet):
    """One row per item of the referral, in the referral's order; the item is never taken from the POST."""

    def __init__(self, *args: Any, items: list[str], **kwargs: Any) -> None:
        self.items = list(items)
        super().__init__(*args, **kwargs)

    def total_form_count(self) -> int:
        # Fixed by the referral, not by the management form: a tampered TOTAL_FORMS changes nothing.
        return len(self.items)

    def initial_form_count(self) -> int:
        return len(self.items)

    def outcome_rows(self) -> list[dict[str, Any]]:
        return [
            {"item": item, **form.outcome_fields()} for item, form in zip(self.items, self.forms, strict=True)
        ]


OutcomeFormSet = cast(
    "type[BaseOutcomeFormSet]", formset_factory(OutcomeForm, formset=BaseOutcomeFormSet, extra=0)
)
