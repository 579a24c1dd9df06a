"""One filter set per model: the page's filter panel and the API's query parameters.

The report drill-downs link to these lists with their parameters
(``account``, ``date_from``, ``date_to``, ``pillar``, ``company``…), so the
names here are a contract with ``reports.py``.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gremio.core.filtersets import OrganisationFilterSet, YesNoSelect
from gremio.core.models import Pillar
from gremio.core.widgets import LookupSelect
from gremio.members.models import Chamber, Company, Membership, Sector

from .models import (
    Account,
    AccountType,
    Bill,
    BillPayment,
    Budget,
    EntryKind,
    FiscalYear,
    Invoice,
    InvoiceSeries,
    JournalEntry,
    JournalLine,
    Payment,
    Period,
)

DATE_INPUT = {"widget": django_filters.widgets.forms.DateInput(attrs={"type": "date"})}


def company_filter(field_name: str = "company", label: Any = None) -> Any:
    return django_filters.ModelChoiceFilter(
        queryset=Company.objects.all(),
        field_name=field_name,
        label=label or _("Company"),
        widget=LookupSelect(model_label="members.company"),
    )


def date_filters(field_name: str = "date") -> tuple[Any, Any]:
    return (
        django_filters.DateFilter(
            field_name=field_name, lookup_expr="gte", label=_("From"), **DATE_INPUT
        ),
        django_filters.DateFilter(
            field_name=field_name, lookup_expr="lte", label=_("To"), **DATE_INPUT
        ),
    )


def classification_filters() -> tuple[Any, Any]:
    """Chamber and SCIAN sector as the document keeps them (see ``classification``): what the
    payment-times report groups on, so the list a figure opens holds what it counts."""
    return (
        django_filters.ModelChoiceFilter(queryset=Chamber.objects.all(), label=_("Chamber")),
        # A document keeps the sector group: a top-level sector.
        django_filters.ModelChoiceFilter(
            queryset=Sector.objects.filter(parent__isnull=True), label=_("SCIAN sector")
        ),
    )


class AccountFilterSet(OrganisationFilterSet):
    search_fields = ("code", "name", "sat_code")
    type = django_filters.MultipleChoiceFilter(choices=AccountType.choices, label=_("Type"))
    postable = django_filters.BooleanFilter(label=_("Postable"), widget=YesNoSelect)

    class Meta:
        model = Account
        fields = ("type", "postable", "active", "parent")


class FiscalYearFilterSet(OrganisationFilterSet):
    search_fields = ("name",)

    class Meta:
        model = FiscalYear
        fields = ()


class PeriodFilterSet(OrganisationFilterSet):
    class Meta:
        model = Period
        fields = ("fiscal_year", "status")


class JournalEntryFilterSet(OrganisationFilterSet):
    search_fields = ("memo",)
    date_from, date_to = date_filters()
    company = company_filter()
    account = django_filters.ModelChoiceFilter(
        queryset=Account.objects.filter(postable=True),
        method="filter_account",
        label=_("Account"),
    )

    class Meta:
        model = JournalEntry
        fields = ("kind", "state", "fiscal_year", "period", "source", "company")

    def filter_account(self, queryset: QuerySet[Any], name: str, value: Account) -> QuerySet[Any]:
        return queryset.filter(lines__account=value).distinct()


class JournalLineFilterSet(OrganisationFilterSet):
    """The lines behind a report figure: an account (or a type), dates, pillar, company."""

    search_fields = ("description", "entry__memo")
    account = django_filters.ModelChoiceFilter(
        queryset=Account.objects.filter(postable=True), label=_("Account")
    )
    account_type = django_filters.ChoiceFilter(
        field_name="account__type", choices=AccountType.choices, label=_("Account type")
    )
    date_from, date_to = date_filters("date")
    # "null" chooses the lines without a pillar (budget against actual links to them).
    pillar = django_filters.ModelChoiceFilter(
        queryset=Pillar.objects.all(), label=_("Strategic pillar"), null_label=_("No pillar")
    )
    company = company_filter("entry__company")
    kind = django_filters.ChoiceFilter(
        field_name="entry__kind", choices=EntryKind.choices, label=_("Entry type")
    )

    class Meta:
        model = JournalLine
        fields = ("account", "period", "pillar")


class InvoiceSeriesFilterSet(OrganisationFilterSet):
    search_fields = ("prefix", "name")

    class Meta:
        model = InvoiceSeries
        fields = ("kind", "active")


class InvoiceFilterSet(OrganisationFilterSet):
    search_fields = ("company__legal_name", "company__trade_name", "notes")
    company = company_filter()
    state = django_filters.MultipleChoiceFilter(choices=Invoice.State.choices, label=_("State"))
    date_from, date_to = date_filters()
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label=_("Overdue"), widget=YesNoSelect
    )
    number = django_filters.NumberFilter(label=_("Number"))
    # The invoices a payment-times figure counts: settled between two days, by chamber or
    # sector as invoiced (the invoice's own, which the report groups on, not the company's now).
    closed_from = django_filters.DateFilter(
        field_name="closed_on", lookup_expr="gte", label=_("Settled from"), **DATE_INPUT
    )
    closed_to = django_filters.DateFilter(
        field_name="closed_on", lookup_expr="lte", label=_("Settled to"), **DATE_INPUT
    )
    chamber, sector = classification_filters()
    # A lookup: a select of every membership would render (and name) thousands.
    membership = django_filters.ModelChoiceFilter(
        queryset=Membership.objects.all(),
        label=_("Membership"),
        widget=LookupSelect(model_label="members.membership"),
    )

    class Meta:
        model = Invoice
        fields = ("series", "number", "company", "state", "is_credit_note", "membership")

    def filter_overdue(
        self, queryset: QuerySet[Any], name: str, value: bool | None
    ) -> QuerySet[Any]:
        if value is None:
            return queryset
        overdue = Q(state=Invoice.State.ISSUED, due_date__lt=timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class PaymentFilterSet(OrganisationFilterSet):
    search_fields = ("reference", "company__legal_name", "company__trade_name")
    company = company_filter()
    date_from, date_to = date_filters()
    chamber, sector = classification_filters()
    unallocated = django_filters.BooleanFilter(
        method="filter_unallocated", label=_("With unallocated credit"), widget=YesNoSelect
    )
    cancelled = django_filters.BooleanFilter(
        field_name="cancelled_on",
        lookup_expr="isnull",
        exclude=True,
        label=_("Cancelled"),
        widget=YesNoSelect,
    )

    class Meta:
        model = Payment
        fields = ("company", "method", "bank_account")

    def filter_unallocated(
        self, queryset: QuerySet[Any], name: str, value: bool | None
    ) -> QuerySet[Any]:
        from django.db.models import F

        if value is None:
            return queryset
        # A cancelled payment has no credit left.
        condition = Q(allocated__lt=F("amount"), cancelled_on__isnull=True)
        return queryset.filter(condition) if value else queryset.exclude(condition)


class BillFilterSet(OrganisationFilterSet):
    search_fields = ("supplier_reference", "supplier__legal_name", "supplier__trade_name")
    supplier = company_filter("supplier", _("Supplier"))
    state = django_filters.MultipleChoiceFilter(choices=Bill.State.choices, label=_("State"))
    date_from, date_to = date_filters()

    class Meta:
        model = Bill
        fields = ("supplier", "state")


class BillPaymentFilterSet(OrganisationFilterSet):
    search_fields = ("reference", "bill__supplier_reference")
    date_from, date_to = date_filters()
    bill = django_filters.ModelChoiceFilter(
        queryset=Bill.objects.all(),
        label=_("Supplier bill"),
        widget=LookupSelect(model_label="finance.bill"),
    )
    cancelled = django_filters.BooleanFilter(
        field_name="cancelled_on",
        lookup_expr="isnull",
        exclude=True,
        label=_("Cancelled"),
        widget=YesNoSelect,
    )

    class Meta:
        model = BillPayment
        fields = ("bill", "method", "bank_account")


class BudgetFilterSet(OrganisationFilterSet):
    search_fields = ("account__name", "account__code")
    pillar = django_filters.ModelChoiceFilter(
        queryset=Pillar.objects.all(), label=_("Strategic pillar")
    )

    class Meta:
        model = Budget
        fields = ("account", "period", "pillar")
