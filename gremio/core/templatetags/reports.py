"""Formatting of report figures, in the reader's language and number format."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.formats import date_format, number_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from gremio.core.reports import DATE, DECIMAL, INT, MONEY, PERCENT

register = template.Library()


@register.filter
def report_value(value: Any, kind: str) -> Any:
    """A value of a report column of ``kind``; a dash for nothing."""
    if value is None or value == "":
        return mark_safe('<span class="text-body-tertiary">—</span>')
    if kind == INT:
        return number_format(value, 0, force_grouping=True)
    if kind in (DECIMAL, MONEY):
        return number_format(value, 2, force_grouping=True)
    if kind == PERCENT:
        return _("{value} %").format(value=number_format(value, 1, force_grouping=True))
    if kind == DATE:
        return date_format(value, "SHORT_DATE_FORMAT")
    return value


@register.filter
def report_change(change: Decimal | None, kind: str) -> SafeString | str:
    """ "▲ +12.5 %" (or "▲ +3.1 pts" for percentages).

    No colour: whether a rise is good depends on the figure (services or lapses).
    """
    if change is None:
        return ""
    arrow = "▲" if change > 0 else "▼" if change < 0 else "="
    number = ("+" if change > 0 else "") + number_format(change, 1)
    text = (
        _("{value} pts").format(value=number)
        if kind == PERCENT
        else _("{value} %").format(value=number)
    )
    return format_html("{} {}", arrow, text)
