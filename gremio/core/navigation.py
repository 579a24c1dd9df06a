"""The navigation menu: each module registers its own section.

Only installed modules register, so a module that does not exist yet is
simply absent. Each item names the permission that shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .permissions import can


@dataclass(frozen=True)
class MenuItem:
    label: str | Promise
    url_name: str
    perm: str


@dataclass(frozen=True)
class MenuSection:
    key: str
    label: str | Promise
    icon: str
    items: tuple[MenuItem, ...] = field(default_factory=tuple)
    order: int = 100


_sections: dict[str, MenuSection] = {}


def register(section: MenuSection) -> None:
    _sections[section.key] = section


def menu_for(request: Any) -> list[dict[str, Any]]:
    """The sections and items this user may see in the request's organisation."""
    organisation = getattr(request, "organisation", None)
    if organisation is None:
        return []
    current = request.path
    menu = []
    for section in sorted(_sections.values(), key=lambda s: s.order):
        items = []
        for item in section.items:
            if can(request.user, item.perm, organisation):
                url = reverse(item.url_name, kwargs={"org": organisation.slug})
                items.append({"label": item.label, "url": url, "active": current.startswith(url)})
        if items:
            menu.append(
                {
                    "key": section.key,
                    "label": section.label,
                    "icon": section.icon,
                    "items": items,
                    "active": any(i["active"] for i in items),
                }
            )
    return menu


def register_core() -> None:
    register(
        MenuSection(
            key="settings",
            label=_("Administration"),
            icon="gear",
            order=900,
            items=(
                MenuItem(_("Strategic pillars"), "core:pillar_list", "core.view_pillar"),
                MenuItem(
                    _("Users and roles"), "core:roleassignment_list", "core.view_roleassignment"
                ),
                MenuItem(_("Invitations"), "core:invitation_list", "core.view_invitation"),
                MenuItem(_("Change log"), "core:objectchange_list", "core.view_objectchange"),
                MenuItem(_("Background jobs"), "core:job_list", "core.view_job"),
                MenuItem(
                    _("Organisation settings"), "core:organisation_edit", "core.change_organisation"
                ),
            ),
        )
    )
