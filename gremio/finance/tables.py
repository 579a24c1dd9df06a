"""Tables of the finance module."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from gremio.core.tables import OrganisationTable

from .models import (
    Account,
    Bill,
    BillPayment,
    Budget,
    FiscalYear,
    Invoice,
    InvoiceSeries,
    JournalEntry,
    JournalLine,
    Payment,
    Period,
)

# Documents: invoices, payments received, supplier bills ---------------------------------

STATE_BADGES = {
    "draft": "text-bg-secondary",
    "issued": "text-bg-primary",
    "posted": "text-bg-primary",
    "paid": "text-bg-success",
    "cancelled": "text-bg-dark",
}


def state_badge(state: str, label: Any) -> str:
    return format_html(
        '<span class="badge {}" data-state="{}">{}</span>',
        STATE_BADGES.get(state, "text-bg-light"),
        state,
        label,
    )


def is_overdue(document: Invoice | Bill) -> bool:
    open_state = "issued" if isinstance(document, Invoice) else "posted"
    return bool(
        document.state == open_state
        and document.due_date
        and document.due_date < timezone.localdate()
    )


class MoneyColumn(tables.Column):
    """An amount, right-aligned in the reader's number format; exported as a number."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "attrs", {"td": {"class": "text-end text-nowrap"}, "th": {"class": "text-end"}}
        )
        super().__init__(*args, **kwargs)

    def render(self, value: Decimal) -> str:
        return number_format(value, 2, force_grouping=True)

    def value(self, value: Decimal) -> Decimal:
        return value


class InvoiceSeriesTable(OrganisationTable):
    prefix = tables.Column(linkify=True)
    name = tables.Column(linkify=True)
    active = tables.BooleanColumn()

    class Meta:
        model = InvoiceSeries
        fields = ("prefix", "name", "kind", "active")


class InvoiceTable(OrganisationTable):
    reference = tables.Column(
        verbose_name=_("number"),
        empty_values=(),
        linkify=lambda record: record.get_absolute_url(),
        order_by=("series__prefix", "number"),
        attrs={"td": {"class": "text-nowrap"}},
    )
    company = tables.Column(linkify=True, order_by=("company__legal_name",))
    total = MoneyColumn()
    amount_paid = MoneyColumn()
    balance_due = MoneyColumn(verbose_name=_("balance due"), empty_values=(), orderable=False)
    state = tables.Column(attrs={"td": {"class": "text-nowrap"}})

    class Meta:
        model = Invoice
        fields = (
            "reference",
            "date",
            "due_date",
            "company",
            "total",
            "amount_paid",
            "balance_due",
            "state",
        )
        row_attrs = {"class": lambda record: "table-danger overdue" if is_overdue(record) else ""}

    def render_reference(self, record: Invoice) -> str:
        return str(record)

    def render_balance_due(self, record: Invoice) -> str:
        return number_format(record.balance_due, 2, force_grouping=True)

    def value_balance_due(self, record: Invoice) -> Decimal:
        return record.balance_due

    def render_state(self, record: Invoice) -> str:
        badge = state_badge(record.state, record.get_state_display())
        if is_overdue(record):
            return format_html(
                '{} <span class="badge text-bg-danger">{}</span>', badge, _("Overdue")
            )
        return badge

    def value_state(self, record: Invoice) -> str:
        return str(record.get_state_display())


class PaymentTable(OrganisationTable):
    date = tables.DateColumn(linkify=True)
    company = tables.Column(linkify=True, order_by=("company__legal_name",))
    amount = MoneyColumn()
    allocated = MoneyColumn()
    unallocated = MoneyColumn(verbose_name=_("unallocated"), empty_values=(), orderable=False)

    class Meta:
        model = Payment
        fields = (
            "date",
            "company",
            "amount",
            "allocated",
            "unallocated",
            "method",
            "reference",
            "cancelled_on",
        )

    def render_unallocated(self, record: Payment) -> str:
        return number_format(record.unallocated, 2, force_grouping=True)

    def value_unallocated(self, record: Payment) -> Decimal:
        return record.unallocated


class BillTable(OrganisationTable):
    supplier_reference = tables.Column(linkify=True)
    supplier = tables.Column(linkify=True, order_by=("supplier__legal_name",))
    total = MoneyColumn()
    amount_paid = MoneyColumn()
    balance_due = MoneyColumn(verbose_name=_("balance due"), empty_values=(), orderable=False)
    state = tables.Column()

    class Meta:
        model = Bill
        fields = (
            "supplier_reference",
            "supplier",
            "date",
            "due_date",
            "total",
            "amount_paid",
            "balance_due",
            "state",
        )
        row_attrs = {"class": lambda record: "table-danger overdue" if is_overdue(record) else ""}

    def render_balance_due(self, record: Bill) -> str:
        return number_format(record.balance_due, 2, force_grouping=True)

    def value_balance_due(self, record: Bill) -> Decimal:
        return record.balance_due

    def render_state(self, record: Bill) -> str:
        return state_badge(record.state, record.get_state_display())

    def value_state(self, record: Bill) -> str:
        return str(record.get_state_display())


class BillPaymentTable(OrganisationTable):
    date = tables.DateColumn(linkify=True)
    bill = tables.Column(linkify=True, order_by=("bill__supplier_reference",))
    amount = MoneyColumn()

    class Meta:
        model = BillPayment
        fields = ("date", "bill", "amount", "method", "bank_account", "reference", "cancelled_on")


# Ledger: accounts, fiscal years, periods, journal, budgets --------------------------------


class SideColumn(MoneyColumn):
    """A debit or a credit: blank on the side a line does not use."""

    def render(self, value: Decimal) -> str:
        return number_format(value, 2, force_grouping=True) if value else ""


def period_badge(period: Period) -> str:
    css = "text-bg-secondary" if period.is_closed else "text-bg-success"
    return format_html(
        '<span class="badge {}" data-status="{}">{}</span>',
        css,
        period.status,
        period.get_status_display(),
    )


class AccountTable(OrganisationTable):
    code = tables.Column(linkify=True)
    name = tables.Column(linkify=True)
    postable = tables.BooleanColumn()
    active = tables.BooleanColumn()

    class Meta:
        model = Account
        fields = ("code", "name", "type", "sat_code", "postable", "active")
        order_by = ("code",)


class FiscalYearTable(OrganisationTable):
    name = tables.Column(linkify=True)
    closed_periods = tables.Column(
        verbose_name=_("closed periods"), attrs={"td": {"class": "text-end"}}
    )

    class Meta:
        model = FiscalYear
        fields = ("name", "start", "end", "closed_periods")
        order_by = ("-start",)


class PeriodTable(OrganisationTable):
    name = tables.Column(
        verbose_name=_("period"),
        accessor="start",
        linkify=lambda record: record.get_absolute_url(),
    )
    status = tables.Column()

    class Meta:
        model = Period
        fields = (
            "name",
            "fiscal_year",
            "number",
            "start",
            "end",
            "status",
            "closed_by",
            "closed_at",
        )
        order_by = ("-name",)

    def render_name(self, record: Period) -> str:
        return str(record)

    def render_status(self, record: Period) -> str:
        return period_badge(record)

    def value_status(self, record: Period) -> str:
        return str(record.get_status_display())


def org_link(name: str, attribute: str = "pk") -> Any:
    """A cell's link inside the table's organisation, read from the table, not each row.

    The big ledger lists leave the organisation out of their query (see
    ``views_ledger.LedgerListView``), so a row's own ``get_absolute_url`` would
    cost a query.
    """

    def link(table: Any, record: Any) -> str:
        return reverse(
            name, kwargs={"org": table.organisation.slug, "pk": getattr(record, attribute)}
        )

    return link


class JournalEntryTable(OrganisationTable):
    reference = tables.Column(
        verbose_name=_("reference"),
        empty_values=(),
        linkify=org_link("finance:journalentry_detail"),
        order_by=("fiscal_year__start", "kind", "number"),
    )
    company = tables.Column(
        linkify=org_link("members:company_detail", "company_id"),
        order_by=("company__legal_name",),
    )
    total = MoneyColumn()
    state = tables.Column()

    class Meta:
        model = JournalEntry
        fields = ("reference", "date", "kind", "memo", "company", "total", "state")

    def render_reference(self, record: JournalEntry) -> str:
        return str(record)

    def render_state(self, record: JournalEntry) -> str:
        return state_badge(record.state, record.get_state_display())

    def value_state(self, record: JournalEntry) -> str:
        return str(record.get_state_display())


class JournalLineTable(OrganisationTable):
    """The lines behind a report figure. Not sortable: at millions of rows only the
    indexed order (posting order) answers at once."""

    entry = tables.Column(
        verbose_name=_("entry"), linkify=org_link("finance:journalentry_detail", "entry_id")
    )
    date = tables.DateColumn(verbose_name=_("date"))
    debit = SideColumn()
    credit = SideColumn()

    class Meta:
        model = JournalLine
        fields = ("entry", "date", "account", "description", "pillar", "debit", "credit")
        orderable = False


class BudgetTable(OrganisationTable):
    account = tables.Column(linkify=lambda record: record.get_absolute_url())
    amount = MoneyColumn()

    class Meta:
        model = Budget
        fields = ("account", "period", "pillar", "amount")
        order_by = ("-period", "account")
