"""Rebuild the POST body an admin change page would send, from the page's own forms."""

from __future__ import annotations

from typing import Any


def _field_data(form: Any, data: dict[str, Any]) -> None:
    for name, field in form.fields.items():
        bound = form[name]
        value = bound.value()
        key = form.add_prefix(name)
        if value is None or value is False:
            continue
        if hasattr(field.widget, "decompress") and not isinstance(value, list):
            parts = field.widget.decompress(value)
            for i, part in enumerate(parts):
                if part is not None:
                    data[f"{key}_{i}"] = part
            continue
        if isinstance(value, list | tuple):
            data[key] = [getattr(v, "pk", v) for v in value]
        elif value is True:
            data[key] = "on"
        else:
            data[key] = getattr(value, "pk", value)


def admin_form_data(response: Any) -> dict[str, Any]:
    """The change form's and its inlines' current values, as the browser would post them."""
    data: dict[str, Any] = {}
    _field_data(response.context["adminform"].form, data)
    for inline in response.context.get("inline_admin_formsets", []):
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        for form in formset.forms:
            _field_data(form, data)
    return data
