"""The document services: invoices, credit notes, payments and their allocation, bills."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from gremio.core.tests.factories import PillarFactory
from gremio.finance import services
from gremio.finance.models import (
    Invoice,
    InvoiceLine,
    InvoiceSeries,
    JournalEntry,
    Period,
)
from gremio.finance.posting import finance_settings
from gremio.finance.verify import ledger_differences
from gremio.members.tests.factories import CompanyFactory

from .checks import balance, refused
from .factories import account, books, draft_bill, draft_invoice, issued_invoice

pytestmark = pytest.mark.django_db


def posted(entry: JournalEntry | None) -> JournalEntry:
    assert entry is not None and entry.is_posted
    return entry


def entry_lines(entry: JournalEntry | None) -> list[tuple[str, Decimal, Decimal, Any]]:
    entry = posted(entry)
    return sorted(
        (line.account.code, line.debit, line.credit, line.pillar_id)
        for line in entry.lines.select_related("account")
    )


# Invoices ---------------------------------------------------------------------------------


def test_issuing_numbers_invoices_gapless_per_series():
    org = books()
    first, second = issued_invoice(org), issued_invoice(org)
    assert (first.reference, second.reference) == ("A-1", "A-2")
    other_series = InvoiceSeries.objects.create(organisation=org, prefix="B", name="Eventos")
    third = draft_invoice(org)
    third.series = other_series
    third.save()
    assert services.invoice_issue(invoice=third).reference == "B-1"
    assert issued_invoice(org).reference == "A-3"
    assert ledger_differences(org) == []


def test_a_refused_issue_gives_its_number_back():
    org = books()
    services.period_close(period=Period.objects.get(organisation=org, start=dt.date(2026, 3, 1)))
    draft = draft_invoice(org, date=dt.date(2026, 3, 10))
    refused(org, "is closed", services.invoice_issue, invoice=draft)
    draft.refresh_from_db()
    assert (draft.state, draft.number, draft.entry_id) == ("draft", None, None)
    assert issued_invoice(org, date=dt.date(2026, 4, 2)).reference == "A-1"


def test_totals_and_posting_with_each_vat_rate_and_pillar():
    org = books()
    social, local = PillarFactory.create(organisation=org), PillarFactory.create(organisation=org)
    settings = finance_settings(org)
    invoice = Invoice(
        organisation=org,
        series=InvoiceSeries.objects.get(organisation=org, prefix="A"),
        company=CompanyFactory.create(organisation=org),
        date=dt.date(2026, 3, 10),
        currency="MXN",
    )
    dues, other = settings.dues_income_account, account(org, "4102")
    services.invoice_save(
        invoice=invoice,
        lines=[
            InvoiceLine(
                description="Cuota", account=dues, unit_price=Decimal("1000"), pillar=social
            ),
            InvoiceLine(
                description="Curso",
                account=other,
                quantity=Decimal("3"),
                unit_price=Decimal("33.33"),
                vat_rate="16",
                pillar=social,
            ),
            InvoiceLine(
                description="Exportación", account=other, unit_price=Decimal("200"), vat_rate="0"
            ),
            InvoiceLine(
                description="Donativo",
                account=dues,
                unit_price=Decimal("150"),
                vat_rate="exempt",
                pillar=local,
            ),
        ],
    )
    issued = services.invoice_issue(invoice=invoice)
    # 3 × 33.33 = 99.99, its VAT 16.00 (15.9984 rounded half-up per line).
    assert issued.subtotal == Decimal("1449.99")
    assert issued.vat == Decimal("176.00")
    assert issued.total == Decimal("1625.99")
    assert issued.state == "issued"
    assert issued.due_date == dt.date(2026, 4, 9)  # 30 days of terms
    assert posted(issued.entry).memo.startswith("Invoice A-1 · ")
    assert entry_lines(issued.entry) == sorted(
        [
            ("1105", Decimal("1625.99"), Decimal(0), None),
            ("4101", Decimal(0), Decimal("1000.00"), social.pk),
            ("4101", Decimal(0), Decimal("150.00"), local.pk),
            ("4102", Decimal(0), Decimal("99.99"), social.pk),
            ("4102", Decimal(0), Decimal("200.00"), None),
            ("2108", Decimal(0), Decimal("176.00"), None),
        ]
    )
    assert ledger_differences(org) == []


def test_an_explicit_due_date_and_the_terms_setting_are_kept():
    org = books()
    settings = finance_settings(org)
    settings.payment_terms_days = 15
    settings.save()
    assert issued_invoice(org, date=dt.date(2026, 3, 10)).due_date == dt.date(2026, 3, 25)
    draft = draft_invoice(org)
    draft.due_date = dt.date(2026, 6, 1)
    draft.save()
    assert services.invoice_issue(invoice=draft).due_date == dt.date(2026, 6, 1)


def test_an_issued_invoice_is_not_issued_or_edited_again():
    org = books()
    invoice = issued_invoice(org)
    refused(org, "Only a draft invoice can be issued", services.invoice_issue, invoice=invoice)
    refused(
        org,
        "Only a draft invoice can be changed",
        services.invoice_save,
        invoice=invoice,
        lines=[],
    )


def test_cancelling_issues_a_credit_note_that_reverses_the_entry():
    org = books()
    invoice = issued_invoice(org, date=dt.date(2026, 3, 10))
    credit_note = services.invoice_cancel(invoice=invoice, date=dt.date(2026, 3, 20))
    invoice.refresh_from_db()
    assert credit_note.reference == "NC-1"
    assert credit_note.is_credit_note and credit_note.credit_note_for == invoice
    assert credit_note.total == invoice.total == Decimal("1160.00")
    assert credit_note.lines.count() == 1
    assert posted(credit_note.entry).source == "credit_note"
    assert posted(credit_note.entry).date == dt.date(2026, 3, 20)
    assert posted(credit_note.entry).memo == "Credit note NC-1 cancels A-1"
    assert entry_lines(credit_note.entry) == sorted(
        (code, credit, debit, pillar) for code, debit, credit, pillar in entry_lines(invoice.entry)
    )
    assert (invoice.state, invoice.cancelled_on, invoice.closed_on) == (
        "cancelled",
        dt.date(2026, 3, 20),
        dt.date(2026, 3, 20),
    )
    assert balance(org, "1105") == 0
    assert balance(org, "4101") == 0
    refused(org, "Only an issued invoice", services.invoice_cancel, invoice=invoice)
    assert ledger_differences(org) == []


def test_a_paid_invoice_cannot_be_cancelled():
    org = books()
    invoice = issued_invoice(org)
    services.payment_receive(
        organisation=org,
        company=invoice.company,
        date=dt.date(2026, 3, 15),
        amount=Decimal("100.00"),
        allocations=[(invoice, Decimal("100.00"))],
    )
    refused(
        org,
        "100.00 of this invoice is paid",
        services.invoice_cancel,
        invoice=invoice,
        date=dt.date(2026, 3, 20),
    )


def test_a_credit_note_cannot_predate_its_invoice():
    org = books()
    invoice = issued_invoice(org, date=dt.date(2026, 3, 10))
    refused(
        org, "cannot predate", services.invoice_cancel, invoice=invoice, date=dt.date(2026, 3, 1)
    )


# Payments received -------------------------------------------------------------------------


def test_a_partial_payment_leaves_the_invoice_open():
    org = books()
    invoice = issued_invoice(org)
    payment = services.payment_receive(
        organisation=org,
        company=invoice.company,
        date=dt.date(2026, 3, 15),
        amount=Decimal("400.00"),
        allocations=[(invoice, Decimal("400.00"))],
    )
    invoice.refresh_from_db()
    assert (invoice.state, invoice.amount_paid, invoice.balance_due) == (
        "issued",
        Decimal("400.00"),
        Decimal("760.00"),
    )
    assert invoice.closed_on is None
    assert payment.allocated == Decimal("400.00") and payment.unallocated == 0
    assert (
        posted(payment.entry).kind == "income"
        and posted(payment.entry).reference == "I-2026-000001"
    )
    assert entry_lines(payment.entry) == [
        ("1102", Decimal("400.00"), Decimal(0), None),
        ("1105", Decimal(0), Decimal("400.00"), None),
    ]
    assert balance(org, "1105") == Decimal("760.00")
    assert ledger_differences(org) == []


def test_paying_in_full_closes_the_invoice_on_the_payment_date():
    org = books()
    invoice = issued_invoice(org)
    services.payment_receive(
        organisation=org,
        company=invoice.company,
        date=dt.date(2026, 3, 15),
        amount=Decimal("500.00"),
        allocations=[(invoice, Decimal("500.00"))],
    )
    services.payment_receive(
        organisation=org,
        company=invoice.company,
        date=dt.date(2026, 4, 2),
        amount=Decimal("660.00"),
        allocations=[(invoice, Decimal("660.00"))],
    )
    invoice.refresh_from_db()
    assert (invoice.state, invoice.amount_paid, invoice.closed_on) == (
        "paid",
        Decimal("1160.00"),
        dt.date(2026, 4, 2),
    )
    assert invoice.allocations.count() == 2
    assert balance(org, "1105") == 0
    assert ledger_differences(org) == []


def test_what_is_not_allocated_goes_to_customer_advances():
    org = books()
    invoice = issued_invoice(org)
    payment = services.payment_receive(
        organisation=org,
        company=invoice.company,
        date=dt.date(2026, 3, 15),
        amount=Decimal("1500.00"),
        allocations=[(invoice, Decimal("1160.00"))],
        reference="SPEI 123",
    )
    assert payment.unallocated == Decimal("340.00")
    assert posted(payment.entry).memo.endswith(" · SPEI 123")
    assert entry_lines(payment.entry) == [
        ("1102", Decimal("1500.00"), Decimal(0), None),
        ("1105", Decimal(0), Decimal("1160.00"), None),
        ("2106", Decimal(0), Decimal("340.00"), None),
    ]
    assert balance(org, "2106") == Decimal("-340.00")
    assert ledger_differences(org) == []


def test_allocating_more_than_an_invoice_owes_is_refused_and_writes_nothing():
    org = books()
    invoice = issued_invoice(org)
    error = refused(
        org,
        "Invoice A-1 owes 1,160.00; 1,200.00 cannot be allocated to it.",
        services.payment_receive,
        organisation=org,
        company=invoice.company,
        date=dt.date(2026, 3, 15),
        amount=Decimal("1500.00"),
        allocations=[(invoice, Decimal("700.00")), (invoice, Decimal("500.00"))],
    )
    assert "amount" in error.message_dict


def test_allocating_more_than_was_received_is_refused():
    org = books()
    invoice = issued_invoice(org)
    refused(
        org,
        "1,000.00 is allocated but only 500.00 was received",
        services.payment_receive,
        organisation=org,
        company=invoice.company,
        date=dt.date(2026, 3, 15),
        amount=Decimal("500.00"),
        allocations=[(invoice, Decimal("1000.00"))],
    )


def test_a_cancelled_invoice_cannot_be_paid():
    org = books()
    invoice = issued_invoice(org)
    services.invoice_cancel(invoice=invoice, date=dt.date(2026, 3, 20))
    refused(
        org,
        "Invoice A-1 is cancelled",
        services.payment_receive,
        organisation=org,
        company=invoice.company,
        date=dt.date(2026, 3, 25),
        amount=Decimal("100.00"),
        allocations=[(invoice, Decimal("100.00"))],
    )


def test_another_company_invoice_cannot_be_paid():
    org = books()
    invoice = issued_invoice(org)
    refused(
        org,
        "Invoice A-1 is another company's",
        services.payment_receive,
        organisation=org,
        company=CompanyFactory.create(organisation=org),
        date=dt.date(2026, 3, 25),
        amount=Decimal("100.00"),
        allocations=[(invoice, Decimal("100.00"))],
    )


def test_another_organisation_invoice_and_company_are_unknown():
    org, other = books(), books()
    foreign = issued_invoice(other)
    refused(
        org,
        "Unknown invoice",
        services.payment_receive,
        organisation=org,
        company=CompanyFactory.create(organisation=org),
        date=dt.date(2026, 3, 25),
        amount=Decimal("100.00"),
        allocations=[(foreign, Decimal("100.00"))],
    )
    refused(
        org,
        "Unknown company",
        services.payment_receive,
        organisation=org,
        company=foreign.company,
        date=dt.date(2026, 3, 25),
        amount=Decimal("100.00"),
    )


def test_a_draft_invoice_cannot_be_paid_and_amounts_must_be_positive():
    org = books()
    draft = draft_invoice(org)
    refused(
        org,
        "is not open for payment",
        services.payment_receive,
        organisation=org,
        company=draft.company,
        date=dt.date(2026, 3, 25),
        amount=Decimal("100.00"),
        allocations=[(draft, Decimal("100.00"))],
    )
    refused(
        org,
        "The amount must be above zero",
        services.payment_receive,
        organisation=org,
        company=draft.company,
        date=dt.date(2026, 3, 25),
        amount=Decimal("0.004"),
    )


def test_a_payment_in_another_currency_is_refused():
    org = books()
    invoice = issued_invoice(org)
    error = refused(
        org,
        "USD is not accepted",
        services.payment_receive,
        organisation=org,
        company=invoice.company,
        date=dt.date(2026, 3, 25),
        amount=Decimal("100.00"),
        currency="USD",
    )
    assert "currency" in error.message_dict


def test_a_payment_into_a_closed_period_is_refused():
    org = books()
    invoice = issued_invoice(org)
    services.period_close(period=Period.objects.get(organisation=org, start=dt.date(2026, 4, 1)))
    refused(
        org,
        "is closed",
        services.payment_receive,
        organisation=org,
        company=invoice.company,
        date=dt.date(2026, 4, 10),
        amount=Decimal("100.00"),
        allocations=[(invoice, Decimal("100.00"))],
    )


def test_a_credit_is_applied_to_a_later_invoice():
    org = books()
    company = CompanyFactory.create(organisation=org)
    payment = services.payment_receive(
        organisation=org, company=company, date=dt.date(2026, 2, 1), amount=Decimal("2000.00")
    )
    invoice = issued_invoice(org, company=company, date=dt.date(2026, 3, 10))
    allocation = services.payment_allocate(
        payment=payment, invoice=invoice, amount=Decimal("1160.00"), date=dt.date(2026, 3, 11)
    )
    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert payment.allocated == Decimal("1160.00") and payment.unallocated == Decimal("840.00")
    assert (invoice.state, invoice.closed_on) == ("paid", dt.date(2026, 3, 11))
    assert posted(allocation.entry).source == "allocation"
    assert entry_lines(allocation.entry) == [
        ("1105", Decimal(0), Decimal("1160.00"), None),
        ("2106", Decimal("1160.00"), Decimal(0), None),
    ]
    assert balance(org, "2106") == Decimal("-840.00")
    assert balance(org, "1105") == 0
    assert ledger_differences(org) == []


def test_more_than_the_credit_cannot_be_applied():
    org = books()
    company = CompanyFactory.create(organisation=org)
    payment = services.payment_receive(
        organisation=org, company=company, date=dt.date(2026, 2, 1), amount=Decimal("300.00")
    )
    invoice = issued_invoice(org, company=company)
    refused(
        org,
        "Only 300.00 of this payment is unallocated",
        services.payment_allocate,
        payment=payment,
        invoice=invoice,
        amount=Decimal("300.01"),
        date=dt.date(2026, 3, 11),
    )
    refused(
        org,
        "another company's",
        services.payment_allocate,
        payment=payment,
        invoice=issued_invoice(org),
        amount=Decimal("100.00"),
        date=dt.date(2026, 3, 11),
    )


# Supplier bills --------------------------------------------------------------------------------


def test_posting_a_bill_charges_expenses_by_pillar_and_creditable_vat():
    org = books()
    pillar = PillarFactory.create(organisation=org)
    bill = services.bill_post(bill=draft_bill(org, amount="500.00", pillar=pillar))
    assert (bill.state, bill.subtotal, bill.vat, bill.total) == (
        "posted",
        Decimal("500.00"),
        Decimal("80.00"),
        Decimal("580.00"),
    )
    assert bill.due_date == bill.date + dt.timedelta(days=30)
    assert entry_lines(bill.entry) == [
        ("1118", Decimal("80.00"), Decimal(0), None),
        ("2101", Decimal(0), Decimal("580.00"), None),
        ("5106", Decimal("500.00"), Decimal(0), pillar.pk),
    ]
    refused(org, "Only a draft bill can be posted", services.bill_post, bill=bill)
    assert ledger_differences(org) == []


def test_paying_a_bill_in_parts_then_in_full():
    org = books()
    bill = services.bill_post(bill=draft_bill(org, amount="500.00"))
    services.bill_pay(bill=bill, date=dt.date(2026, 3, 10), amount=Decimal("80.00"))
    refused(
        org,
        "The bill owes 500.00; 500.01 is too much",
        services.bill_pay,
        bill=bill,
        date=dt.date(2026, 3, 11),
        amount=Decimal("500.01"),
    )
    payment = services.bill_pay(bill=bill, date=dt.date(2026, 3, 12), amount=Decimal("500.00"))
    bill.refresh_from_db()
    assert (bill.state, bill.amount_paid, bill.closed_on) == (
        "paid",
        Decimal("580.00"),
        dt.date(2026, 3, 12),
    )
    assert posted(payment.entry).kind == "expense"
    assert entry_lines(payment.entry) == [
        ("1102", Decimal(0), Decimal("500.00"), None),
        ("2101", Decimal("500.00"), Decimal(0), None),
    ]
    assert balance(org, "2101") == 0
    refused(
        org,
        "Only a posted bill can be paid",
        services.bill_pay,
        bill=bill,
        date=dt.date(2026, 3, 13),
        amount=Decimal("1.00"),
    )
    assert ledger_differences(org) == []


def test_a_bill_payment_cannot_predate_the_bill():
    org = books()
    bill = services.bill_post(bill=draft_bill(org, date=dt.date(2026, 3, 5)))
    refused(
        org,
        "cannot predate its bill",
        services.bill_pay,
        bill=bill,
        date=dt.date(2026, 3, 1),
        amount=Decimal("10.00"),
    )


def test_cancelling_a_bill_reverses_it_and_it_cannot_be_paid():
    org = books()
    bill = services.bill_post(bill=draft_bill(org, amount="500.00"))
    services.bill_cancel(bill=bill, date=dt.date(2026, 3, 20))
    bill.refresh_from_db()
    assert (bill.state, bill.closed_on) == ("cancelled", dt.date(2026, 3, 20))
    assert balance(org, "2101") == 0 and balance(org, "5106") == 0
    reversal = JournalEntry.objects.get(organisation=org, source="bill_cancel")
    assert reversal.reverses == bill.entry
    refused(
        org,
        "This bill is cancelled",
        services.bill_pay,
        bill=bill,
        date=dt.date(2026, 3, 21),
        amount=Decimal("10.00"),
    )
    refused(org, "Only a posted bill can be cancelled", services.bill_cancel, bill=bill)
    assert ledger_differences(org) == []


def test_a_bill_with_payments_cannot_be_cancelled():
    org = books()
    bill = services.bill_post(bill=draft_bill(org))
    services.bill_pay(bill=bill, date=dt.date(2026, 3, 10), amount=Decimal("10.00"))
    refused(
        org,
        "A bill with payments cannot be cancelled",
        services.bill_cancel,
        bill=bill,
        date=dt.date(2026, 3, 20),
    )


def test_a_document_entry_is_not_reversed_by_hand():
    org = books()
    invoice = issued_invoice(org)
    refused(org, "cancel the document instead", services.entry_reverse, entry=invoice.entry)
