"""``{% may "members.export_contact" object as may_export %}`` asks the permission question."""

from __future__ import annotations

from typing import Any

from django import template

from gremio.core.permissions import can

register = template.Library()


@register.simple_tag(takes_context=True)
def may(context: dict[str, Any], perm: str, target: Any = None) -> bool:
    request = context["request"]
    return can(request.user, perm, target if target is not None else request.organisation)
