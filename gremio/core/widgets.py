"""Select widgets for choices among thousands of records.

They render only the chosen options; the browser (Tom Select) asks the
organisation's lookup endpoint for the rest as the person types. The form
field still validates against its scoped queryset.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError


class LookupMixin:
    """``model_label`` is "app_label.model_name".

    ``depends_on`` names another field of the form whose value is passed to
    the lookup as a filter (the contacts of the chosen company).
    """

    def __init__(self, *args: Any, model_label: str, depends_on: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model_label = model_label
        self.depends_on = depends_on

    def get_context(self, name: str, value: Any, attrs: Any) -> dict[str, Any]:
        attrs = {**(attrs or {}), "data-lookup": self.model_label}
        if self.depends_on:
            attrs["data-lookup-depends"] = self.depends_on
        return super().get_context(name, value, attrs)  # type: ignore[misc]

    def optgroups(self, name: str, value: Any, attrs: Any = None) -> Any:
        # Only the selected records, not the whole (possibly huge) queryset.
        selected = [v for v in value if v not in ("", None)]
        # A malformed id in the query string (?company=abc) selects nothing; the
        # field reports it. Filtering by it would be a server error.
        pk = self.choices.queryset.model._meta.pk  # type: ignore[attr-defined]
        valid = []
        for v in selected:
            try:
                valid.append(pk.to_python(v))
            except ValidationError:
                continue
        queryset = self.choices.queryset.filter(pk__in=valid) if valid else None  # type: ignore[attr-defined]
        groups = []
        if not self.allow_multiple_selected:  # type: ignore[attr-defined]
            empty = self.create_option(name, "", "---------", not selected, 0)  # type: ignore[attr-defined]
            groups.append((None, [empty], 0))
        for index, obj in enumerate(queryset or [], start=1):
            option = self.create_option(name, str(obj.pk), str(obj), True, index)  # type: ignore[attr-defined]
            groups.append((None, [option], index))
        return groups


class LookupSelect(LookupMixin, forms.Select):
    pass


class LookupSelectMultiple(LookupMixin, forms.SelectMultiple):
    pass
