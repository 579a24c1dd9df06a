"""The one map from roles to permissions.

Pages, forms, the API and exports all ask ``user.has_perm(name, target)``
where ``name`` is ``"<app_label>.<action>_<model>"`` and ``target`` is the
organisation or an object that belongs to one. The answer comes from this
table and the roles the user holds in that organisation (see ``rules.py``).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

VIEW, ADD, CHANGE, DELETE, EXPORT = "view", "add", "change", "delete", "export"
ACTIONS = (VIEW, ADD, CHANGE, DELETE, EXPORT)
MANAGE = frozenset({VIEW, ADD, CHANGE, DELETE, EXPORT})
READ = frozenset({VIEW, EXPORT})
VIEW_ONLY = frozenset({VIEW})
ANY = "*"

# App labels of the business modules. An entry for a module that is not
# installed yet costs nothing; it keeps each role's intent in one place.
BUSINESS_APPS = ("members", "finance", "representation", "strategy", "insights")


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    DIRECTOR = "director", _("Director")
    FINANCE = "finance", _("Finance officer")
    RELATIONS = "relations", _("Member-relations officer")
    REPRESENTATION = "representation", _("Representation coordinator")
    PLANNING = "planning", _("Planning lead")
    STAFF = "staff", _("Staff")
    VIEWER = "viewer", _("Viewer")
    REPRESENTATIVE = "representative", _("Representative")


def _read_all(**own: frozenset[str]) -> dict[str, frozenset[str]]:
    grants = dict.fromkeys(BUSINESS_APPS, READ)
    grants["core.pillar"] = READ
    grants["core.job"] = VIEW_ONLY
    grants.update(own)
    return grants


# role -> {"app_label" or "app_label.model" or "*": actions}
# A "app_label.model" key wins over an "app_label" key, which wins over "*".
ROLE_PERMISSIONS: dict[str, dict[str, frozenset[str]]] = {
    Role.ADMIN: {ANY: MANAGE},
    Role.DIRECTOR: _read_all(**{"core.objectchange": READ, "core.roleassignment": VIEW_ONLY}),
    Role.FINANCE: _read_all(finance=MANAGE),
    Role.RELATIONS: _read_all(members=MANAGE),
    Role.REPRESENTATION: _read_all(representation=MANAGE),
    Role.PLANNING: _read_all(strategy=MANAGE),
    Role.STAFF: {
        **dict.fromkeys(BUSINESS_APPS, VIEW_ONLY),
        "core.pillar": VIEW_ONLY,
        "core.job": VIEW_ONLY,
        "members.servicedelivery": MANAGE,
        "members.interaction": MANAGE,
        "strategy.timeentry": MANAGE,
    },
    Role.VIEWER: {
        **dict.fromkeys(BUSINESS_APPS, VIEW_ONLY),
        "core.pillar": VIEW_ONLY,
        "core.job": VIEW_ONLY,
    },
    # Representatives see their own appointments and sessions; the
    # representation module narrows this to their own records.
    Role.REPRESENTATIVE: {
        "representation": VIEW_ONLY,
        "core.pillar": VIEW_ONLY,
        "core.job": VIEW_ONLY,
    },
}


def role_allows(role: str, app_label: str, model_name: str, action: str) -> bool:
    """Whether ``role`` may do ``action`` on ``app_label.model_name``."""
    grants = ROLE_PERMISSIONS.get(role, {})
    for key in (f"{app_label}.{model_name}", app_label, ANY):
        if key in grants:
            return action in grants[key]
    return False


def roles_allow(roles: frozenset[str], app_label: str, model_name: str, action: str) -> bool:
    return any(role_allows(role, app_label, model_name, action) for role in roles)
