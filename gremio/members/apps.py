from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "gremio.members"
    label = "members"
    verbose_name = _("Members")

    def ready(self) -> None:
        from . import demo, panels, reports  # noqa: F401 (demo registers its step)

        panels.register_all()
        reports.register_all()
        from gremio.core import navigation
        from gremio.core.navigation import MenuItem, MenuSection

        navigation.register(
            MenuSection(
                key="members",
                label=_("Members"),
                icon="people",
                order=100,
                items=(
                    MenuItem(_("Companies"), "members:company_list", "members.view_company"),
                    MenuItem(_("Contacts"), "members:contact_list", "members.view_contact"),
                    MenuItem(
                        _("Memberships"), "members:membership_list", "members.view_membership"
                    ),
                    MenuItem(_("Renewals due"), "members:renewals", "members.view_membership"),
                    MenuItem(
                        _("Services delivered"),
                        "members:servicedelivery_list",
                        "members.view_servicedelivery",
                    ),
                    MenuItem(
                        _("Interactions"), "members:interaction_list", "members.view_interaction"
                    ),
                    MenuItem(
                        _("Service catalogue"), "members:service_list", "members.view_service"
                    ),
                    MenuItem(
                        _("Membership plans"),
                        "members:membershipplan_list",
                        "members.view_membershipplan",
                    ),
                    MenuItem(_("Chambers"), "members:chamber_list", "members.view_chamber"),
                    MenuItem(_("Tags"), "members:tag_list", "members.view_tag"),
                    MenuItem(_("Reports"), "members:reports", "members.view_servicedelivery"),
                    MenuItem(_("Import"), "members:import", "members.add_company"),
                ),
            )
        )
