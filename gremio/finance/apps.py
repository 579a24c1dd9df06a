from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinanceConfig(AppConfig):
    name = "gremio.finance"
    label = "finance"
    verbose_name = _("Finance")

    def ready(self) -> None:
        from gremio.core import navigation
        from gremio.core import services as core_services
        from gremio.core.navigation import MenuItem, MenuSection

        from . import demo, panels, reports  # noqa: F401 (demo registers its step)
        from . import statement as member_statement
        from .setup import organisation_setup

        panels.register_all()
        reports.register_all()
        # Real invoices and payments on the members module's member statement.
        member_statement.register_all()

        if organisation_setup not in core_services.ORGANISATION_SETUP:
            core_services.ORGANISATION_SETUP.append(organisation_setup)
        navigation.register(
            MenuSection(
                key="finance",
                label=_("Finance"),
                icon="cash-coin",
                order=200,
                items=(
                    MenuItem(_("Invoices"), "finance:invoice_list", "finance.view_invoice"),
                    MenuItem(_("Dues invoicing"), "finance:dues_batch", "finance.add_invoice"),
                    MenuItem(
                        _("Payments received"), "finance:payment_list", "finance.view_payment"
                    ),
                    MenuItem(_("Supplier bills"), "finance:bill_list", "finance.view_bill"),
                    MenuItem(
                        _("Payments made"), "finance:billpayment_list", "finance.view_billpayment"
                    ),
                    MenuItem(
                        _("Journal entries"),
                        "finance:journalentry_list",
                        "finance.view_journalentry",
                    ),
                    MenuItem(
                        _("Chart of accounts"), "finance:account_list", "finance.view_account"
                    ),
                    MenuItem(_("Budgets"), "finance:budget_list", "finance.view_budget"),
                    MenuItem(
                        _("Fiscal years"), "finance:fiscalyear_list", "finance.view_fiscalyear"
                    ),
                    MenuItem(
                        _("Invoice series"),
                        "finance:invoiceseries_list",
                        "finance.view_invoiceseries",
                    ),
                    MenuItem(_("Settings"), "finance:settings", "finance.view_financesettings"),
                    MenuItem(_("Reports"), "finance:reports", "finance.view_journalentry"),
                ),
            )
        )
