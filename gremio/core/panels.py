"""Panels: how one module shows its data on another module's page.

The company 360 page shows invoices and seats without the members app
importing finance or representation: those modules register panels for the
target ``"members.company"``. The start page is the target ``"dashboard"``.
A panel names the permission that shows it and returns its own context
with a bounded number of queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .permissions import can


@dataclass(frozen=True)
class Panel:
    key: str
    template: str
    context: Callable[
        [Any, Any], dict[str, Any] | None
    ]  # (request, obj) -> context, or None to hide
    perm: str
    order: int = 100
    wide: bool = False  # spans the whole width rather than a column


_registry: dict[str, dict[str, Panel]] = {}


def register(target: str, panel: Panel) -> None:
    _registry.setdefault(target, {})[panel.key] = panel


def panels_for(target: str, request: Any, obj: Any = None) -> list[dict[str, Any]]:
    """The panels of ``target`` this user may see, with their context, in order."""
    shown = []
    for panel in sorted(_registry.get(target, {}).values(), key=lambda p: p.order):
        if not can(request.user, panel.perm, obj if obj is not None else request.organisation):
            continue
        context = panel.context(request, obj)
        if context is not None:
            shown.append(
                {"key": panel.key, "template": panel.template, "wide": panel.wide, **context}
            )
    return shown
