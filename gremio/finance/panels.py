"""The finance module's panels: invoices and payments on the company 360 page, receivables
on the start page. Each asks a fixed number of questions, however many invoices there are.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, Sum
from django.utils import timezone

from gremio.core.money import round_money
from gremio.core.panels import Panel, register
from gremio.core.permissions import can

from .models import ZERO, Invoice, Payment

LATEST_INVOICES = 10
LATEST_PAYMENTS = 5

BALANCE = ExpressionWrapper(
    F("total") - F("amount_paid"), output_field=DecimalField(max_digits=16, decimal_places=2)
)
OPEN = Q(state=Invoice.State.ISSUED, is_credit_note=False)


def money(value: Decimal | None, currency: str) -> Decimal:
    return round_money(value or ZERO, currency)


def receivable_totals(invoices: Any, currency: str) -> dict[str, Any]:
    """What the invoices owe, what of it is overdue and how many are: one query."""
    overdue = OPEN & Q(due_date__lt=timezone.localdate())
    totals = invoices.aggregate(
        due=Sum(BALANCE, filter=OPEN),
        overdue=Sum(BALANCE, filter=overdue),
        overdue_count=Count("pk", filter=overdue),
    )
    return {
        "due": money(totals["due"], currency),
        "overdue": money(totals["overdue"], currency),
        "overdue_count": totals["overdue_count"],
    }


def company_panel(request: Any, company: Any) -> dict[str, Any]:
    organisation = request.organisation
    currency = organisation.currency
    invoices = Invoice.objects.filter(organisation=organisation, company=company)
    payments = Payment.objects.filter(organisation=organisation, company=company)
    credit = payments.filter(cancelled_on__isnull=True).aggregate(
        credit=Sum(
            ExpressionWrapper(
                F("amount") - F("allocated"),
                output_field=DecimalField(max_digits=16, decimal_places=2),
            )
        )
    )["credit"]
    return {
        **receivable_totals(invoices, currency),
        "credit": money(credit, currency),
        "currency": currency,
        "invoices": list(
            invoices.select_related("series").order_by("-date", "-pk")[:LATEST_INVOICES]
        ),
        "payments": list(payments.order_by("-date", "-pk")[:LATEST_PAYMENTS]),
        "today": timezone.localdate(),
        "may_invoice": can(request.user, "finance.add_invoice", organisation),
        "may_receive": can(request.user, "finance.add_payment", organisation),
    }


def receivables_panel(request: Any, obj: Any) -> dict[str, Any]:
    organisation = request.organisation
    invoices = Invoice.objects.filter(organisation=organisation, state=Invoice.State.ISSUED)
    return {**receivable_totals(invoices, organisation.currency), "currency": organisation.currency}


def register_all() -> None:
    """Register the panels; registering again replaces them (same keys)."""
    register(
        "members.company",
        Panel(
            "finance_invoices",
            "finance/panel_company_invoices.html",
            company_panel,
            "finance.view_invoice",
            order=27,  # after the member statement, before the services delivered
            wide=True,
        ),
    )
    register(
        "dashboard",
        Panel(
            "finance_receivables",
            "finance/panel_receivables.html",
            receivables_panel,
            "finance.change_invoice",
            order=30,
        ),
    )
