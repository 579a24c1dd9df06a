"""Random sequences of finance operations keep the ledger's promises after every step.

A hypothesis state machine issues, pays, allocates, cancels, posts bills and
manual entries, reverses them, cancels payments received and made, and
closes and reopens periods, in any order. It predicts whether each operation
is allowed; a refused one must raise ``ValidationError`` and change nothing
(not even a sequence number). After every step: the trial balance is zero,
the maintained balances equal the lines, the receivables owed equal the
receivables account (now, and as of past days: there the ageing must also
count exactly the invoices owing something then — some of those days after
each step, all of them at the end of each run), a paid invoice keeps the days
from its date to its payment (no other invoice has any), and no posted entry
or line has changed; at the end of each run ``finance_verify`` finds nothing
(numbering, documents' paid and allocated amounts, days to pay).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from gremio.core.models import Organisation, Pillar
from gremio.core.tests.factories import PillarFactory
from gremio.finance import selectors, services
from gremio.finance.models import (
    ZERO,
    Account,
    AccountBalance,
    Allocation,
    Bill,
    BillLine,
    BillPayment,
    Invoice,
    InvoiceLine,
    InvoiceSeries,
    JournalEntry,
    JournalLine,
    Payment,
    Period,
)
from gremio.finance.posting import Line, finance_settings
from gremio.finance.verify import books_check, ledger_differences
from gremio.members.models import Company
from gremio.members.tests.factories import CompanyFactory

from .checks import world
from .factories import account, books

pytestmark = pytest.mark.django_db

# Operations happen in four months across two fiscal years; those are the ones that close.
MONTHS = (dt.date(2025, 11, 1), dt.date(2025, 12, 1), dt.date(2026, 1, 1), dt.date(2026, 2, 1))
CENT = Decimal("0.01")

amounts = st.integers(min_value=1, max_value=500_000).map(lambda cents: Decimal(cents) / 100)
dates = st.builds(
    lambda month, day: MONTHS[month] + dt.timedelta(days=day - 1),
    st.integers(0, len(MONTHS) - 1),
    st.integers(1, 28),
)
picks = st.integers(min_value=0, max_value=10_000)
percents = st.integers(min_value=1, max_value=110)  # above 100: more than allowed
offsets = st.integers(min_value=0, max_value=20)
# Days from the earliest allowed date; below zero, too early: a refusal to check.
shifts = st.integers(min_value=-3, max_value=20)
# The past days the ageing is checked on: before anything, and across the four months.
AGEING_DAYS = (
    dt.date(2025, 10, 31),
    *(month + dt.timedelta(days=offset) for month in MONTHS for offset in (9, 19)),
    dt.date(2026, 3, 31),
)
# Whether a rule looks for a record the operation suits; four times in five.
likely = st.integers(min_value=0, max_value=4).map(bool)


def share(amount: Decimal, percent: int) -> Decimal:
    return max((amount * percent / 100).quantize(CENT, rounding=ROUND_HALF_UP), CENT)


def pick(items: list[Any], index: int) -> Any:
    return items[index % len(items)] if items else None


def choose(items: list[Any], index: int, likely: bool, usable: Callable[[Any], bool]) -> Any:
    """Mostly a usable item (when there is one), sometimes any: a refusal to check."""
    candidates = [item for item in items if usable(item)] if likely else []
    return pick(candidates or items, index)


def posted_rows(organisation: Organisation) -> dict[tuple[str, int], tuple[Any, ...]]:
    """Every field of every posted entry and of its lines."""
    snapshot = {}
    for model, posted in (
        (JournalEntry, {"state": JournalEntry.State.POSTED}),
        (JournalLine, {"entry__state": JournalEntry.State.POSTED}),
    ):
        fields = [field.attname for field in model._meta.concrete_fields]
        for values in model.objects.filter(organisation=organisation, **posted).values_list(
            *fields
        ):
            snapshot[(model.__name__, values[0])] = values
    return snapshot


class LedgerMachine(RuleBasedStateMachine):
    """One organisation's books under random operations; each example starts from empty books."""

    organisation: Organisation
    # (operation, allowed) → how often, over all runs: proves the runs are not vacuous.
    outcomes: Counter[tuple[str, bool]] = Counter()

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        org = self.organisation
        self.settings = finance_settings(org)
        self.customers = list(Company.objects.filter(organisation=org, trade_name__startswith="C"))
        self.supplier = Company.objects.get(organisation=org, trade_name="Proveedor")
        self.pillars: list[Pillar | None] = [*Pillar.objects.filter(organisation=org), None]
        self.income = [self.settings.dues_income_account, account(org, "4102")]
        self.expenses = [account(org, "5106"), account(org, "5203")]
        self.manual_accounts = [account(org, code) for code in ("1101", "1102", "2105", "3101")]
        self.series = InvoiceSeries.objects.get(organisation=org, prefix="A")
        self.posted = posted_rows(org)
        self.bills = 0
        self.ageing_checks = 0

    def teardown(self) -> None:
        try:
            # The whole of finance_verify (numbering, documents) once per run: it is the
            # slowest check, and what it adds to the invariants cannot heal by itself.
            problems = [p for check in books_check(self.organisation) for p in check.problems]
            assert problems == [], problems
            self.check_ageing(AGEING_DAYS)
        finally:
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)

    # Helpers ------------------------------------------------------------------------------

    def is_open(self, day: dt.date) -> bool:
        return not Period.objects.get(
            organisation=self.organisation, start__lte=day, end__gte=day
        ).is_closed

    def attempt(self, allowed: bool, operation: Callable[..., Any], **kwargs: Any) -> Any:
        """Run ``operation``; it must succeed exactly when ``allowed``, else change nothing."""
        before = world(self.organisation)
        self.outcomes[(operation.__name__, allowed)] += 1
        try:
            result = operation(**kwargs)
        except ValidationError:
            assert not allowed, f"{operation.__name__} refused an allowed operation"
            assert world(self.organisation) == before, f"refused {operation.__name__} wrote"
            return None
        assert allowed, f"{operation.__name__} allowed a refused operation"
        return result

    def open_invoices(self, company: Company | None = None) -> list[Invoice]:
        invoices = Invoice.objects.filter(
            organisation=self.organisation, state=Invoice.State.ISSUED, is_credit_note=False
        )
        if company is not None:
            invoices = invoices.filter(company=company)
        return list(invoices.order_by("pk"))

    # Rules ----------------------------------------------------------------------------------

    @initialize(prices=st.lists(amounts, min_size=2, max_size=2), credit=amounts)
    def invoices_and_a_credit(self, prices: list[Decimal], credit: Decimal) -> None:
        """Each run starts with an invoice per customer and a payment on account."""
        for customer, price in zip(self.customers, prices, strict=False):
            draft = services.invoice_save(
                invoice=Invoice(
                    organisation=self.organisation,
                    series=self.series,
                    company=customer,
                    date=MONTHS[0],
                    currency="MXN",
                ),
                lines=[InvoiceLine(description="Cuota", account=self.income[0], unit_price=price)],
            )
            services.invoice_issue(invoice=draft)
        services.payment_receive(
            organisation=self.organisation,
            company=self.customers[0],
            date=MONTHS[0],
            amount=credit,
        )

    @rule(
        customer=picks,
        lines=st.lists(
            st.tuples(amounts, st.sampled_from(["16", "8", "0", "exempt"]), picks, picks),
            min_size=1,
            max_size=3,
        ),
        day=dates,
    )
    def issue_invoice(self, customer: int, lines: list[Any], day: dt.date) -> None:
        draft = services.invoice_save(
            invoice=Invoice(
                organisation=self.organisation,
                series=self.series,
                company=pick(self.customers, customer),
                date=day,
                currency="MXN",
            ),
            lines=[
                InvoiceLine(
                    description="Cuota",
                    account=pick(self.income, income),
                    unit_price=price,
                    vat_rate=rate,
                    pillar=pick(self.pillars, pillar),
                )
                for price, rate, pillar, income in lines
            ],
        )
        self.attempt(self.is_open(day), services.invoice_issue, invoice=draft)

    @rule(
        customer=picks,
        allocations=st.lists(st.tuples(picks, percents), max_size=3),
        extra=st.integers(min_value=-10_000, max_value=100_000),
        day=dates,
    )
    def receive_payment(
        self, customer: int, allocations: list[Any], extra: int, day: dt.date
    ) -> None:
        company = pick(self.customers, customer)
        invoices = self.open_invoices(company)
        wanted = []
        asked: dict[int, Decimal] = {}
        allowed = self.is_open(day)
        for index, percent in allocations if invoices else []:
            invoice = pick(invoices, index)
            value = share(invoice.balance_due, percent)
            wanted.append((invoice, value))
            asked[invoice.pk] = asked.get(invoice.pk, ZERO) + value
            allowed &= asked[invoice.pk] <= invoice.balance_due
            allowed &= day >= max(invoice.date, invoice.payment_cancelled_on or invoice.date)
        amount = sum((value for _invoice, value in wanted), ZERO) + Decimal(extra) / 100
        allowed &= amount > 0 and extra >= 0
        self.attempt(
            allowed,
            services.payment_receive,
            organisation=self.organisation,
            company=company,
            date=day,
            amount=amount,
            allocations=wanted,
        )

    @rule(payment=picks, invoice=picks, percent=percents)
    def allocate_credit(self, payment: int, invoice: int, percent: int) -> None:
        owing = set(
            Invoice.objects.filter(
                organisation=self.organisation, state=Invoice.State.ISSUED, is_credit_note=False
            ).values_list("company_id", flat=True)
        )
        credits = [
            p
            for p in Payment.objects.filter(organisation=self.organisation).order_by("pk")
            if p.unallocated > 0 and p.company_id in owing
        ]
        chosen = pick(credits, payment)
        if chosen is None:
            return
        target = pick(self.open_invoices(chosen.company), invoice)
        amount = share(min(chosen.unallocated, target.balance_due), percent)
        day = max(chosen.date, target.date, target.payment_cancelled_on or target.date)
        allowed = (
            self.is_open(day) and amount <= chosen.unallocated and amount <= target.balance_due
        )
        self.attempt(
            allowed,
            services.payment_allocate,
            payment=chosen,
            invoice=target,
            amount=amount,
            date=day,
        )

    @rule(payment=picks, shift=shifts, likely=likely)
    def cancel_payment(self, payment: int, shift: int, likely: bool) -> None:
        payments = list(Payment.objects.filter(organisation=self.organisation).order_by("pk"))
        # Mostly one that paid invoices: cancelling it reopens them, and the credits on
        # account stay for allocate_credit.
        chosen = choose(
            payments, payment, likely, lambda p: p.cancelled_on is None and p.allocated > 0
        )
        if chosen is None:
            return
        latest = max(
            [
                chosen.date,
                *Allocation.objects.filter(payment=chosen, cancelled_on__isnull=True).values_list(
                    "date", flat=True
                ),
            ]
        )
        day = latest + dt.timedelta(days=shift)
        allowed = chosen.cancelled_on is None and shift >= 0 and self.is_open(day)
        self.attempt(allowed, services.payment_cancel, payment=chosen, date=day, reason="Rebotado")

    @rule(
        amount=amounts,
        rate=st.sampled_from(["16", "0", "exempt"]),
        expense=picks,
        pillar=picks,
        day=dates,
        pay=st.none() | percents,
        offset=offsets,
    )
    def post_and_pay_bill(
        self,
        amount: Decimal,
        rate: str,
        expense: int,
        pillar: int,
        day: dt.date,
        pay: int | None,
        offset: int,
    ) -> None:
        self.bills += 1
        draft = services.bill_save(
            bill=Bill(
                organisation=self.organisation,
                supplier=self.supplier,
                supplier_reference=f"F-{self.bills}",
                date=day,
                currency="MXN",
            ),
            lines=[
                BillLine(
                    description="Servicio",
                    account=pick(self.expenses, expense),
                    amount=amount,
                    vat_rate=rate,
                    pillar=pick(self.pillars, pillar),
                )
            ],
        )
        posted = self.attempt(self.is_open(day), services.bill_post, bill=draft)
        if posted is not None and pay is not None:
            self.bill_pay(posted, pay, offset)

    def posted_bill(self, index: int, likely: bool) -> Bill | None:
        """A bill; with ``likely``, one that can still be paid or cancelled, if any."""
        bills = list(
            Bill.objects.filter(organisation=self.organisation)
            .exclude(state=Bill.State.DRAFT)
            .order_by("pk")
        )
        return choose(bills, index, likely, lambda bill: bill.state == Bill.State.POSTED)

    @rule(bill=picks, percent=percents, offset=offsets, likely=likely)
    def pay_bill(self, bill: int, percent: int, offset: int, likely: bool) -> None:
        chosen = self.posted_bill(bill, likely)
        if chosen is not None:
            self.bill_pay(chosen, percent, offset)

    def bill_pay(self, bill: Bill, percent: int, offset: int) -> None:
        amount = share(bill.balance_due or bill.total, percent)
        day = bill.date + dt.timedelta(days=offset)
        allowed = (
            bill.state == Bill.State.POSTED and amount <= bill.balance_due and self.is_open(day)
        )
        self.attempt(allowed, services.bill_pay, bill=bill, date=day, amount=amount)

    @rule(payment=picks, shift=shifts, likely=likely)
    def cancel_bill_payment(self, payment: int, shift: int, likely: bool) -> None:
        payments = list(BillPayment.objects.filter(organisation=self.organisation).order_by("pk"))
        chosen = choose(payments, payment, likely, lambda p: p.cancelled_on is None)
        if chosen is None:
            return
        day = chosen.date + dt.timedelta(days=shift)
        allowed = chosen.cancelled_on is None and shift >= 0 and self.is_open(day)
        self.attempt(allowed, services.bill_payment_cancel, payment=chosen, date=day)

    @rule(bill=picks, offset=offsets, likely=likely)
    def cancel_bill(self, bill: int, offset: int, likely: bool) -> None:
        chosen = self.posted_bill(bill, likely)
        if chosen is None:
            return
        day = chosen.date + dt.timedelta(days=offset)
        allowed = chosen.state == Bill.State.POSTED and not chosen.amount_paid and self.is_open(day)
        self.attempt(allowed, services.bill_cancel, bill=chosen, date=day)

    @rule(amount=amounts, debit=picks, credit=picks, day=dates)
    def post_manual_entry(self, amount: Decimal, debit: int, credit: int, day: dt.date) -> None:
        self.attempt(
            self.is_open(day),
            services.entry_post,
            organisation=self.organisation,
            date=day,
            memo="Ajuste manual",
            lines=[
                Line(account=pick(self.manual_accounts, debit), debit=amount),
                Line(account=pick(self.manual_accounts, credit), credit=amount),
            ],
        )

    @rule(entry=picks, offset=offsets, likely=likely)
    def reverse_manual_entry(self, entry: int, offset: int, likely: bool) -> None:
        reversed_ids = set(
            JournalEntry.objects.filter(
                organisation=self.organisation, reverses__isnull=False
            ).values_list("reverses_id", flat=True)
        )
        manual = list(
            JournalEntry.objects.filter(organisation=self.organisation, source="").order_by("pk")
        )
        chosen = choose(
            manual,
            entry,
            likely,
            lambda e: e.reverses_id is None and e.pk not in reversed_ids,
        )
        if chosen is None:
            return
        day = chosen.date + dt.timedelta(days=offset)
        allowed = chosen.reverses_id is None and chosen.pk not in reversed_ids and self.is_open(day)
        self.attempt(allowed, services.entry_reverse, entry=chosen, date=day)

    @rule(invoice=picks, offset=offsets, likely=likely)
    def cancel_invoice(self, invoice: int, offset: int, likely: bool) -> None:
        issued = list(
            Invoice.objects.filter(
                organisation=self.organisation, is_credit_note=False, number__isnull=False
            ).order_by("pk")
        )
        chosen = choose(
            issued,
            invoice,
            likely,
            lambda i: i.state == Invoice.State.ISSUED and not i.amount_paid,
        )
        if chosen is None:
            return
        day = chosen.date + dt.timedelta(days=offset)
        allowed = (
            chosen.state == Invoice.State.ISSUED
            and not chosen.amount_paid
            and self.is_open(day)
            and day >= (chosen.payment_cancelled_on or day)
        )
        self.attempt(allowed, services.invoice_cancel, invoice=chosen, date=day)

    def period_from(self, month: int, *, closed: bool) -> Period:
        """The first period from ``month`` on that is (not) closed; else ``month``'s own."""
        periods = {
            period.start: period
            for period in Period.objects.filter(organisation=self.organisation, start__in=MONTHS)
        }
        for start in MONTHS[month:] + MONTHS[:month]:
            if periods[start].is_closed == closed:
                return periods[start]
        return periods[MONTHS[month]]

    @rule(month=st.integers(0, len(MONTHS) - 1))
    def close_period(self, month: int) -> None:
        period = self.period_from(month, closed=False)
        self.attempt(not period.is_closed, services.period_close, period=period)

    @rule(month=st.integers(0, len(MONTHS) - 1))
    def reopen_period(self, month: int) -> None:
        period = self.period_from(month, closed=True)
        self.attempt(period.is_closed, services.period_reopen, period=period)

    # Invariants -----------------------------------------------------------------------------

    @invariant()
    def trial_balance_is_zero(self) -> None:
        totals = AccountBalance.objects.filter(organisation=self.organisation).aggregate(
            debit=Sum("debit"), credit=Sum("credit")
        )
        assert (totals["debit"] or ZERO) == (totals["credit"] or ZERO)

    @invariant()
    def balances_equal_the_lines(self) -> None:
        assert ledger_differences(self.organisation) == []

    @invariant()
    def receivables_owed_equal_the_receivables_account(self) -> None:
        owed = Invoice.objects.filter(
            organisation=self.organisation,
            is_credit_note=False,
            state__in=[Invoice.State.ISSUED, Invoice.State.PAID],
        )
        by_amount_paid = sum((i.total - i.amount_paid for i in owed), ZERO)
        allocated = Allocation.objects.filter(
            invoice__in=owed, cancelled_on__isnull=True
        ).aggregate(total=Sum("amount"))
        by_allocations = sum((i.total for i in owed), ZERO) - (allocated["total"] or ZERO)
        receivable: Account = self.settings.receivable_account
        kept = AccountBalance.objects.filter(account=receivable).aggregate(
            debit=Sum("debit"), credit=Sum("credit")
        )
        balance = (kept["debit"] or ZERO) - (kept["credit"] or ZERO)
        assert by_amount_paid == by_allocations == balance

    @invariant()
    def paid_invoices_keep_their_days_to_pay(self) -> None:
        for state, date, closed_on, days in Invoice.objects.filter(
            organisation=self.organisation
        ).values_list("state", "date", "closed_on", "days_to_pay"):
            if state == Invoice.State.PAID:
                assert closed_on is not None, date
                assert days == (closed_on - date).days, (date, closed_on, days)
            else:
                assert days is None, (state, days)

    @invariant()
    def the_ageing_of_past_days_equals_the_receivables_account(self) -> None:
        # A fifth of the days after each step, in turn (the ORM builds the ageing's query in
        # about 10 ms); all of them at the end of each run.
        self.ageing_checks += 1
        self.check_ageing(AGEING_DAYS[self.ageing_checks % 5 :: 5])

    def check_ageing(self, days: tuple[dt.date, ...]) -> None:
        """As of each day: the ageing's total is the receivables account's balance then, and
        it counts exactly the invoices that owed something then (owed as recomputed here
        from the allocations in effect that day)."""
        org = self.organisation
        invoices = list(
            Invoice.objects.filter(organisation=org, is_credit_note=False, number__isnull=False)
        )
        allocations = list(Allocation.objects.filter(organisation=org))
        ledger = selectors.Ledger(organisation=org)
        for day in days:
            expected: dict[int, Decimal] = {}
            for invoice in invoices:
                if invoice.date > day or (invoice.cancelled_on and invoice.cancelled_on <= day):
                    continue
                paid = sum(
                    (
                        a.amount
                        for a in allocations
                        if a.invoice_id == invoice.pk
                        and a.date <= day
                        and (a.cancelled_on is None or a.cancelled_on > day)
                    ),
                    ZERO,
                )
                if invoice.total - paid:
                    expected[invoice.pk] = invoice.total - paid
            _rows, overall = selectors.receivables_by_company(organisation=org, as_of=day)
            control = selectors.account_balance_as_of(
                organisation=org,
                account_id=self.settings.receivable_account_id,
                day=day,
                ledger=ledger,
            )
            owed = sum(expected.values(), ZERO)
            assert all(value > 0 for value in expected.values()), (day, expected)
            assert overall["total"] == owed == control, (day, overall, owed, control)
            assert overall["invoices"] == len(expected), (day, overall, expected)

    @invariant()
    def posted_rows_never_change(self) -> None:
        now = posted_rows(self.organisation)
        for key, values in self.posted.items():
            assert now.get(key) == values, f"posted {key} changed"
        self.posted = now


def test_random_operations_keep_the_books_consistent():
    org = books(first=dt.date(2025, 1, 1), last=dt.date(2026, 12, 31))
    for n in range(2):
        PillarFactory.create(organisation=org)
        CompanyFactory.create(organisation=org, trade_name=f"Cliente {n}")
    CompanyFactory.create(organisation=org, trade_name="Proveedor")
    LedgerMachine.organisation = org
    LedgerMachine.outcomes.clear()
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    # Not vacuous: every operation succeeded in some run, and some were refused.
    done = {name for (name, allowed), count in LedgerMachine.outcomes.items() if allowed and count}
    assert done == {
        "invoice_issue",
        "invoice_cancel",
        "payment_receive",
        "payment_allocate",
        "bill_post",
        "bill_pay",
        "bill_cancel",
        "payment_cancel",
        "bill_payment_cancel",
        "entry_post",
        "entry_reverse",
        "period_close",
        "period_reopen",
    }
    assert sum(count for (_name, allowed), count in LedgerMachine.outcomes.items() if not allowed)
