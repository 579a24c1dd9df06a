"""Batch dues invoicing: bill every membership whose billing interval starts in a month.

A membership bills its fee in intervals of its plan's frequency counted from
its start (monthly, quarterly, every six months, yearly). Running the batch
for a month issues one invoice per interval starting in that month; an
interval already billed (and not cancelled) is skipped, so a second run bills
nobody twice — the database's unique (membership, billed_from) makes sure of
it even when two runs overlap. Invoices are written and posted in chunks, in
bulk, through ``posting.entries_post``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from gremio.core.changelog import record_creations
from gremio.core.models import Organisation
from gremio.core.money import round_money
from gremio.core.reports import add_months, month_end
from gremio.members.models import Membership, MembershipPlan, MembershipStatus

from .classification import classification
from .models import Invoice, InvoiceLine, InvoiceSeries, VatRate
from .posting import EntrySpec, Line, entries_post, finance_settings, insert_rows, next_numbers

MONTHS: dict[str, int] = {
    MembershipPlan.Frequency.MONTHLY: 1,
    MembershipPlan.Frequency.QUARTERLY: 3,
    MembershipPlan.Frequency.SEMIANNUAL: 6,
    MembershipPlan.Frequency.ANNUAL: 12,
}
CHUNK = 1000
# What the change log keeps of each invoice a batch issues.
LOGGED_FIELDS: tuple[str, ...] = (
    "series",
    "number",
    "company",
    "date",
    "due_date",
    "total",
    "membership",
)
LOGGED_FIELDS += ("billed_from", "billed_to", "entry", "state")
INVOICE_LINE_COLUMNS: tuple[str, ...] = (
    "organisation",
    "invoice",
    "description",
    "account",
    "quantity",
)
INVOICE_LINE_COLUMNS += ("unit_price", "vat_rate", "amount", "vat")
BILLABLE = (MembershipStatus.ACTIVE, MembershipStatus.GRACE, MembershipStatus.PENDING)


@dataclass
class BatchResult:
    month: dt.date
    issued: int = 0
    already_billed: int = 0
    total: Decimal = Decimal(0)


def intervals_starting_in(
    membership: Membership, months: int, first: dt.date, last: dt.date
) -> Iterator[tuple[dt.date, dt.date]]:
    """The (from, to) billing intervals of ``membership`` that start between two dates."""
    step = 0
    # Jump close to ``first`` instead of walking from a start years ago.
    elapsed = (first.year - membership.start.year) * 12 + first.month - membership.start.month
    if elapsed > months:
        step = elapsed // months - 1
    while True:
        start = add_months(membership.start, step * months)
        if start > last or start > membership.end:
            return
        end = min(
            add_months(membership.start, (step + 1) * months) - dt.timedelta(days=1), membership.end
        )
        if start >= first:
            yield start, end
        step += 1


Due = tuple[Membership, dt.date, dt.date, Decimal]


def dues_to_bill(*, organisation: Organisation, month: dt.date) -> tuple[list[Due], int]:
    """The billing intervals starting in ``month`` not yet billed, and how many are."""
    first = month.replace(day=1)
    last = month_end(first)
    memberships = (
        Membership.objects.filter(
            organisation=organisation,
            status__in=BILLABLE,
            start__lte=last,
            end__gte=first,
        )
        .filter(Q(resigned_on__isnull=True) | Q(resigned_on__gt=first))
        # The company's sector too: each invoice keeps its sector group.
        .select_related("plan", "company__sector")
        .order_by("pk")
    )
    due: list[Due] = []
    for membership in memberships.iterator(chunk_size=2000):
        months = MONTHS.get(membership.plan.frequency, 12)
        fee = membership.fee if membership.fee is not None else membership.plan.fee
        amount = round_money(fee * months / 12, organisation.currency)
        if amount <= 0:
            continue
        for start, end in intervals_starting_in(membership, months, first, last):
            due.append((membership, start, end, amount))
    billed = set(
        Invoice.objects.filter(
            organisation=organisation,
            is_credit_note=False,
            billed_from__gte=first,
            billed_from__lte=last,
            membership__isnull=False,
        )
        .exclude(state=Invoice.State.CANCELLED)
        .values_list("membership_id", "billed_from")
    )
    todo = [item for item in due if (item[0].pk, item[1]) not in billed]
    return todo, len(due) - len(todo)


def dues_invoice_batch(
    *,
    organisation: Organisation,
    month: dt.date,
    user: Any = None,
    series: InvoiceSeries | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BatchResult:
    """Issue the dues invoices of every billing interval starting in ``month``."""
    first = month.replace(day=1)
    settings = finance_settings(organisation)
    series = (
        series
        or InvoiceSeries.objects.filter(
            organisation=organisation, kind=InvoiceSeries.Kind.INVOICE, active=True
        )
        .order_by("prefix")
        .first()
    )
    if series is None or series.organisation_id != organisation.pk:
        raise ValidationError(
            {"series": _("Create an active invoice series first.")}, code="no_series"
        )
    todo, already_billed = dues_to_bill(organisation=organisation, month=first)
    result = BatchResult(month=first, already_billed=already_billed)
    for start in range(0, len(todo), CHUNK):
        chunk = todo[start : start + CHUNK]
        with transaction.atomic():
            result.total += _issue_chunk(organisation, settings, series, chunk, user)
        result.issued += len(chunk)
        if progress:
            progress(result.issued, len(todo))
    return result


def _issue_chunk(
    organisation: Organisation,
    settings: Any,
    series: InvoiceSeries,
    chunk: list[Due],
    user: Any,
) -> Decimal:
    rate = settings.dues_vat_rate
    vat_share = VatRate.rate(rate)
    first_number = next_numbers(
        organisation=organisation, key=f"invoice:{series.pk}", count=len(chunk)
    )
    invoices, specs, lines = [], [], []
    total = Decimal(0)
    for offset, (membership, start, end, amount) in enumerate(chunk):
        vat = round_money(amount * vat_share, organisation.currency)
        number = first_number + offset
        date = start
        description = _("Membership dues {plan}, {start} to {end}").format(
            plan=membership.plan.name, start=start.isoformat(), end=end.isoformat()
        )
        sector_id, chamber_id = classification(membership.company)
        invoice = Invoice(
            organisation=organisation,
            series=series,
            number=number,
            company=membership.company,
            sector_id=sector_id,
            chamber_id=chamber_id,
            date=date,
            due_date=date + dt.timedelta(days=settings.payment_terms_days),
            currency=organisation.currency,
            language=Invoice.Language.ES
            if organisation.language.startswith("es")
            else Invoice.Language.EN,
            state=Invoice.State.ISSUED,
            subtotal=amount,
            vat=vat,
            total=amount + vat,
            membership=membership,
            billed_from=start,
            billed_to=end,
        )
        entry_lines = [
            Line(account=settings.receivable_account, debit=amount + vat),
            Line(account=settings.dues_income_account, credit=amount),
        ]
        if vat:
            entry_lines.append(Line(account=settings.vat_output_account, credit=vat))
        specs.append(
            EntrySpec(
                date=date,
                memo=_("Invoice {number} · {company}").format(
                    number=f"{series.prefix}-{number}", company=membership.company
                ),
                lines=entry_lines,
                company_id=membership.company_id,
                source="invoice",
            )
        )
        invoices.append(invoice)
        lines.append((description[:250], amount, vat))
        total += amount + vat
    entries = entries_post(organisation=organisation, specs=specs, user=user, log=False)
    for invoice, entry in zip(invoices, entries, strict=True):
        invoice.entry = entry
    Invoice.objects.bulk_create(invoices, batch_size=500)
    account_id = settings.dues_income_account_id
    insert_rows(
        InvoiceLine,
        INVOICE_LINE_COLUMNS,
        [
            (organisation.pk, invoice.pk, text, account_id, Decimal(1), amount, rate, amount, vat)
            for invoice, (text, amount, vat) in zip(invoices, lines, strict=True)
        ],
    )
    record_creations(list(invoices), fields=LOGGED_FIELDS)
    return total


def dues_batch_job(
    reporter: Any, *, organisation: Organisation, month: str, user_id: int | None
) -> dict[str, Any]:
    """Job: the batch for a month, reporting progress; its result is what the page shows."""
    from django.contrib.auth import get_user_model

    from gremio.core.changelog import change_context

    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    with change_context(user, label="dues batch"):
        result = dues_invoice_batch(
            organisation=organisation,
            month=dt.date.fromisoformat(month),
            user=user,
            progress=lambda done, total: reporter.progress(done, total),
        )
    return {
        "month": result.month.isoformat(),
        "issued": result.issued,
        "already_billed": result.already_billed,
        "total": str(result.total),
    }
