"""One question, asked the same way by pages, forms, the API and exports.

``can(user, "members.change_company", target)`` where ``target`` is the
organisation or a record that belongs to one. Rules are registered with the
``rules`` package for every organisation model at start-up, from the role
map in ``roles.py``. Django's superuser shortcut is deliberately not used:
the platform operator reaches an organisation only through a role in it.
"""

from __future__ import annotations

from typing import Any

import rules
from django.apps import apps
from django.db import models

from .roles import ACTIONS, roles_allow


def perm_name(model: type[models.Model] | models.Model, action: str) -> str:
    opts = model._meta
    return f"{opts.app_label}.{action}_{opts.model_name}"


def organisation_id_of(target: Any) -> int | None:
    from .models import Organisation

    if isinstance(target, Organisation):
        return target.pk
    return getattr(target, "organisation_id", None)


def roles_for(user: Any, organisation_id: int | None) -> frozenset[str]:
    """The roles ``user`` holds in the organisation, cached on the user object."""
    if (
        organisation_id is None
        or not getattr(user, "is_authenticated", False)
        or not user.is_active
    ):
        return frozenset()
    cache: dict[int, frozenset[str]] = user.__dict__.setdefault("_gremio_roles", {})
    if organisation_id not in cache:
        from .models import RoleAssignment

        cache[organisation_id] = frozenset(
            RoleAssignment.objects.filter(user=user, organisation_id=organisation_id).values_list(
                "role", flat=True
            )
        )
    return cache[organisation_id]


def _predicate(app_label: str, model_name: str, action: str) -> rules.Predicate:
    def check(user: Any, target: Any = None) -> bool:
        roles = roles_for(user, organisation_id_of(target))
        return roles_allow(roles, app_label, model_name, action)

    return rules.predicate(check, name=f"role_allows:{app_label}.{action}_{model_name}")


def register_rules() -> None:
    """Register a rule per action for every model that belongs to an organisation."""
    from .models import Organisation, OrganisationOwned

    for model in apps.get_models():
        if not issubclass(model, OrganisationOwned | Organisation):
            continue
        for action in ACTIONS:
            name = perm_name(model, action)
            if not rules.perm_exists(name):
                rules.add_perm(
                    name, _predicate(model._meta.app_label, str(model._meta.model_name), action)
                )


def can(user: Any, perm: str, target: Any) -> bool:
    """Whether ``user`` may ``perm`` on ``target`` (an organisation or one of its records)."""
    return rules.has_perm(perm, user, target)
