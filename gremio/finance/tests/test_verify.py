"""finance_verify: clean books pass, every kind of damage is found and named."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from gremio.core.models import Organisation
from gremio.finance import ledger_sql
from gremio.finance.models import (
    AccountBalance,
    Bill,
    Invoice,
    InvoiceSeries,
    JournalEntry,
    JournalLine,
    Payment,
    Sequence,
)

from .factories import account, books, issued_invoice, posted_entry
from .test_export_journal import sample_books

pytestmark = pytest.mark.django_db


def verify(org: Organisation) -> str:
    out = io.StringIO()
    call_command("finance_verify", "--org", org.slug, "--language", "en", stdout=out)
    return out.getvalue()


def refused(org: Organisation) -> str:
    """The report of books with problems; the command exits with 1."""
    out = io.StringIO()
    with pytest.raises(CommandError, match="The books have") as error:
        call_command("finance_verify", "--org", org.slug, "--language", "en", stdout=out)
    assert error.value.returncode == 1
    return out.getvalue()


def test_clean_books_pass_with_a_summary_of_what_was_checked():
    org = sample_books()
    report = verify(org)
    assert "The books are consistent." in report
    assert "Posted entries balance (11 posted entries): ok" in report
    assert "Invoice numbers are gapless (2 series): ok" in report
    assert "Entry numbers are gapless per fiscal year and type (4 series): ok" in report
    assert "Invoices' paid amounts equal their allocations (4 invoices): ok" in report
    assert "Paid invoices' days to pay follow their dates (" in report
    assert "The trial balance sums to zero (debits " in report
    assert "problems" not in report


def test_empty_books_pass():
    assert "The books are consistent." in verify(books())


def test_an_unknown_organisation_is_a_clear_error():
    with pytest.raises(CommandError, match="No organisation has the short name “nobody”") as error:
        call_command("finance_verify", "--org", "nobody")
    assert error.value.returncode == 1


def test_a_tampered_balance_is_named_with_what_the_lines_say():
    org = books()
    posted_entry(org, amount="100.00")
    AccountBalance.objects.filter(account=account(org, "1102")).update(debit=Decimal("110.00"))
    report = refused(org)
    assert (
        "Account 1102, period 2026-02: expected debit 100.00, credit 0.00 (from the lines); "
        "kept debit 110.00, credit 0.00." in report
    )
    assert "Debits and credits differ by 10.00." in report


def test_a_balance_row_without_lines_is_a_difference():
    org = books()
    posted_entry(org)
    balance = AccountBalance.objects.get(account=account(org, "3101"))
    balance.pk = None
    balance.period = balance.period.fiscal_year.periods.get(number=5)
    balance.save()
    assert "Account 3101, period 2026-05: expected debit 0.00, credit 0.00" in refused(org)


def test_an_unbalanced_posted_entry_is_named():
    org = books()
    entry = posted_entry(org, amount="100.00")
    # Only someone who drops the triggers can do this; the check still finds it.
    ledger_sql.drop_triggers(connection)
    try:
        JournalLine.objects.filter(entry=entry, debit__gt=0).update(debit=Decimal("150.00"))
    finally:
        ledger_sql.create_triggers(connection)
    report = refused(org)
    assert "Entry D-2026-000001: 2 lines, debits 150.00, credits 100.00, total 100.00." in report


def test_a_posted_entry_without_lines_is_named():
    org = books()
    entry = posted_entry(org)
    ledger_sql.drop_triggers(connection)
    try:
        JournalLine.objects.filter(entry=entry).delete()
    finally:
        ledger_sql.create_triggers(connection)
    report = refused(org)
    assert "Entry D-2026-000001 is posted without lines." in report


def test_a_gap_in_entry_numbers_is_named():
    org = books()
    first = posted_entry(org)
    Sequence.objects.filter(key=f"entry:{first.fiscal_year_id}:journal").update(
        next_number=F("next_number") + 1
    )
    posted_entry(org)
    report = refused(org)
    assert (
        "Fiscal year 2026, journal entries: 2 numbers from 1 to 3; missing 2; repeated 0." in report
    )


def test_a_gap_in_invoice_numbers_is_named():
    org = books()
    issued_invoice(org)
    series = InvoiceSeries.objects.get(organisation=org, prefix="A")
    Sequence.objects.filter(key=f"invoice:{series.pk}").update(next_number=F("next_number") + 5)
    issued_invoice(org)
    assert "Series A: 2 numbers from 1 to 7; missing 2, 3, 4, 5, 6; repeated 0." in refused(org)


def test_an_invoice_paid_amount_that_differs_from_its_allocations_is_named():
    org = books()
    invoice = issued_invoice(org)
    Invoice.objects.filter(pk=invoice.pk).update(amount_paid=Decimal("1160.00"))
    report = refused(org)
    assert "Invoice A-1: paid 1,160.00, allocations 0.00." in report
    assert "Invoice A-1 is issued with 1,160.00 of 1,160.00 paid." in report


def test_days_to_pay_that_differ_from_the_dates_are_named():
    from gremio.finance import services

    org = books()
    paid, unpaid, emptied = (issued_invoice(org) for _ in range(3))
    for invoice in (paid, emptied):
        services.payment_receive(
            organisation=org,
            company=invoice.company,
            date=dt.date(2026, 4, 9),
            amount=invoice.total,
            allocations=[(invoice, invoice.total)],
        )
    assert "Paid invoices' days to pay follow their dates (2 paid invoices): ok" in verify(org)
    Invoice.objects.filter(pk=paid.pk).update(days_to_pay=F("days_to_pay") + 1)
    Invoice.objects.filter(pk=unpaid.pk).update(days_to_pay=12)
    Invoice.objects.filter(pk=emptied.pk).update(days_to_pay=None)
    report = refused(org)
    assert "Paid invoices' days to pay follow their dates (2 paid invoices): 3 problems" in report
    # Dated 10 March, paid on 9 April: 30 days.
    assert "Invoice A-1: days to pay 31, from its dates 30." in report
    assert "Invoice A-2 is issued with 12 days to pay." in report
    assert "Invoice A-3: days to pay —, from its dates 30." in report


def test_a_payment_allocated_amount_that_differs_from_its_allocations_is_named():
    from gremio.finance import services
    from gremio.members.tests.factories import CompanyFactory

    org = books()
    payment = services.payment_receive(
        organisation=org,
        company=CompanyFactory.create(organisation=org, trade_name="Aceros"),
        date=dt.date(2026, 3, 1),
        amount=Decimal("500.00"),
    )
    Payment.objects.filter(pk=payment.pk).update(allocated=Decimal("200.00"))
    assert f"Payment {payment.pk} · Aceros: allocated 200.00, allocations 0.00." in refused(org)


def test_a_bill_paid_amount_that_differs_from_its_payments_is_named():
    from gremio.finance import services

    from .factories import draft_bill

    org = books()
    bill = services.bill_post(bill=draft_bill(org, reference="F-9"))
    Bill.objects.filter(pk=bill.pk).update(amount_paid=Decimal("80.00"))
    assert "· F-9: paid 80.00, payments 0.00." in refused(org)


def test_the_queries_do_not_grow_with_the_books():
    small = books()
    issued_invoice(small)
    large = sample_books()
    for _ in range(3):
        issued_invoice(large)
        posted_entry(large)
    with CaptureQueriesContext(connection) as few:
        verify(small)
    with CaptureQueriesContext(connection) as many:
        verify(large)
    assert len(many) == len(few)


def test_only_the_organisation_books_are_checked():
    org = books()
    other = books()
    posted_entry(other)
    AccountBalance.objects.filter(organisation=other).update(debit=Decimal("1.00"))
    assert "The books are consistent." in verify(org)
    assert JournalEntry.objects.filter(organisation=org).count() == 0
