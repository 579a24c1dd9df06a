"""The one mechanism that keeps choices inside the request's organisation.

Forms, filter sets and API serializers all pass their related-object
querysets through ``scope_queryset``: a record of another organisation is
then simply not a valid choice, and posting its id is a field error.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Model, Q, QuerySet

from .models import Organisation, OrganisationOwned


def scope_queryset(
    queryset: QuerySet[Any], organisation: Organisation | None, *, keep: Any = None
) -> QuerySet[Any]:
    """Limit ``queryset`` to ``organisation``; inactive rows only if already chosen."""
    model: type[Model] = queryset.model
    if organisation is None:
        return queryset.none()
    if issubclass(model, OrganisationOwned):
        queryset = queryset.filter(organisation=organisation)
        if any(f.name == "active" for f in model._meta.fields):
            keep_q = (
                Q(pk__in=keep if isinstance(keep, list | tuple | set) else [keep]) if keep else Q()
            )
            queryset = queryset.filter(Q(active=True) | keep_q)
    elif issubclass(model, get_user_model()):
        from .selectors import organisation_users

        queryset = queryset.filter(
            pk__in=organisation_users(organisation=organisation).values("pk")
        )
    elif issubclass(model, Organisation):
        queryset = queryset.filter(pk=organisation.pk)
    return queryset
