"""Reads that join or aggregate across core's tables."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from .models import ObjectChange, Organisation, RoleAssignment


def organisations_for_user(*, user: Any) -> QuerySet[Organisation]:
    """Organisations where ``user`` holds at least one role."""
    return Organisation.objects.filter(
        pk__in=RoleAssignment.objects.filter(user=user).values("organisation_id")
    ).order_by("name")


def object_history(*, organisation: Organisation, instance: Any) -> QuerySet[ObjectChange]:
    """The change log of one record, newest first, inside its organisation."""
    from django.contrib.contenttypes.models import ContentType

    return ObjectChange.objects.filter(
        organisation=organisation,
        content_type=ContentType.objects.get_for_model(instance, for_concrete_model=True),
        object_id=str(instance.pk),
    ).select_related("content_type")


def organisation_users(*, organisation: Organisation) -> QuerySet[Any]:
    """Users holding a role in the organisation (for choice fields)."""
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(
            pk__in=RoleAssignment.objects.filter(organisation=organisation).values("user_id")
        )
        .order_by("email")
    )


def jobs_visible_to(
    queryset: QuerySet[Any], *, user: Any, organisation: Organisation
) -> QuerySet[Any]:
    """Administrators see every job of the organisation; others see their own."""
    from .permissions import roles_for
    from .roles import Role

    if Role.ADMIN in roles_for(user, organisation.pk):
        return queryset
    return queryset.filter(user=user)
