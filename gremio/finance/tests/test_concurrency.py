"""Concurrent issuing and paying on PostgreSQL: gapless numbers, no overpayment.

Real threads, each with its own database connection, start together at a
barrier. SQLite serialises writers (one transaction at a time, IMMEDIATE), so
these races only exist on PostgreSQL; there the row locks taken by
``next_numbers`` and ``select_for_update`` must make them safe.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction

from gremio.finance import services
from gremio.finance.models import Invoice, JournalEntry
from gremio.finance.verify import ledger_differences
from gremio.members.tests.factories import CompanyFactory

from .factories import books, draft_invoice, issued_invoice, posted_entry

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="concurrent writers race only on PostgreSQL; SQLite runs one writer at a time",
    ),
]


def run_together(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run each job in its own thread and connection, all released at once.

    Returns each job's result, or the exception it raised.
    """
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(index: int, job: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = job()
        except Exception as error:  # reported to the test, which decides
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return results


def test_invoices_issued_at_once_are_numbered_1_to_n_without_gaps():
    org = books()
    company = CompanyFactory.create(organisation=org)
    drafts = [draft_invoice(org, company=company) for _ in range(80)]

    def issue(batch: list[Invoice]) -> list[Any]:
        return [services.invoice_issue(invoice=invoice).number for invoice in batch]

    results = run_together([partial(issue, drafts[i::8]) for i in range(8)])
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    numbers = sorted(n for batch in results for n in batch)
    assert numbers == list(range(1, 81))
    stored = list(
        Invoice.objects.filter(organisation=org, series__prefix="A")
        .order_by("number")
        .values_list("number", flat=True)
    )
    assert stored == list(range(1, 81))
    entries = list(
        JournalEntry.objects.filter(organisation=org, kind="journal")
        .order_by("number")
        .values_list("number", flat=True)
    )
    assert entries == list(range(1, 81))
    assert ledger_differences(org) == []


def test_paying_one_invoice_at_once_never_pays_more_than_it_owes():
    org = books()
    invoice = issued_invoice(org)  # 1,160.00
    amount = Decimal("300.00")

    def pay() -> Any:
        return services.payment_receive(
            organisation=org,
            company=invoice.company,
            date=dt.date(2026, 3, 20),
            amount=amount,
            allocations=[(invoice, amount)],
        )

    results = run_together([pay for _ in range(6)])
    paid = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(paid) == 3  # 900.00; a fourth 300.00 would exceed 1,160.00
    assert len(refused) == 3
    assert all(isinstance(error, ValidationError) for error in refused), refused
    assert all("owes 260.00" in str(error) for error in refused)
    invoice.refresh_from_db()
    assert invoice.amount_paid == Decimal("900.00") <= invoice.total
    assert invoice.allocations.count() == 3
    assert ledger_differences(org) == []


def test_allocating_one_credit_at_once_never_allocates_more_than_it_holds():
    org = books()
    company = CompanyFactory.create(organisation=org)
    payment = services.payment_receive(
        organisation=org, company=company, date=dt.date(2026, 3, 1), amount=Decimal("500.00")
    )
    invoices = [issued_invoice(org, company=company) for _ in range(5)]

    def allocate(invoice: Invoice) -> Any:
        return services.payment_allocate(
            payment=payment, invoice=invoice, amount=Decimal("200.00"), date=dt.date(2026, 3, 20)
        )

    results = run_together([partial(allocate, invoice) for invoice in invoices])
    assert sum(not isinstance(r, Exception) for r in results) == 2
    assert all(isinstance(r, ValidationError) for r in results if isinstance(r, Exception))
    payment.refresh_from_db()
    assert payment.allocated == Decimal("400.00")
    assert ledger_differences(org) == []


def test_the_database_refuses_to_change_a_posted_line():
    org = books()
    entry = posted_entry(org)
    line = entry.lines.get(debit__gt=0)
    with (
        pytest.raises(DatabaseError, match="posted journal entries cannot be changed"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE finance_journalline SET debit = 1 WHERE id = %s", [line.pk])
    line.refresh_from_db()
    assert line.debit == Decimal("100.00")
