"""Template helpers for the shell and the generic pages."""

from __future__ import annotations

from typing import Any

from django import forms, template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def widget_class(bound_field: forms.BoundField) -> str:
    """Renders a form field's widget with the Bootstrap class that fits it."""
    widget = bound_field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        css = "form-check-input"
    elif isinstance(widget, forms.Select | forms.SelectMultiple):
        css = "form-select"
    elif isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
        css = ""
    else:
        css = "form-control"
    if isinstance(widget, forms.TextInput) and widget.input_type == "color":
        css = "form-control form-control-color"
    if bound_field.errors:
        css += " is-invalid"
    existing = widget.attrs.get("class", "")
    return bound_field.as_widget(attrs={"class": f"{existing} {css}".strip()})


@register.filter
def is_checkbox(bound_field: forms.BoundField) -> bool:
    return isinstance(bound_field.field.widget, forms.CheckboxInput)


@register.simple_tag(takes_context=True)
def org_url(context: dict[str, Any], name: str, *args: Any) -> str:
    """``reverse`` inside the current organisation."""
    organisation = context["request"].organisation
    return reverse(name, args=[organisation.slug, *args])


@register.filter
def display(value: Any) -> Any:
    """A detail-page value: links for records, a dash for nothing, yes/no for booleans."""
    from django.utils.translation import gettext as _

    if value is None or value == "":
        return mark_safe('<span class="text-body-tertiary">—</span>')
    if value is True:
        return _("Yes")
    if value is False:
        return _("No")
    if hasattr(value, "get_absolute_url"):
        try:
            return format_html('<a href="{}">{}</a>', value.get_absolute_url(), value)
        except Exception:
            return str(value)
    if isinstance(value, str) and len(value) == 7 and value.startswith("#"):
        return format_html('<span class="swatch" style="background:{}"></span> {}', value, value)
    return value
