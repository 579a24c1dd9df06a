"""The finance module's part of the member statement: what a company was billed and paid.

Registered as a statement source in ``FinanceConfig.ready()`` (see
``gremio/members/statement.py``), so the members report shows real invoices
and payments without the members app importing finance. Three queries
whatever the number of invoices: the invoices (with their series, membership,
plan and credit note), their lines, and the payments.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Prefetch
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from gremio.members.statement import (
    ZERO,
    StatementPart,
    StatementSource,
    StatementTotals,
    register_statement_source,
)

from .models import Invoice, InvoiceLine, Payment, PaymentMethod

#: Line descriptions shown as an invoice's concept; the rest is on the invoice.
CONCEPT_LINES = 3


def _short(day: dt.date) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")


def _concept(invoice: Invoice) -> str:
    """A dues invoice says which membership and interval it bills; others, their lines."""
    membership = invoice.membership
    if membership is not None:
        return _("Membership dues {plan}, {start} to {end}").format(
            plan=membership.plan.name,
            start=_short(invoice.billed_from or membership.start),
            end=_short(invoice.billed_to or membership.end),
        )
    descriptions = [line.description for line in invoice.lines.all()]
    concept = "; ".join(descriptions[:CONCEPT_LINES])
    return f"{concept}; …" if len(descriptions) > CONCEPT_LINES else concept


def company_statement(
    *, organisation: Any, company: Any, start: dt.date, end: dt.date
) -> StatementPart:
    """The company's issued invoices dated in the period, then its payments received in it.

    Each invoice shows its total, what is paid of it and what it still owes
    today. A cancelled invoice is shown as cancelled, followed by the credit
    note that cancelled it (whatever the credit note's date) with the same
    amount negative: the pair nets to nothing and neither counts in the totals.
    Credit notes are not listed on their own; cancelled payments not at all.
    """
    invoices = (
        Invoice.objects.filter(
            organisation=organisation,
            company=company,
            is_credit_note=False,
            date__gte=start,
            date__lte=end,
        )
        .exclude(state=Invoice.State.DRAFT)
        .select_related("series", "membership__plan", "credit_note__series")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=InvoiceLine.objects.only("invoice_id", "description").order_by("pk"),
            )
        )
        .order_by("date", "pk")
    )
    # A cancelled payment (a bounced cheque, a transfer recorded twice) was never received.
    payments = Payment.objects.filter(
        organisation=organisation,
        company=company,
        date__gte=start,
        date__lte=end,
        cancelled_on__isnull=True,
    ).order_by("date", "pk")
    rows: list[dict[str, Any]] = []
    invoiced = paid = balance = received = ZERO
    for invoice in invoices:
        dues = invoice.membership_id is not None
        row: dict[str, Any] = {
            "date": invoice.date,
            "kind": _("Dues invoice") if dues else _("Invoice"),
            "reference": invoice.reference,
            "concept": _concept(invoice),
            "invoiced": invoice.total,
            "invoice_id": invoice.pk,
            "membership_id": invoice.membership_id,
            "due_date": invoice.due_date,
        }
        if invoice.state != Invoice.State.CANCELLED:
            row.update(
                paid=invoice.amount_paid,
                balance=invoice.balance_due,
                state=str(Invoice.State(invoice.state).label),
            )
            invoiced += invoice.total
            paid += invoice.amount_paid
            balance += invoice.balance_due
            rows.append(row)
            continue
        credit_note: Invoice | None = getattr(invoice, "credit_note", None)
        if credit_note is None:  # cancelled without a credit note: not counted, amount hidden
            rows.append({**row, "invoiced": None, "state": str(Invoice.State.CANCELLED.label)})
            continue
        row.update(
            state=_("Cancelled by credit note {reference}").format(reference=credit_note.reference),
            credit_note_id=credit_note.pk,
        )
        rows.append(row)
        rows.append(
            {
                "date": credit_note.date,
                "kind": _("Credit note"),
                "reference": credit_note.reference,
                "concept": _("Cancels invoice {reference}").format(reference=invoice.reference),
                "invoiced": -credit_note.total,
                "invoice_id": credit_note.pk,
                "cancels_invoice_id": invoice.pk,
            }
        )
    for payment in payments:
        received += payment.amount
        rows.append(
            {
                "date": payment.date,
                "kind": _("Payment"),
                "reference": payment.reference,
                "concept": str(PaymentMethod(payment.method).label),
                "received": payment.amount,
                "payment_id": payment.pk,
            }
        )
    return StatementPart(
        rows=rows,
        totals=StatementTotals(
            invoiced=invoiced, invoices_paid=paid, balance=balance, received=received
        ),
    )


def statement_links(organisation: Any, row: dict[str, Any]) -> dict[str, str]:
    """An invoice or credit note opens its page, a payment its page; a cancelled invoice's
    state opens the credit note that cancelled it."""
    slug = organisation.slug
    links: dict[str, str] = {}
    if "payment_id" in row:
        url = reverse("finance:payment_detail", kwargs={"org": slug, "pk": row["payment_id"]})
        links = {"reference": url, "concept": url}
    elif "invoice_id" in row:
        url = reverse("finance:invoice_detail", kwargs={"org": slug, "pk": row["invoice_id"]})
        links = {"reference": url, "concept": url}
        if row.get("credit_note_id"):
            links["state"] = reverse(
                "finance:invoice_detail", kwargs={"org": slug, "pk": row["credit_note_id"]}
            )
    return links


def register_all() -> None:
    """Register the finance source of the member statement (again: replaces it)."""
    register_statement_source(
        StatementSource(key="finance", lines=company_statement, links=statement_links)
    )
