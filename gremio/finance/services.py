"""Writes with the finance rules: entries, periods, invoices, payments, bills.

Every service runs in one transaction and posts through ``posting.entries_post``;
a refused operation raises ``ValidationError`` and leaves nothing written.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from gremio.core.models import Organisation
from gremio.core.money import round_money

from .classification import classify
from .models import (
    ZERO,
    Account,
    Allocation,
    Bill,
    BillLine,
    BillPayment,
    EntryKind,
    FinanceSettings,
    Invoice,
    InvoiceLine,
    InvoiceSeries,
    JournalEntry,
    Payment,
    Period,
    VatRate,
)
from .posting import (
    EntrySpec,
    Line,
    amount_text,
    entries_post,
    finance_settings,
    next_numbers,
    reversal_spec,
)

# Journal entries ---------------------------------------------------------------------


@transaction.atomic
def entry_post(
    *,
    organisation: Organisation,
    date: dt.date,
    memo: str,
    lines: Sequence[Line],
    kind: str = EntryKind.JOURNAL,
    company: Any = None,
    user: Any = None,
) -> JournalEntry:
    """Post a manual journal entry (about ``company`` when one is given)."""
    if company is not None and company.organisation_id != organisation.pk:
        raise ValidationError({"company": _("Unknown company.")}, code="unknown")
    spec = EntrySpec(
        date=date,
        memo=memo,
        lines=list(lines),
        kind=kind,
        company_id=company.pk if company is not None else None,
    )
    return entries_post(organisation=organisation, specs=[spec], user=user)[0]


@transaction.atomic
def entry_reverse(
    *, entry: JournalEntry, date: dt.date | None = None, user: Any = None
) -> JournalEntry:
    """Post the entry that undoes ``entry``, on ``date`` (its own date by default)."""
    entry = JournalEntry.objects.select_for_update().get(pk=entry.pk)
    if not entry.is_posted:
        raise ValidationError(_("Only a posted entry can be reversed."), code="not_posted")
    if entry.reverses_id is not None:
        raise ValidationError(_("A reversal cannot itself be reversed."), code="is_reversal")
    if JournalEntry.objects.filter(reverses=entry).exists():
        raise ValidationError(_("This entry is already reversed."), code="already_reversed")
    if entry.source:
        raise ValidationError(
            _("This entry belongs to a document: cancel the document instead."), code="document"
        )
    spec = reversal_spec(entry, date=date or entry.date)
    return entries_post(organisation=entry.organisation, specs=[spec], user=user)[0]


# Periods and the lock date ------------------------------------------------------------


@transaction.atomic
def period_close(*, period: Period, user: Any = None) -> Period:
    """Close a period: nothing posts into it until an administrator reopens it."""
    period = Period.objects.select_for_update().get(pk=period.pk)
    if period.is_closed:
        raise ValidationError(_("The period is already closed."), code="closed")
    drafts = JournalEntry.objects.filter(period=period, state=JournalEntry.State.DRAFT).count()
    if drafts:
        raise ValidationError(
            _("{count} draft entries remain in this period: post or delete them first.").format(
                count=drafts
            ),
            code="drafts",
        )
    period.status = Period.Status.CLOSED
    period.closed_at = timezone.now()
    period.closed_by = user if getattr(user, "is_authenticated", False) else None
    period.save()
    return period


@transaction.atomic
def period_reopen(*, period: Period, user: Any = None) -> Period:
    """Reopen a closed period (administrators only; the change log keeps who did)."""
    period = Period.objects.select_for_update().get(pk=period.pk)
    if not period.is_closed:
        raise ValidationError(_("The period is open."), code="open")
    settings = finance_settings(period.organisation)
    if settings.lock_date and period.start <= settings.lock_date:
        raise ValidationError(
            _("The books are locked up to {lock}: this period cannot reopen.").format(
                lock=settings.lock_date.isoformat()
            ),
            code="locked",
        )
    period.status = Period.Status.OPEN
    period.closed_at = None
    period.closed_by = None
    period.save()
    return period


@transaction.atomic
def lock_date_set(*, organisation: Organisation, date: dt.date) -> FinanceSettings:
    """Move the hard lock date forward; it never moves back."""
    settings = FinanceSettings.objects.select_for_update().get(pk=finance_settings(organisation).pk)
    if settings.lock_date and date < settings.lock_date:
        raise ValidationError(
            {
                "lock_date": _("The lock date only moves forward (it is {lock}).").format(
                    lock=settings.lock_date.isoformat()
                )
            },
            code="backwards",
        )
    if date >= timezone.localdate() + dt.timedelta(days=1):
        raise ValidationError(
            {"lock_date": _("The lock date cannot be in the future.")}, code="future"
        )
    settings.lock_date = date
    settings.save()
    return settings


# Invoices -------------------------------------------------------------------------------


def check_currency(organisation: Organisation, currency: str) -> None:
    if currency != organisation.currency:
        raise ValidationError(
            {
                "currency": _(
                    "Documents are in the organisation's currency, {currency}; "
                    "{other} is not accepted."
                ).format(currency=organisation.currency, other=currency)
            },
            code="currency",
        )


def invoice_compute(*, invoice: Invoice, lines: Sequence[InvoiceLine]) -> None:
    """Set each line's amount and VAT and the invoice's totals, rounded per line."""
    currency = invoice.organisation.currency
    subtotal = vat = ZERO
    for line in lines:
        line.amount = round_money(line.quantity * line.unit_price, currency)
        line.vat = round_money(line.amount * VatRate.rate(line.vat_rate), currency)
        subtotal += line.amount
        vat += line.vat
    invoice.subtotal, invoice.vat, invoice.total = subtotal, vat, subtotal + vat


@transaction.atomic
def invoice_save(*, invoice: Invoice, lines: Sequence[InvoiceLine]) -> Invoice:
    """Save a draft invoice with its lines (replacing the old ones)."""
    if invoice.pk and Invoice.objects.filter(pk=invoice.pk).exclude(state="draft").exists():
        raise ValidationError(_("Only a draft invoice can be changed."), code="not_draft")
    check_currency(invoice.organisation, invoice.currency)
    for line in lines:
        # A service's line counts under the service's pillar unless one is chosen.
        if line.service_id and not line.pillar_id:
            line.pillar_id = line.service.pillar_id  # type: ignore[union-attr]
    invoice_compute(invoice=invoice, lines=lines)
    invoice.full_clean()
    # After the checks: the company's own sector and chamber need none.
    classify(invoice)
    invoice.save()
    invoice.lines.all().delete()
    for line in lines:
        line.organisation = invoice.organisation
        line.invoice = invoice
        line.full_clean()
    InvoiceLine.objects.bulk_create(lines)
    return invoice


def document_delete(*, document: Invoice | Bill) -> None:
    """Delete a draft invoice or bill with its lines; an issued or posted one stays."""
    locked = type(document).objects.select_for_update().get(pk=document.pk)
    if locked.state != "draft":
        message = (
            _("Only a draft invoice can be deleted.")
            if isinstance(document, Invoice)
            else _("Only a draft bill can be deleted.")
        )
        raise ValidationError(message, code="not_draft")
    locked.delete()


def _invoice_spec(
    invoice: Invoice, lines: Sequence[InvoiceLine], settings: FinanceSettings
) -> EntrySpec:
    entry_lines = [
        Line(
            account=settings.receivable_account,
            debit=invoice.total,
            description=str(invoice.company)[:250],
        )
    ]
    by_account: dict[tuple[Account, int | None], Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        by_account[(line.account, line.pillar_id)] += line.amount
    for (account, pillar_id), amount in by_account.items():
        entry_lines.append(Line(account=account, credit=amount, pillar_id=pillar_id))
    if invoice.vat:
        entry_lines.append(Line(account=settings.vat_output_account, credit=invoice.vat))
    return EntrySpec(
        date=invoice.date,
        memo=_("Invoice {number} · {company}").format(
            number=invoice.reference, company=invoice.company
        ),
        lines=entry_lines,
        kind=EntryKind.JOURNAL,
        company_id=invoice.company_id,
        source="invoice",
    )


def _check_issuable(invoice: Invoice, lines: Sequence[InvoiceLine]) -> None:
    if invoice.state != Invoice.State.DRAFT:
        raise ValidationError(_("Only a draft invoice can be issued."), code="not_draft")
    if invoice.series.kind != InvoiceSeries.Kind.INVOICE or not invoice.series.active:
        raise ValidationError({"series": _("Choose an active invoice series.")}, code="series")
    check_currency(invoice.organisation, invoice.currency)
    if not lines or invoice.total <= 0:
        raise ValidationError(_("An invoice needs lines and a total above zero."), code="empty")


@transaction.atomic
def invoice_issue(*, invoice: Invoice, user: Any = None) -> Invoice:
    """Number the invoice in its series and post it: receivable against income and VAT.

    The invoice keeps its company's sector and chamber as they are when it is issued.
    """
    invoice = (
        Invoice.objects.select_for_update()
        .select_related("series", "company", "organisation")
        .get(pk=invoice.pk)
    )
    lines = list(invoice.lines.select_related("account"))
    invoice_compute(invoice=invoice, lines=lines)
    _check_issuable(invoice, lines)
    settings = finance_settings(invoice.organisation)
    if invoice.due_date is None:
        invoice.due_date = invoice.date + dt.timedelta(days=settings.payment_terms_days)
    invoice.number = next_numbers(
        organisation=invoice.organisation, key=f"invoice:{invoice.series_id}"
    )
    spec = _invoice_spec(invoice, lines, settings)
    (invoice.entry,) = entries_post(
        organisation=invoice.organisation, specs=[spec], user=user, settings=settings
    )
    invoice.state = Invoice.State.ISSUED
    classify(invoice)
    invoice.save()
    return invoice


@transaction.atomic
def invoice_cancel(*, invoice: Invoice, date: dt.date | None = None, user: Any = None) -> Invoice:
    """Cancel an unpaid invoice with a credit note that reverses its entry."""
    invoice = (
        # ``of``: PostgreSQL locks no nullable side of an outer join (the entry).
        Invoice.objects.select_for_update(of=("self",))
        .select_related("series", "company", "organisation", "entry")
        .get(pk=invoice.pk)
    )
    if invoice.state != Invoice.State.ISSUED or invoice.is_credit_note:
        raise ValidationError(_("Only an issued invoice can be cancelled."), code="not_issued")
    if invoice.amount_paid:
        raise ValidationError(
            _("{amount} of this invoice is paid: it cannot be cancelled.").format(
                amount=amount_text(invoice.amount_paid)
            ),
            code="paid",
        )
    date = date or max(
        invoice.date, invoice.payment_cancelled_on or invoice.date, timezone.localdate()
    )
    if date < invoice.date:
        raise ValidationError({"date": _("A credit note cannot predate its invoice.")})
    if invoice.payment_cancelled_on and date < invoice.payment_cancelled_on:
        # Until then a payment counted: the invoice cannot be both paid and cancelled.
        raise ValidationError(
            {
                "date": _(
                    "A payment of this invoice was cancelled on {date}: "
                    "the credit note cannot predate it."
                ).format(date=invoice.payment_cancelled_on.isoformat())
            },
            code="before_cancellation",
        )
    series = InvoiceSeries.objects.filter(
        organisation=invoice.organisation, kind=InvoiceSeries.Kind.CREDIT_NOTE, active=True
    ).first()
    if series is None:
        raise ValidationError(_("Create an active credit-note series first."), code="no_series")
    credit_note = Invoice.objects.create(
        organisation=invoice.organisation,
        series=series,
        number=next_numbers(organisation=invoice.organisation, key=f"invoice:{series.pk}"),
        is_credit_note=True,
        company=invoice.company,
        date=date,
        due_date=date,
        currency=invoice.currency,
        language=invoice.language,
        state=Invoice.State.ISSUED,
        subtotal=invoice.subtotal,
        vat=invoice.vat,
        total=invoice.total,
        credit_note_for=invoice,
        closed_on=date,
        sector_id=invoice.sector_id,
        chamber_id=invoice.chamber_id,
    )
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            organisation=line.organisation,
            invoice=credit_note,
            description=line.description,
            service_id=line.service_id,
            account_id=line.account_id,
            pillar_id=line.pillar_id,
            quantity=line.quantity,
            unit_price=line.unit_price,
            vat_rate=line.vat_rate,
            amount=line.amount,
            vat=line.vat,
        )
        for line in invoice.lines.all()
    )
    assert invoice.entry is not None
    spec = reversal_spec(invoice.entry, date=date)
    spec.source = "credit_note"
    spec.memo = _("Credit note {number} cancels {invoice}").format(
        number=credit_note.reference, invoice=invoice.reference
    )
    (credit_note.entry,) = entries_post(organisation=invoice.organisation, specs=[spec], user=user)
    credit_note.save(update_fields=["entry"])
    invoice.state = Invoice.State.CANCELLED
    invoice.cancelled_on = invoice.closed_on = date
    invoice.save()
    return credit_note


# Payments received ------------------------------------------------------------------------


def _lock_open_invoices(
    organisation: Organisation, company_id: int, wanted: Sequence[tuple[Invoice, Decimal]]
) -> dict[int, Invoice]:
    ids = sorted({invoice.pk for invoice, _amount in wanted})
    invoices = {
        invoice.pk: invoice
        for invoice in Invoice.objects.select_for_update()
        .select_related("series")
        .filter(organisation=organisation, pk__in=ids)
        .order_by("pk")
    }
    asked: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for invoice, amount in wanted:
        locked = invoices.get(invoice.pk)
        if locked is None:
            raise ValidationError({"invoice": _("Unknown invoice.")}, code="unknown")
        if locked.company_id != company_id:
            raise ValidationError(
                {
                    "invoice": _("Invoice {number} is another company's.").format(
                        number=locked.reference
                    )
                },
                code="other_company",
            )
        if locked.state == Invoice.State.CANCELLED:
            raise ValidationError(
                {
                    "invoice": _("Invoice {number} is cancelled: it cannot be paid.").format(
                        number=locked.reference
                    )
                },
                code="cancelled",
            )
        if locked.state != Invoice.State.ISSUED or locked.is_credit_note:
            raise ValidationError(
                {
                    "invoice": _("Invoice {number} is not open for payment.").format(
                        number=locked.reference or locked.pk
                    )
                },
                code="not_open",
            )
        if amount <= 0:
            raise ValidationError(
                {"amount": _("An allocation must be above zero.")}, code="not_positive"
            )
        asked[locked.pk] += amount
        if asked[locked.pk] > locked.balance_due:
            raise ValidationError(
                {
                    "amount": _(
                        "Invoice {number} owes {due}; {amount} cannot be allocated to it."
                    ).format(
                        number=locked.reference,
                        due=amount_text(locked.balance_due),
                        amount=amount_text(asked[locked.pk]),
                    )
                },
                code="over_allocation",
            )
    return invoices


def _check_allocation_date(invoices: dict[int, Invoice], date: dt.date) -> None:
    """An allocation is dated on or after its invoice, and after a cancelled payment of it.

    Otherwise the receivables as of an earlier day would count a payment of an
    invoice not yet owed, or two payments of the same amount owed.
    """
    for invoice in invoices.values():
        if date < invoice.date:
            raise ValidationError(
                {
                    "date": _(
                        "Invoice {number} is dated {invoice_date}: it cannot be paid on {date}."
                    ).format(
                        number=invoice.reference,
                        invoice_date=invoice.date.isoformat(),
                        date=date.isoformat(),
                    )
                },
                code="before_invoice",
            )
        if invoice.payment_cancelled_on and date < invoice.payment_cancelled_on:
            raise ValidationError(
                {
                    "date": _(
                        "A payment of invoice {number} was cancelled on {cancelled}: "
                        "it cannot be paid on an earlier day."
                    ).format(
                        number=invoice.reference,
                        cancelled=invoice.payment_cancelled_on.isoformat(),
                    )
                },
                code="before_cancellation",
            )


def _apply_allocations(
    *,
    payment: Payment,
    invoices: dict[int, Invoice],
    wanted: Sequence[tuple[Invoice, Decimal]],
    date: dt.date,
) -> list[Allocation]:
    allocations = []
    for invoice, amount in wanted:
        locked = invoices[invoice.pk]
        allocation = Allocation(
            organisation=payment.organisation,
            payment=payment,
            invoice=locked,
            date=date,
            amount=amount,
        )
        allocation.save()
        locked.amount_paid += amount
        if locked.amount_paid == locked.total:
            locked.state = Invoice.State.PAID
            # Paid in full once its last allocation applies (a credit may be applied
            # on an earlier day than another payment of the invoice).
            closed_on = max(
                date,
                Allocation.objects.filter(invoice=locked, cancelled_on__isnull=True).aggregate(
                    last=Max("date")
                )["last"],
            )
            locked.closed_on = closed_on
            locked.days_to_pay = (closed_on - locked.date).days
        locked.save(update_fields=["amount_paid", "state", "closed_on", "days_to_pay"])
        allocations.append(allocation)
    return allocations


@transaction.atomic
def payment_receive(
    *,
    organisation: Organisation,
    company: Any,
    date: dt.date,
    amount: Decimal,
    allocations: Sequence[tuple[Invoice, Decimal]] = (),
    bank_account: Account | None = None,
    method: str = "transfer",
    reference: str = "",
    currency: str | None = None,
    notes: str = "",
    user: Any = None,
) -> Payment:
    """Record money received and allocate it; what is left stays as the company's credit.

    Posts bank against receivables (allocated part) and customer advances (the rest).
    """
    settings = finance_settings(organisation)
    check_currency(organisation, currency or organisation.currency)
    amount = round_money(amount, organisation.currency)
    if amount <= 0:
        raise ValidationError({"amount": _("The amount must be above zero.")}, code="not_positive")
    if company.organisation_id != organisation.pk:
        raise ValidationError({"company": _("Unknown company.")}, code="unknown")
    wanted = [
        (invoice, round_money(value, organisation.currency)) for invoice, value in allocations
    ]
    invoices = _lock_open_invoices(organisation, company.pk, wanted)
    _check_allocation_date(invoices, date)
    allocated = sum((value for _invoice, value in wanted), ZERO)
    if allocated > amount:
        raise ValidationError(
            {
                "amount": _("{allocated} is allocated but only {amount} was received.").format(
                    allocated=amount_text(allocated), amount=amount_text(amount)
                )
            },
            code="over_allocation",
        )
    bank = bank_account or settings.bank_account
    if bank.organisation_id != organisation.pk or bank.type != "asset" or not bank.postable:
        raise ValidationError(
            {"bank_account": _("Choose a postable asset account.")}, code="bank_account"
        )
    payment = Payment(
        organisation=organisation,
        company=company,
        date=date,
        amount=amount,
        currency=organisation.currency,
        method=method,
        bank_account=bank,
        reference=reference,
        allocated=allocated,
        notes=notes,
    )
    payment.full_clean(exclude=["entry"])
    # After the checks: the company's own sector and chamber need none.
    classify(payment)
    lines = [Line(account=bank, debit=amount, description=str(company)[:250])]
    if allocated:
        lines.append(Line(account=settings.receivable_account, credit=allocated))
    if amount - allocated:
        lines.append(Line(account=settings.customer_advance_account, credit=amount - allocated))
    spec = EntrySpec(
        date=date,
        memo=_("Payment from {company}").format(company=company)
        + (f" · {reference}" if reference else ""),
        lines=lines,
        kind=EntryKind.INCOME,
        company_id=company.pk,
        source="payment",
    )
    (payment.entry,) = entries_post(organisation=organisation, specs=[spec], user=user)
    payment.save()
    _apply_allocations(payment=payment, invoices=invoices, wanted=wanted, date=date)
    return payment


@transaction.atomic
def payment_allocate(
    *,
    payment: Payment,
    invoice: Invoice,
    amount: Decimal,
    date: dt.date | None = None,
    user: Any = None,
) -> Allocation:
    """Apply part of a payment's unallocated credit to an invoice (advances → receivables)."""
    payment = Payment.objects.select_for_update().select_related("organisation").get(pk=payment.pk)
    if payment.is_cancelled:
        raise ValidationError(
            _("This payment is cancelled: it has no credit to allocate."), code="cancelled"
        )
    organisation = payment.organisation
    amount = round_money(amount, organisation.currency)
    invoices = _lock_open_invoices(organisation, payment.company_id, [(invoice, amount)])
    if amount > payment.unallocated:
        raise ValidationError(
            {
                "amount": _("Only {credit} of this payment is unallocated.").format(
                    credit=amount_text(payment.unallocated)
                )
            },
            code="over_allocation",
        )
    locked = invoices[invoice.pk]
    date = date or max(
        payment.date, locked.date, locked.payment_cancelled_on or locked.date, timezone.localdate()
    )
    _check_allocation_date(invoices, date)
    settings = finance_settings(organisation)
    spec = EntrySpec(
        date=date,
        memo=_("Credit of payment {payment} applied to {invoice}").format(
            payment=payment.pk, invoice=invoices[invoice.pk].reference
        ),
        lines=[
            Line(account=settings.customer_advance_account, debit=amount),
            Line(account=settings.receivable_account, credit=amount),
        ],
        kind=EntryKind.JOURNAL,
        company_id=payment.company_id,
        source="allocation",
    )
    (entry,) = entries_post(organisation=organisation, specs=[spec], user=user)
    # Added here, not in SQL: SQLite adds decimals as floats, and 19.72 + 0.01 there can
    # exceed 19.73 and fail the over-allocation check (the row is locked anyway).
    Payment.objects.filter(pk=payment.pk).update(allocated=payment.allocated + amount)
    (allocation,) = _apply_allocations(
        payment=payment, invoices=invoices, wanted=[(invoice, amount)], date=date
    )
    allocation.entry = entry
    allocation.save(update_fields=["entry"])
    return allocation


REASON_LENGTH = 200  # as Payment.cancellation_reason


def _refuse_cancelled(payment: Payment | BillPayment) -> None:
    """A payment (received or made) is cancelled once."""
    if payment.cancelled_on is not None:
        raise ValidationError(
            _("This payment was already cancelled on {date}.").format(
                date=payment.cancelled_on.isoformat()
            ),
            code="cancelled",
        )


def _cancellation_date(*, date: dt.date | None, earliest: dt.date, latest: dt.date) -> dt.date:
    """The day a payment is cancelled: ``date``, or today (not before ``latest``).

    ``earliest`` is the payment's date; ``latest`` also counts its allocations.
    """
    if date is None:
        return max(latest, timezone.localdate())
    if date < earliest:
        raise ValidationError(
            {
                "date": _("The payment is dated {date}: it cannot be cancelled before.").format(
                    date=earliest.isoformat()
                )
            },
            code="early",
        )
    if date < latest:
        raise ValidationError(
            {
                "date": _(
                    "Part of the payment was allocated on {date}: it cannot be cancelled before."
                ).format(date=latest.isoformat())
            },
            code="early",
        )
    return date


def _cancellation_reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if len(reason) > REASON_LENGTH:
        raise ValidationError(
            {
                "reason": _("At most {count} characters.").format(count=REASON_LENGTH),
            },
            code="too_long",
        )
    return reason


def _cancellation_memo(memo: str, reason: str) -> str:
    return f"{memo} · {reason}" if reason else memo


@transaction.atomic
def payment_cancel(
    *,
    payment: Payment,
    date: dt.date | None = None,
    reason: str = "",
    user: Any = None,
) -> Payment:
    """Cancel a payment received (a bounced cheque, a transfer recorded twice…).

    Posts, on ``date`` (today by default), the reversal of the payment's entry
    (its ``cancellation_entry``) and the reversal of each entry of a credit of
    it applied later (advances → receivables): one reversal per entry, each
    linked to the entry it undoes, so every entry of the payment is reversed
    exactly once. Its allocations stay as history, cancelled on ``date``; each
    invoice it paid owes that amount again (a paid one is open again). Refused,
    with nothing written, for a payment already cancelled, a date before the
    payment or one of its allocations, or a date the books refuse.
    """
    payment = (
        # ``of``: PostgreSQL locks no nullable side of an outer join (the entry).
        Payment.objects.select_for_update(of=("self",))
        .select_related("organisation", "company", "entry")
        .get(pk=payment.pk)
    )
    _refuse_cancelled(payment)
    organisation = payment.organisation
    allocations = list(
        payment.allocations.filter(cancelled_on__isnull=True).select_related("entry").order_by("pk")
    )
    invoices = {
        invoice.pk: invoice
        for invoice in Invoice.objects.select_for_update()
        .filter(organisation=organisation, pk__in={a.invoice_id for a in allocations})
        .order_by("pk")
    }
    date = _cancellation_date(
        date=date,
        earliest=payment.date,
        latest=max([payment.date, *(a.date for a in allocations)]),
    )
    reason = _cancellation_reason(reason)
    assert payment.entry is not None
    spec = reversal_spec(
        payment.entry,
        date=date,
        memo=_cancellation_memo(
            _("Cancellation of payment {payment} · {company}").format(
                payment=payment.pk, company=payment.company
            ),
            reason,
        ),
    )
    specs = [spec]
    for allocation in allocations:
        if allocation.entry is not None:
            specs.append(
                reversal_spec(
                    allocation.entry,
                    date=date,
                    memo=_("Cancellation of payment {payment}: credit applied to {invoice}").format(
                        payment=payment.pk, invoice=invoices[allocation.invoice_id].reference
                    ),
                )
            )
    for each in specs:
        each.source = "payment_cancel"
    entries = entries_post(organisation=organisation, specs=specs, user=user)
    for allocation in allocations:
        allocation.cancelled_on = date
        allocation.save(update_fields=["cancelled_on"])
        invoice = invoices[allocation.invoice_id]
        invoice.amount_paid -= allocation.amount
        if invoice.state == Invoice.State.PAID:
            invoice.state = Invoice.State.ISSUED
            invoice.closed_on = invoice.days_to_pay = None
        invoice.payment_cancelled_on = max(invoice.payment_cancelled_on or date, date)
    for invoice in invoices.values():
        invoice.save(
            update_fields=[
                "amount_paid",
                "state",
                "closed_on",
                "days_to_pay",
                "payment_cancelled_on",
            ]
        )
    payment.allocated = ZERO
    payment.cancelled_on = date
    payment.cancellation_reason = reason
    payment.cancellation_entry = entries[0]
    payment.save(
        update_fields=["allocated", "cancelled_on", "cancellation_reason", "cancellation_entry"]
    )
    return payment


# Supplier bills ------------------------------------------------------------------------------


@transaction.atomic
def bill_save(*, bill: Bill, lines: Sequence[BillLine]) -> Bill:
    """Save a draft bill with its lines (replacing the old ones)."""
    if bill.pk and Bill.objects.filter(pk=bill.pk).exclude(state="draft").exists():
        raise ValidationError(_("Only a draft bill can be changed."), code="not_draft")
    check_currency(bill.organisation, bill.currency)
    currency = bill.organisation.currency
    subtotal = vat = ZERO
    for line in lines:
        line.amount = round_money(line.amount, currency)
        line.vat = round_money(line.amount * VatRate.rate(line.vat_rate), currency)
        subtotal += line.amount
        vat += line.vat
    bill.subtotal, bill.vat, bill.total = subtotal, vat, subtotal + vat
    bill.full_clean()
    bill.save()
    bill.lines.all().delete()
    for line in lines:
        line.organisation = bill.organisation
        line.bill = bill
        line.full_clean()
    BillLine.objects.bulk_create(lines)
    return bill


@transaction.atomic
def bill_post(*, bill: Bill, user: Any = None) -> Bill:
    """Post a supplier bill: expenses (by pillar) and creditable VAT against payables."""
    bill = (
        Bill.objects.select_for_update().select_related("organisation", "supplier").get(pk=bill.pk)
    )
    if bill.state != Bill.State.DRAFT:
        raise ValidationError(_("Only a draft bill can be posted."), code="not_draft")
    check_currency(bill.organisation, bill.currency)
    lines = list(bill.lines.select_related("account"))
    if not lines or bill.total <= 0:
        raise ValidationError(_("A bill needs lines and a total above zero."), code="empty")
    settings = finance_settings(bill.organisation)
    entry_lines = [
        Line(
            account=line.account,
            debit=line.amount,
            pillar_id=line.pillar_id,
            description=line.description,
        )
        for line in lines
    ]
    if bill.vat:
        entry_lines.append(Line(account=settings.vat_input_account, debit=bill.vat))
    entry_lines.append(
        Line(
            account=settings.payable_account,
            credit=bill.total,
            description=str(bill.supplier)[:250],
        )
    )
    spec = EntrySpec(
        date=bill.date,
        memo=_("Bill {reference} · {supplier}").format(
            reference=bill.supplier_reference, supplier=bill.supplier
        ),
        lines=entry_lines,
        kind=EntryKind.JOURNAL,
        company_id=bill.supplier_id,
        source="bill",
    )
    (bill.entry,) = entries_post(organisation=bill.organisation, specs=[spec], user=user)
    if bill.due_date is None:
        bill.due_date = bill.date + dt.timedelta(days=settings.payment_terms_days)
    bill.state = Bill.State.POSTED
    bill.save()
    return bill


@transaction.atomic
def bill_cancel(*, bill: Bill, date: dt.date | None = None, user: Any = None) -> Bill:
    """Cancel an unpaid posted bill by reversing its entry."""
    bill = Bill.objects.select_for_update(of=("self",)).select_related("entry").get(pk=bill.pk)
    if bill.state != Bill.State.POSTED:
        raise ValidationError(_("Only a posted bill can be cancelled."), code="not_posted")
    if bill.amount_paid:
        raise ValidationError(_("A bill with payments cannot be cancelled."), code="paid")
    assert bill.entry is not None
    spec = reversal_spec(bill.entry, date=date or max(bill.date, timezone.localdate()))
    spec.source = "bill_cancel"
    entries_post(organisation=bill.organisation, specs=[spec], user=user)
    bill.state = Bill.State.CANCELLED
    bill.closed_on = spec.date
    bill.save()
    return bill


@transaction.atomic
def bill_pay(
    *,
    bill: Bill,
    date: dt.date,
    amount: Decimal,
    bank_account: Account | None = None,
    method: str = "transfer",
    reference: str = "",
    user: Any = None,
) -> BillPayment:
    """Pay (part of) a posted bill from a bank account."""
    bill = (
        Bill.objects.select_for_update().select_related("organisation", "supplier").get(pk=bill.pk)
    )
    organisation = bill.organisation
    settings = finance_settings(organisation)
    amount = round_money(amount, organisation.currency)
    if bill.state == Bill.State.CANCELLED:
        raise ValidationError(_("This bill is cancelled: it cannot be paid."), code="cancelled")
    if bill.state != Bill.State.POSTED:
        raise ValidationError(_("Only a posted bill can be paid."), code="not_posted")
    if amount <= 0:
        raise ValidationError({"amount": _("The amount must be above zero.")}, code="not_positive")
    if amount > bill.balance_due:
        raise ValidationError(
            {
                "amount": _("The bill owes {due}; {amount} is too much.").format(
                    due=amount_text(bill.balance_due), amount=amount_text(amount)
                )
            },
            code="over_payment",
        )
    if date < bill.date:
        raise ValidationError({"date": _("A payment cannot predate its bill.")}, code="early")
    bank = bank_account or settings.bank_account
    if bank.organisation_id != organisation.pk or bank.type != "asset" or not bank.postable:
        raise ValidationError(
            {"bank_account": _("Choose a postable asset account.")}, code="bank_account"
        )
    spec = EntrySpec(
        date=date,
        memo=_("Payment of bill {reference} · {supplier}").format(
            reference=bill.supplier_reference, supplier=bill.supplier
        ),
        lines=[
            Line(account=settings.payable_account, debit=amount),
            Line(account=bank, credit=amount),
        ],
        kind=EntryKind.EXPENSE,
        company_id=bill.supplier_id,
        source="bill_payment",
    )
    (entry,) = entries_post(organisation=organisation, specs=[spec], user=user)
    payment = BillPayment.objects.create(
        organisation=organisation,
        bill=bill,
        date=date,
        amount=amount,
        method=method,
        bank_account=bank,
        reference=reference,
        entry=entry,
    )
    bill.amount_paid += amount
    if bill.amount_paid == bill.total:
        bill.state = Bill.State.PAID
        bill.closed_on = date
    bill.save(update_fields=["amount_paid", "state", "closed_on"])
    return payment


@transaction.atomic
def bill_payment_cancel(
    *,
    payment: BillPayment,
    date: dt.date | None = None,
    reason: str = "",
    user: Any = None,
) -> BillPayment:
    """Cancel a payment made to a supplier: reverse its entry on ``date`` (today by default).

    The bill owes the amount again (a paid one is to pay again). Refused, with
    nothing written, for a payment already cancelled, a date before the
    payment, or a date the books refuse.
    """
    # The bill first, as paying it does; then the payment.
    bill_id = BillPayment.objects.values_list("bill_id", flat=True).get(pk=payment.pk)
    bill = (
        Bill.objects.select_for_update(of=("self",))
        .select_related("organisation", "supplier")
        .get(pk=bill_id)
    )
    payment = (
        BillPayment.objects.select_for_update(of=("self",))
        .select_related("entry")
        .get(pk=payment.pk)
    )
    _refuse_cancelled(payment)
    date = _cancellation_date(date=date, earliest=payment.date, latest=payment.date)
    reason = _cancellation_reason(reason)
    assert payment.entry is not None
    spec = reversal_spec(
        payment.entry,
        date=date,
        memo=_cancellation_memo(
            _("Cancellation of the payment of bill {reference} · {supplier}").format(
                reference=bill.supplier_reference, supplier=bill.supplier
            ),
            reason,
        ),
    )
    spec.source = "bill_payment_cancel"
    (entry,) = entries_post(organisation=bill.organisation, specs=[spec], user=user)
    bill.amount_paid -= payment.amount
    if bill.state == Bill.State.PAID:
        bill.state = Bill.State.POSTED
        bill.closed_on = None
    bill.save(update_fields=["amount_paid", "state", "closed_on"])
    payment.cancelled_on = date
    payment.cancellation_reason = reason
    payment.cancellation_entry = entry
    payment.save(update_fields=["cancelled_on", "cancellation_reason", "cancellation_entry"])
    return payment
