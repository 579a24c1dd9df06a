"""Cancelling a payment received or made: reversal entries, reopened documents, history.

A cancelled payment keeps its allocations (each cancelled on the day), posts
the reversal of its entry and of the entries of credit applied later, and
gives the invoices it paid their balance back; the receivables as of any day
before the cancellation still show them paid. Refusals write nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse

from gremio.core import services as core_services
from gremio.core.models import ObjectChange, Organisation
from gremio.core.roles import Role
from gremio.core.tests.factories import OrganisationFactory, member_of
from gremio.finance import reports, selectors, services
from gremio.finance.models import (
    ZERO,
    Bill,
    BillPayment,
    Invoice,
    JournalEntry,
    Payment,
    Period,
)
from gremio.finance.posting import finance_settings
from gremio.finance.verify import books_check
from gremio.members.tests.factories import CompanyFactory

from .checks import balance, refused, world
from .factories import books, draft_bill, issued_invoice
from .test_concurrency import run_together

pytestmark = pytest.mark.django_db

D = Decimal
MARCH_15 = dt.date(2026, 3, 15)
APRIL_10 = dt.date(2026, 4, 10)


# Helpers ------------------------------------------------------------------------------------


def lines(entry: JournalEntry | None) -> list[tuple[str, Decimal, Decimal]]:
    assert entry is not None and entry.is_posted
    return sorted((line.account.code, line.debit, line.credit) for line in entry.lines.all())


def problems(org: Organisation) -> list[str]:
    return [problem for check in books_check(org) for problem in check.problems]


def ageing(org: Organisation, day: dt.date) -> tuple[Decimal, int, Decimal]:
    """The ageing's total and invoice count as of ``day``, and the receivables account then."""
    _rows, overall = selectors.receivables_by_company(organisation=org, as_of=day)
    control = selectors.account_balance_as_of(
        organisation=org,
        account_id=finance_settings(org).receivable_account_id,
        day=day,
        ledger=selectors.Ledger(organisation=org),
    )
    return overall["total"], overall["invoices"], control


def paid_two_invoices(org: Organisation) -> tuple[Payment, Invoice, Invoice]:
    """A payment of 2,000.00 on 15 March: invoice A (1,160.00) in full, 500.00 of invoice B."""
    company = CompanyFactory.create(organisation=org)
    first = issued_invoice(org, company=company)
    second = issued_invoice(org, company=company)
    payment = services.payment_receive(
        organisation=org,
        company=company,
        date=MARCH_15,
        amount=D("2000.00"),
        allocations=[(first, D("1160.00")), (second, D("500.00"))],
    )
    first.refresh_from_db()
    assert first.state == Invoice.State.PAID and first.closed_on == MARCH_15
    return payment, first, second


# Payments received --------------------------------------------------------------------------


def test_cancelling_reverses_the_payment_and_reopens_what_it_paid():
    org = books()
    payment, first, second = paid_two_invoices(org)
    cancelled = services.payment_cancel(payment=payment, date=APRIL_10, reason="Cheque devuelto")

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, first.amount_paid, first.closed_on, first.payment_cancelled_on) == (
        Invoice.State.ISSUED,
        ZERO,
        None,
        APRIL_10,
    )
    assert (second.state, second.amount_paid) == (Invoice.State.ISSUED, ZERO)
    assert (cancelled.allocated, cancelled.unallocated, cancelled.cancelled_on) == (
        ZERO,
        ZERO,
        APRIL_10,
    )
    assert cancelled.cancellation_reason == "Cheque devuelto"
    # The allocations stay as history, cancelled on the day.
    assert sorted(payment.allocations.values_list("amount", "cancelled_on")) == [
        (D("500.00"), APRIL_10),
        (D("1160.00"), APRIL_10),
    ]
    reversal = cancelled.cancellation_entry
    assert reversal is not None and reversal.reverses_id == payment.entry_id
    assert (reversal.date, reversal.kind, reversal.source) == (APRIL_10, "income", "payment_cancel")
    assert "Cheque devuelto" in reversal.memo
    assert lines(reversal) == [
        ("1102", ZERO, D("2000.00")),
        ("1105", D("1660.00"), ZERO),
        ("2106", D("340.00"), ZERO),
    ]
    # The payment's entry is untouched, and nothing else was posted.
    assert lines(payment.entry) == [
        ("1102", D("2000.00"), ZERO),
        ("1105", ZERO, D("1660.00")),
        ("2106", ZERO, D("340.00")),
    ]
    assert JournalEntry.objects.filter(organisation=org, source="payment_cancel").count() == 1
    assert balance(org, "1105") == D("2320.00")
    assert balance(org, "1102") == balance(org, "2106") == ZERO
    assert problems(org) == []


def test_the_receivables_of_any_day_agree_with_the_account():
    org = books()
    payment, first, _second = paid_two_invoices(org)
    services.payment_cancel(payment=payment, date=APRIL_10)
    # Before the payment both were owed; between payment and cancellation, only 660.00
    # of the second (the first, paid in full then, is no row); from the cancellation on,
    # both again.
    assert ageing(org, dt.date(2026, 3, 14)) == (D("2320.00"), 2, D("2320.00"))
    assert ageing(org, MARCH_15) == (D("660.00"), 1, D("660.00"))
    assert ageing(org, dt.date(2026, 4, 9)) == (D("660.00"), 1, D("660.00"))
    assert ageing(org, APRIL_10) == (D("2320.00"), 2, D("2320.00"))
    assert ageing(org, dt.date.today()) == (D("2320.00"), 2, D("2320.00"))
    # The report says the same, with no difference from the account.
    for day in (dt.date(2026, 3, 31), dt.date(2026, 4, 30)):
        data = reports.receivables_ageing(organisation=org, start=day.replace(day=1), end=day)
        figures = {figure.key: figure.value for figure in data.summary}
        assert figures["difference"] == ZERO, day
    # Paying again after the cancellation closes the invoice on the new day.
    services.payment_receive(
        organisation=org,
        company=first.company,
        date=dt.date(2026, 4, 20),
        amount=D("1160.00"),
        allocations=[(first, D("1160.00"))],
    )
    first.refresh_from_db()
    assert (first.state, first.closed_on) == (Invoice.State.PAID, dt.date(2026, 4, 20))
    assert ageing(org, MARCH_15) == (D("660.00"), 1, D("660.00"))
    assert ageing(org, dt.date(2026, 4, 15)) == (D("2320.00"), 2, D("2320.00"))
    assert ageing(org, dt.date(2026, 4, 20)) == (D("1160.00"), 1, D("1160.00"))
    assert problems(org) == []


def test_a_credit_applied_later_is_reversed_too():
    org = books()
    company = CompanyFactory.create(organisation=org)
    payment = services.payment_receive(
        organisation=org, company=company, date=dt.date(2026, 2, 1), amount=D("2000.00")
    )
    invoice = issued_invoice(org, company=company)
    allocation = services.payment_allocate(
        payment=payment, invoice=invoice, amount=D("1160.00"), date=dt.date(2026, 3, 11)
    )
    cancelled = services.payment_cancel(payment=payment, date=dt.date(2026, 3, 20))

    reversals = JournalEntry.objects.filter(organisation=org, source="payment_cancel")
    assert sorted(reversals.values_list("kind", "reverses_id")) == [
        ("income", payment.entry_id),
        ("journal", allocation.entry_id),
    ]
    assert cancelled.cancellation_entry is not None
    assert cancelled.cancellation_entry.reverses_id == payment.entry_id
    assert lines(reversals.get(reverses_id=allocation.entry_id)) == [
        ("1105", D("1160.00"), ZERO),
        ("2106", ZERO, D("1160.00")),
    ]
    invoice.refresh_from_db()
    assert (invoice.state, invoice.amount_paid, invoice.closed_on) == ("issued", ZERO, None)
    assert balance(org, "1105") == D("1160.00")
    assert balance(org, "2106") == balance(org, "1102") == ZERO
    assert ageing(org, dt.date(2026, 3, 15)) == (ZERO, 0, ZERO)
    assert ageing(org, dt.date(2026, 3, 20)) == (D("1160.00"), 1, D("1160.00"))
    assert problems(org) == []
    # A cancelled payment has no credit left to apply.
    other = issued_invoice(org, company=company)
    refused(
        org,
        "This payment is cancelled",
        services.payment_allocate,
        payment=cancelled,
        invoice=other,
        amount=D("10.00"),
    )


def test_the_change_log_records_the_cancellation():
    org = books()
    payment, first, _second = paid_two_invoices(org)
    services.payment_cancel(payment=payment, date=APRIL_10, reason="Duplicado")

    def changes(record: Any) -> list[ObjectChange]:
        return list(
            ObjectChange.objects.filter(
                content_type=ContentType.objects.get_for_model(record),
                object_id=str(record.pk),
                action=ObjectChange.Action.UPDATE,
            )
        )

    (change,) = changes(payment)
    before, after = change.prechange_data or {}, change.postchange_data or {}
    assert before["cancelled_on"] is None
    assert (after["cancelled_on"], after["cancellation_reason"]) == ("2026-04-10", "Duplicado")
    assert (changes(first)[-1].postchange_data or {})["state"] == "issued"
    assert all(changes(allocation) for allocation in payment.allocations.all())
    reversal = Payment.objects.get(pk=payment.pk).cancellation_entry
    assert reversal is not None
    assert ObjectChange.objects.filter(
        content_type=ContentType.objects.get_for_model(JournalEntry),
        object_id=str(reversal.pk),
        action=ObjectChange.Action.CREATE,
    ).exists()


def test_cancelling_twice_or_too_early_is_refused_and_writes_nothing():
    org = books()
    payment, _first, _second = paid_two_invoices(org)
    error = refused(
        org,
        "cannot be cancelled before",
        services.payment_cancel,
        payment=payment,
        date=dt.date(2026, 3, 14),
    )
    assert "date" in error.message_dict
    services.payment_cancel(payment=payment, date=APRIL_10)
    refused(
        org,
        "already cancelled on 2026-04-10",
        services.payment_cancel,
        payment=payment,
        date=dt.date(2026, 4, 11),
    )


def test_a_date_before_a_later_allocation_is_refused():
    org = books()
    company = CompanyFactory.create(organisation=org)
    payment = services.payment_receive(
        organisation=org, company=company, date=dt.date(2026, 2, 1), amount=D("2000.00")
    )
    invoice = issued_invoice(org, company=company)
    services.payment_allocate(
        payment=payment, invoice=invoice, amount=D("100.00"), date=dt.date(2026, 3, 11)
    )
    error = refused(
        org,
        "allocated on 2026-03-11",
        services.payment_cancel,
        payment=payment,
        date=dt.date(2026, 3, 10),
    )
    assert list(error.message_dict) == ["date"]


def test_a_closed_period_or_the_lock_date_refuses_and_writes_nothing():
    org = books()
    payment, _first, _second = paid_two_invoices(org)
    april = Period.objects.get(organisation=org, start=dt.date(2026, 4, 1))
    services.period_close(period=april)
    error = refused(
        org, "is closed", services.payment_cancel, payment=payment, date=APRIL_10, reason="x"
    )
    assert list(error.message_dict) == ["date"]
    services.period_reopen(period=april)
    services.lock_date_set(organisation=org, date=dt.date(2026, 4, 30))
    refused(org, "locked", services.payment_cancel, payment=payment, date=APRIL_10)
    services.payment_cancel(payment=payment, date=dt.date(2026, 5, 4))
    assert problems(org) == []


def test_a_reason_too_long_is_refused():
    org = books()
    payment, _first, _second = paid_two_invoices(org)
    error = refused(
        org,
        "At most 200",
        services.payment_cancel,
        payment=payment,
        date=APRIL_10,
        reason="x" * 201,
    )
    assert list(error.message_dict) == ["reason"]


def test_a_reopened_invoice_is_paid_again_only_from_the_cancellation_on():
    org = books()
    payment, first, _second = paid_two_invoices(org)
    services.payment_cancel(payment=payment, date=APRIL_10)
    # Paying it on an earlier day would count it paid twice on the days between.
    refused(
        org,
        "was cancelled on 2026-04-10",
        services.payment_receive,
        organisation=org,
        company=first.company,
        date=dt.date(2026, 4, 1),
        amount=D("1160.00"),
        allocations=[(first, D("1160.00"))],
    )


def test_a_reopened_invoice_is_cancelled_only_from_the_payment_cancellation_on():
    org = books()
    payment, first, _second = paid_two_invoices(org)
    services.payment_cancel(payment=payment, date=APRIL_10)
    # On the days between, the invoice was paid: it cannot have been cancelled then.
    error = refused(
        org,
        "was cancelled on 2026-04-10",
        services.invoice_cancel,
        invoice=first,
        date=dt.date(2026, 3, 20),
    )
    assert list(error.message_dict) == ["date"]
    services.invoice_cancel(invoice=first, date=APRIL_10)
    assert ageing(org, MARCH_15) == (D("660.00"), 1, D("660.00"))
    assert ageing(org, APRIL_10) == (D("1160.00"), 1, D("1160.00"))
    assert problems(org) == []


def test_an_allocation_is_not_dated_before_its_invoice():
    org = books()
    invoice = issued_invoice(org)
    error = refused(
        org,
        "is dated 2026-03-10",
        services.payment_receive,
        organisation=org,
        company=invoice.company,
        date=dt.date(2026, 3, 1),
        amount=D("100.00"),
        allocations=[(invoice, D("100.00"))],
    )
    assert list(error.message_dict) == ["date"]


def days_to_pay(*invoices: Invoice) -> list[int | None]:
    return [Invoice.objects.get(pk=invoice.pk).days_to_pay for invoice in invoices]


def test_an_invoice_is_settled_on_the_day_of_its_last_allocation():
    org = books()
    company = CompanyFactory.create(organisation=org)
    credit = services.payment_receive(
        organisation=org, company=company, date=dt.date(2026, 3, 1), amount=D("660.00")
    )
    invoice = issued_invoice(org, company=company)
    services.payment_receive(
        organisation=org,
        company=company,
        date=dt.date(2026, 3, 20),
        amount=D("500.00"),
        allocations=[(invoice, D("500.00"))],
    )
    # The credit is applied on an earlier day than the other payment.
    services.payment_allocate(
        payment=credit, invoice=invoice, amount=D("660.00"), date=dt.date(2026, 3, 12)
    )
    invoice.refresh_from_db()
    assert (invoice.state, invoice.closed_on) == (Invoice.State.PAID, dt.date(2026, 3, 20))
    # Its days to pay run to that day too (from 10 March), not to the credit's 12 March.
    assert invoice.days_to_pay == 10
    assert ageing(org, dt.date(2026, 3, 15)) == (D("500.00"), 1, D("500.00"))
    # A cancelled invoice and its credit note have none.
    cancelled = issued_invoice(org, company=company)
    credit_note = services.invoice_cancel(invoice=cancelled, date=APRIL_10)
    assert days_to_pay(cancelled, credit_note) == [None, None]


def test_an_invoice_keeps_its_days_to_pay_only_while_it_is_paid():
    org = books()
    # Both dated 10 March: the first paid in full on 15 March, 500.00 of the second.
    payment, first, second = paid_two_invoices(org)
    assert days_to_pay(first, second) == [5, None]
    services.payment_cancel(payment=payment, date=APRIL_10)
    assert days_to_pay(first, second) == [None, None]
    services.payment_receive(
        organisation=org,
        company=first.company,
        date=APRIL_10,
        amount=D("1820.00"),
        allocations=[(first, D("1160.00")), (second, D("660.00"))],
    )
    assert days_to_pay(first, second) == [31, None]
    services.payment_receive(
        organisation=org,
        company=second.company,
        date=dt.date(2026, 4, 20),
        amount=D("500.00"),
        allocations=[(second, D("500.00"))],
    )
    assert days_to_pay(first, second) == [31, 41]
    # The payment times count the days of the payments that stand, not the cancelled one.
    data = reports.payment_times(
        organisation=org, start=dt.date(2026, 3, 1), end=dt.date(2026, 4, 30), by="month"
    )
    assert [(row["paid"], row["mean_days"]) for row in data.rows] == [(0, None), (2, D(36))]
    assert data.total is not None
    assert (data.total["paid"], data.total["mean_days"], data.total["median_days"]) == (
        2,
        D(36),
        D(36),
    )
    assert problems(org) == []


def test_cancelled_payments_are_not_counted_as_received():
    org = books()
    payment, _first, _second = paid_two_invoices(org)
    kept = services.payment_receive(
        organisation=org, company=payment.company, date=MARCH_15, amount=D("100.00")
    )
    services.payment_cancel(payment=payment, date=APRIL_10)
    (received,) = selectors.payments_received(
        organisation=org, start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31), by=None
    )
    assert (received["payments"], received["amount"]) == (1, kept.amount)


# Payments made ----------------------------------------------------------------------------------


def paid_bill(org: Organisation) -> tuple[Bill, BillPayment, BillPayment]:
    bill = services.bill_post(bill=draft_bill(org, amount="500.00"))
    first = services.bill_pay(bill=bill, date=dt.date(2026, 3, 10), amount=D("300.00"))
    second = services.bill_pay(bill=bill, date=dt.date(2026, 3, 20), amount=D("280.00"))
    bill.refresh_from_db()
    assert (bill.state, bill.closed_on) == (Bill.State.PAID, dt.date(2026, 3, 20))
    return bill, first, second


def test_cancelling_a_payment_made_reverses_it_and_the_bill_owes_again():
    org = books()
    bill, first, second = paid_bill(org)
    cancelled = services.bill_payment_cancel(
        payment=second, date=dt.date(2026, 4, 2), reason="Transferencia rechazada"
    )
    bill.refresh_from_db()
    assert (bill.state, bill.amount_paid, bill.balance_due, bill.closed_on) == (
        Bill.State.POSTED,
        D("300.00"),
        D("280.00"),
        None,
    )
    reversal = cancelled.cancellation_entry
    assert reversal is not None and reversal.reverses_id == second.entry_id
    assert (reversal.kind, reversal.source) == ("expense", "bill_payment_cancel")
    assert lines(reversal) == [("1102", D("280.00"), ZERO), ("2101", ZERO, D("280.00"))]
    assert balance(org, "2101") == D("-280.00")
    assert problems(org) == []
    refused(
        org,
        "already cancelled",
        services.bill_payment_cancel,
        payment=second,
        date=dt.date(2026, 4, 3),
    )
    error = refused(
        org,
        "cannot be cancelled before",
        services.bill_payment_cancel,
        payment=first,
        date=dt.date(2026, 3, 9),
    )
    assert list(error.message_dict) == ["date"]
    services.period_close(period=Period.objects.get(organisation=org, start=dt.date(2026, 4, 1)))
    refused(
        org,
        "is closed",
        services.bill_payment_cancel,
        payment=first,
        date=dt.date(2026, 4, 2),
    )
    # With every payment cancelled, the bill can be cancelled.
    services.bill_payment_cancel(payment=first, date=dt.date(2026, 5, 2))
    services.bill_cancel(bill=bill, date=dt.date(2026, 5, 2))
    assert problems(org) == []


# At once, on PostgreSQL ---------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="races only on PostgreSQL")
def test_cancelling_at_once_cancels_once_and_reopens_each_invoice_once():
    org = books()
    payment, first, second = paid_two_invoices(org)
    other = services.payment_receive(
        organisation=org,
        company=payment.company,
        date=MARCH_15,
        amount=D("660.00"),
        allocations=[(second, D("660.00"))],
    )
    jobs: list[Callable[[], Any]] = [
        partial(services.payment_cancel, payment=payment, date=APRIL_10) for _ in range(4)
    ]
    jobs.append(partial(services.payment_cancel, payment=other, date=APRIL_10))
    results = run_together(jobs)
    assert [type(r) for r in results].count(Payment) == 2, results
    refusals = [r for r in results if isinstance(r, ValidationError)]
    assert len(refusals) == 3 and all("already cancelled" in str(r) for r in refusals)
    for invoice in (first, second):
        invoice.refresh_from_db()
        assert (invoice.state, invoice.amount_paid) == (Invoice.State.ISSUED, ZERO)
    assert JournalEntry.objects.filter(organisation=org, source="payment_cancel").count() == 2
    assert problems(org) == []


# Pages -------------------------------------------------------------------------------------------


@pytest.fixture
def org() -> Organisation:
    return books(OrganisationFactory.create(slug="camara", name="Cámara", language="en"))


@pytest.fixture
def web(client: Client, org: Organisation) -> Client:
    client.force_login(member_of(org, Role.FINANCE))
    return client


def url(org: Organisation, name: str, *args: Any) -> str:
    return reverse(f"finance:{name}", args=[org.slug, *args])


def test_a_payment_is_cancelled_from_its_page(web: Client, org: Organisation):
    payment, first, _second = paid_two_invoices(org)
    page = web.get(payment.get_absolute_url())
    assert page.context["may_cancel"]
    assert 'data-testid="payment-actions"' in page.content.decode()
    assert "Cancel payment" in page.content.decode()

    response = web.post(url(org, "payment_cancel", payment.pk), {"date": "2026-03-01"})
    assert response.status_code == 200 and response.context["cancel_open"]
    assert "cannot be cancelled before" in response.content.decode()
    assert Payment.objects.get(pk=payment.pk).cancelled_on is None

    response = web.post(
        url(org, "payment_cancel", payment.pk), {"date": "2026-04-10", "reason": "Rebotado"}
    )
    assert response.status_code == 302 and response["Location"] == payment.get_absolute_url()
    page = web.get(payment.get_absolute_url())
    content = page.content.decode()
    assert not page.context["may_cancel"] and not page.context["may_allocate"]
    assert "Cancelled on April 10, 2026" in content
    reversal = Payment.objects.get(pk=payment.pk).cancellation_entry
    assert reversal is not None and reversal.get_absolute_url() in content
    assert "Rebotado" in content
    # The invoice shows the cancelled allocation; the entry page links back to the payment.
    invoice_page = web.get(first.get_absolute_url()).content.decode()
    assert 'data-cancelled="true"' in invoice_page
    entry_page = web.get(reversal.get_absolute_url())
    assert entry_page.context["document"]["object"] == payment
    # A second cancellation is a message on the form, and writes nothing.
    response = web.post(url(org, "payment_cancel", payment.pk), {"date": "2026-04-11"})
    assert response.status_code == 200
    assert "already cancelled" in response.content.decode()


def test_the_payments_list_filters_cancelled(web: Client, org: Organisation):
    payment, _first, _second = paid_two_invoices(org)
    kept = services.payment_receive(
        organisation=org, company=payment.company, date=MARCH_15, amount=D("100.00")
    )
    services.payment_cancel(payment=payment, date=APRIL_10)

    def listed(**params: str) -> set[int]:
        response = web.get(url(org, "payment_list"), params)
        assert response.status_code == 200
        return {row.record.pk for row in response.context["table"].rows}

    assert listed() == {payment.pk, kept.pk}
    assert listed(cancelled="true") == {payment.pk}
    assert listed(cancelled="false") == {kept.pk}
    assert listed(unallocated="true") == {kept.pk}


def test_a_payment_made_is_cancelled_from_its_page(web: Client, org: Organisation):
    bill, _first, second = paid_bill(org)
    page = web.get(second.get_absolute_url())
    assert page.context["may_cancel"] and "Cancel payment" in page.content.decode()
    response = web.post(url(org, "billpayment_cancel", second.pk), {"date": "nonsense"})
    assert response.status_code == 200 and response.context["cancel_open"]
    response = web.post(url(org, "billpayment_cancel", second.pk), {"date": "2026-04-02"})
    assert response.status_code == 302
    page = web.get(second.get_absolute_url())
    assert not page.context["may_cancel"]
    assert "Cancelled on April 2, 2026" in page.content.decode()
    assert 'data-cancelled="true"' in web.get(bill.get_absolute_url()).content.decode()
    response = web.get(url(org, "billpayment_list"), {"cancelled": "true"})
    assert [row.record.pk for row in response.context["table"].rows] == [second.pk]


def test_readers_and_other_organisations_cannot_cancel(client: Client, org: Organisation):
    payment, _first, _second = paid_two_invoices(org)
    _bill, _paid, bill_payment = paid_bill(org)
    client.force_login(member_of(org, Role.VIEWER))
    assert not client.get(payment.get_absolute_url()).context["may_cancel"]
    assert client.post(url(org, "payment_cancel", payment.pk)).status_code == 403
    assert client.post(url(org, "billpayment_cancel", bill_payment.pk)).status_code == 403
    # Another organisation's finance officer: its payments are not found.
    other = books(OrganisationFactory.create(slug="otra", language="en"))
    client.force_login(member_of(other, Role.FINANCE))
    for name, pk in (("payment", payment.pk), ("billpayment", bill_payment.pk)):
        assert client.get(url(other, f"{name}_detail", pk)).status_code == 404
        assert client.post(url(other, f"{name}_cancel", pk), {}).status_code == 404
    assert client.post(url(org, "payment_cancel", payment.pk)).status_code in (403, 404)
    assert Payment.objects.get(pk=payment.pk).cancelled_on is None
    assert BillPayment.objects.get(pk=bill_payment.pk).cancelled_on is None


def test_cancel_answers_post_only(web: Client, org: Organisation):
    payment, _first, _second = paid_two_invoices(org)
    _bill, _paid, bill_payment = paid_bill(org)
    assert web.get(url(org, "payment_cancel", payment.pk)).status_code == 405
    assert web.get(url(org, "billpayment_cancel", bill_payment.pk)).status_code == 405


# API ----------------------------------------------------------------------------------------------


def api(user: Any) -> Client:
    _token, key = core_services.api_token_create(user=user, name="tests")
    return Client(headers={"Authorization": f"Token {key}"})


def api_post(client: Client, org: Organisation, path: str, data: Any = None) -> Any:
    return client.post(
        f"/api/v1/{org.slug}/finance/{path}", data or {}, content_type="application/json"
    )


def test_the_api_cancels_payments(org: Organisation):
    payment, _first, _second = paid_two_invoices(org)
    client = api(member_of(org, Role.FINANCE))
    before = world(org)
    response = api_post(client, org, f"payments/{payment.pk}/cancel/", {"date": "2026-03-01"})
    assert response.status_code == 400
    assert list(response.json()) == ["date"]
    response = api_post(client, org, f"payments/{payment.pk}/cancel/", {"reason": "x" * 201})
    assert response.status_code == 400 and list(response.json()) == ["reason"]
    assert world(org) == before

    response = api_post(
        client, org, f"payments/{payment.pk}/cancel/", {"date": "2026-04-10", "reason": "SPEI"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["cancelled_on"], body["cancellation_reason"], body["allocated"]) == (
        "2026-04-10",
        "SPEI",
        "0.00",
    )
    assert body["cancellation_entry"] == Payment.objects.get(pk=payment.pk).cancellation_entry_id
    assert {row["cancelled_on"] for row in body["allocations"]} == {"2026-04-10"}
    response = api_post(client, org, f"payments/{payment.pk}/cancel/")
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["This payment was already cancelled on 2026-04-10."]
    }
    listed = client.get(f"/api/v1/{org.slug}/finance/payments/", {"cancelled": "true"}).json()
    assert [row["id"] for row in listed["results"]] == [payment.pk]


def test_the_api_cancels_payments_made(org: Organisation):
    bill, _first, second = paid_bill(org)
    client = api(member_of(org, Role.FINANCE))
    response = api_post(client, org, f"bill-payments/{second.pk}/cancel/", {"date": "2026-03-01"})
    assert response.status_code == 400 and list(response.json()) == ["date"]
    response = api_post(client, org, f"bill-payments/{second.pk}/cancel/", {"date": "2026-04-02"})
    assert response.status_code == 200, response.content
    assert response.json()["cancelled_on"] == "2026-04-02"
    bill.refresh_from_db()
    assert bill.state == Bill.State.POSTED
    response = api_post(client, org, f"bill-payments/{second.pk}/cancel/")
    assert response.status_code == 400 and "non_field_errors" in response.json()


def test_the_api_refuses_readers_and_other_organisations(org: Organisation):
    payment, _first, _second = paid_two_invoices(org)
    _bill, _paid, bill_payment = paid_bill(org)
    reader = api(member_of(org, Role.VIEWER))
    assert api_post(reader, org, f"payments/{payment.pk}/cancel/").status_code == 403
    assert api_post(reader, org, f"bill-payments/{bill_payment.pk}/cancel/").status_code == 403
    other = books(OrganisationFactory.create(slug="otra", language="en"))
    outsider = api(member_of(other, Role.ADMIN))
    for path in (f"payments/{payment.pk}", f"bill-payments/{bill_payment.pk}"):
        assert outsider.get(f"/api/v1/{other.slug}/finance/{path}/").status_code == 404
        assert api_post(outsider, other, f"{path}/cancel/").status_code == 404
    assert Payment.objects.get(pk=payment.pk).cancelled_on is None
    assert BillPayment.objects.get(pk=bill_payment.pk).cancelled_on is None
