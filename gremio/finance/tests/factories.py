"""Finance factories and helpers with fixed values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import factory

from gremio.core.models import Organisation
from gremio.core.tests.factories import OrganisationFactory
from gremio.finance import services
from gremio.finance.models import (
    Account,
    Bill,
    BillLine,
    Budget,
    FiscalYear,
    Invoice,
    InvoiceLine,
    InvoiceSeries,
    JournalEntry,
    Payment,
    Period,
)
from gremio.finance.posting import Line, finance_settings
from gremio.finance.setup import fiscal_years_ensure
from gremio.members.tests.factories import CompanyFactory


def books(
    organisation: Organisation | None = None,
    *,
    first: dt.date = dt.date(2025, 1, 1),
    last: dt.date = dt.date(2026, 12, 31),
) -> Organisation:
    """An organisation with its seeded chart and the fiscal years from ``first`` to ``last``."""
    organisation = organisation or OrganisationFactory.create()
    finance_settings(organisation)
    fiscal_years_ensure(organisation=organisation, first=first, last=last)
    return organisation


def account(organisation: Organisation, code: str) -> Account:
    return Account.objects.get(organisation=organisation, code=code)


def draft_invoice(
    organisation: Organisation,
    *,
    company: Any = None,
    date: dt.date = dt.date(2026, 3, 10),
    lines: tuple[tuple[str, str, str], ...] = (("Cuota anual", "1000.00", "16"),),
    pillar: Any = None,
) -> Invoice:
    """A draft invoice with ``(description, unit price, VAT rate)`` lines on the dues account."""
    company = company or CompanyFactory.create(organisation=organisation)
    invoice = Invoice(
        organisation=organisation,
        series=InvoiceSeries.objects.get(organisation=organisation, prefix="A"),
        company=company,
        date=date,
        currency=organisation.currency,
    )
    income = finance_settings(organisation).dues_income_account
    return services.invoice_save(
        invoice=invoice,
        lines=[
            InvoiceLine(
                description=text,
                account=income,
                unit_price=Decimal(price),
                vat_rate=rate,
                pillar=pillar,
            )
            for text, price, rate in lines
        ],
    )


def issued_invoice(organisation: Organisation, **kwargs: Any) -> Invoice:
    return services.invoice_issue(invoice=draft_invoice(organisation, **kwargs))


def posted_entry(
    organisation: Organisation, *, date: dt.date = dt.date(2026, 2, 1), amount: str = "100.00"
) -> JournalEntry:
    return services.entry_post(
        organisation=organisation,
        date=date,
        memo="Depósito",
        lines=[
            Line(account=account(organisation, "1102"), debit=Decimal(amount)),
            Line(account=account(organisation, "3101"), credit=Decimal(amount)),
        ],
    )


def draft_bill(
    organisation: Organisation,
    *,
    supplier: Any = None,
    date: dt.date = dt.date(2026, 3, 5),
    amount: str = "500.00",
    code: str = "5106",
    reference: str | None = None,
    pillar: Any = None,
) -> Bill:
    supplier = supplier or CompanyFactory.create(organisation=organisation)
    bill = Bill(
        organisation=organisation,
        supplier=supplier,
        supplier_reference=reference or f"F-{Bill.objects.count() + 1}",
        date=date,
        currency=organisation.currency,
    )
    return services.bill_save(
        bill=bill,
        lines=[
            BillLine(
                description="Papelería",
                account=account(organisation, code),
                amount=Decimal(amount),
                pillar=pillar,
            )
        ],
    )


# Factories the shared scoping tests build records with -------------------------------


class BooksOrganisationFactory(OrganisationFactory):
    @factory.post_generation
    def books(obj: Organisation, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            books(obj)


class AccountFactory(factory.django.DjangoModelFactory[Account]):
    class Meta:
        model = Account

    organisation = factory.SubFactory(OrganisationFactory)
    code = factory.Sequence(lambda n: f"9{n:03d}")
    name = factory.Sequence(lambda n: f"Cuenta {n}")
    type = "expense"


class FiscalYearFactory(factory.django.DjangoModelFactory[FiscalYear]):
    class Meta:
        model = FiscalYear

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: str(2000 + n))
    start = factory.Sequence(lambda n: dt.date(2000 + n, 1, 1))
    end = factory.Sequence(lambda n: dt.date(2000 + n, 12, 31))


def invoice_factory(**kwargs: Any) -> Invoice:
    organisation = kwargs.pop("organisation", None) or books()
    finance_settings(organisation)
    fiscal_years_ensure(
        organisation=organisation, first=dt.date(2026, 1, 1), last=dt.date(2026, 12, 31)
    )
    return draft_invoice(organisation, **kwargs)


def payment_factory(**kwargs: Any) -> Payment:
    organisation = kwargs.pop("organisation", None) or books()
    books(organisation, first=dt.date(2026, 1, 1))
    return services.payment_receive(
        organisation=organisation,
        company=CompanyFactory.create(organisation=organisation),
        date=dt.date(2026, 3, 1),
        amount=Decimal("250.00"),
    )


def bill_factory(**kwargs: Any) -> Bill:
    organisation = kwargs.pop("organisation", None) or books()
    books(organisation, first=dt.date(2026, 1, 1))
    return draft_bill(organisation)


def budget_factory(**kwargs: Any) -> Budget:
    organisation = kwargs.pop("organisation", None) or books()
    books(organisation, first=dt.date(2026, 1, 1))
    return Budget.objects.create(
        organisation=organisation,
        account=account(organisation, "5106"),
        period=organisation_period(organisation, dt.date(2026, 1, 1)),
        amount=Decimal("1000.00"),
    )


def organisation_period(organisation: Organisation, day: dt.date) -> Period:
    return Period.objects.get(organisation=organisation, start__lte=day, end__gte=day)
